import { describe, expect, it } from 'vitest';
import { settingsProblem } from '../../src/infra/redis/durability.js';

const durable = { appendonly: 'yes', maxmemoryPolicy: 'noeviction', appendfsync: 'everysec' };

describe('settingsProblem', () => {
  it('accepts AOF with no eviction; REDIS_FSYNC=always also needs appendfsync always', () => {
    expect(settingsProblem(durable, 'everysec')).toBeNull();
    expect(settingsProblem({ ...durable, appendfsync: 'always' }, 'always')).toBeNull();
    expect(settingsProblem(durable, 'always')).toMatch(/appendfsync is everysec \(needs always\)/);
  });

  it('names the setting that loses jobs', () => {
    expect(settingsProblem({ ...durable, appendonly: 'no' }, 'everysec')).toMatch(
      /appendonly is no \(needs yes\)/,
    );
    expect(settingsProblem({ ...durable, maxmemoryPolicy: 'allkeys-lru' }, 'everysec')).toMatch(
      /maxmemory-policy is allkeys-lru \(needs noeviction\)/,
    );
    expect(settingsProblem({ ...durable, appendonly: undefined }, 'everysec')).toMatch(
      /appendonly is unknown/,
    );
  });
});
