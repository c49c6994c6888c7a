import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogLevel } from '../../src/infra/kafka/client.js';

describe('kafkaLogLevel', () => {
  it("writes kafkajs's error responses, which its callers retry, as warnings", () => {
    expect(kafkaLogLevel('Connection', logLevel.ERROR)).toBe('warn');
  });

  it('keeps the other lines at their level', () => {
    expect(kafkaLogLevel('Consumer', logLevel.ERROR)).toBe('error');
    expect(kafkaLogLevel('Producer', logLevel.WARN)).toBe('warn');
    expect(kafkaLogLevel('Connection', logLevel.WARN)).toBe('warn');
    expect(kafkaLogLevel('Connection', logLevel.INFO)).toBe('info');
  });
});
