import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogLevel, LIMITED_RETRIES } from '../../src/infra/kafka/client.js';

describe('kafkaLogLevel', () => {
  it("writes kafkajs's error responses, which its callers retry, as warnings", () => {
    expect(kafkaLogLevel('Connection', logLevel.ERROR, 'Response InitProducerId')).toBe('warn');
  });

  it("writes the idempotent producer's bounded-retries warning at debug", () => {
    expect(kafkaLogLevel('Producer', logLevel.WARN, LIMITED_RETRIES)).toBe('debug');
  });

  it('keeps the other lines at their level', () => {
    expect(kafkaLogLevel('Consumer', logLevel.ERROR, 'Crash')).toBe('error');
    expect(kafkaLogLevel('Producer', logLevel.WARN, 'x')).toBe('warn');
    expect(kafkaLogLevel('Connection', logLevel.WARN, 'x')).toBe('warn');
    expect(kafkaLogLevel('Connection', logLevel.INFO, 'x')).toBe('info');
  });
});
