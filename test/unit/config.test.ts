import { describe, expect, it } from 'vitest';
import { activeRoles, DEVELOPMENT_SECRETS, parseEnv } from '../../src/infra/config/env.js';

describe('environment', () => {
  it('has development defaults for a local run', () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(env.KAFKA_PAYMENT_TOPIC).toBe('payment.events');
    expect(env.RATE_LIMIT_MAX).toBe(100);
    expect(env.CORS_ORIGINS).toEqual([]);
    expect(env.EXPIRY_BATCH_SIZE).toBe(1000);
    expect(env.LOCK_LEASE_MS).toBe(30_000);
    expect([...activeRoles(env)]).toEqual(['api', 'worker', 'bridge', 'scheduler']);
  });

  it('parses lists and numbers', () => {
    const env = parseEnv({ KAFKA_BROKERS: 'a:1, b:2', ROLES: 'api,worker', RATE_LIMIT_MAX: '0' });
    expect(env.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect([...activeRoles(env)]).toEqual(['api', 'worker']);
    expect(env.RATE_LIMIT_MAX).toBe(0);
  });

  it.each([
    ['PORT', '70000'],
    ['PORT', '3.5'],
    ['REDIS_URL', 'http://localhost'],
    ['RATE_LIMIT_WINDOW_MS', '0'],
    ['EXPIRY_BATCH_SIZE', '0'],
    ['LOCK_LEASE_MS', '99'],
    ['LOG_LEVEL', 'loud'],
    ['JWT_SECRET', 'short'],
    ['NODE_ENV', 'staging'],
  ])('names %s when it is %s', (name, value) => {
    expect(() => parseEnv({ [name]: value })).toThrow(
      new RegExp(`^Invalid environment variable ${name}: `),
    );
  });

  it('refuses each development secret in production', () => {
    const real = {
      JWT_SECRET: 'x'.repeat(32),
      CODE_HASH_SECRET: 'y'.repeat(32),
      ADMIN_PASSWORD: 'z'.repeat(16),
      CODE_ENCRYPTION_KEY: 'ab'.repeat(32),
    };
    expect(() => parseEnv({ NODE_ENV: 'production', ...real })).not.toThrow();
    for (const name of Object.keys(DEVELOPMENT_SECRETS)) {
      const { [name as keyof typeof real]: _, ...rest } = real;
      expect(() => parseEnv({ NODE_ENV: 'production', ...rest })).toThrow(name);
    }
  });

  it('refuses an ADMIN_PASSWORD under 16 characters in production, with one line', () => {
    const secrets = {
      JWT_SECRET: 'x'.repeat(32),
      CODE_HASH_SECRET: 'y'.repeat(32),
      CODE_ENCRYPTION_KEY: 'ab'.repeat(32),
    };
    expect(() =>
      parseEnv({ NODE_ENV: 'production', ...secrets, ADMIN_PASSWORD: 'p'.repeat(15) }),
    ).toThrow(
      /^Invalid environment variable ADMIN_PASSWORD: must be at least 16 characters when NODE_ENV=production$/,
    );
    expect(() =>
      parseEnv({ NODE_ENV: 'production', ...secrets, ADMIN_PASSWORD: 'p'.repeat(16) }),
    ).not.toThrow();
    // Outside production a short one is a developer's choice.
    expect(parseEnv({ ADMIN_PASSWORD: 'p' }).ADMIN_PASSWORD).toBe('p');
  });

  it('reads TRUSTED_PROXIES as addresses and ranges, none by default', () => {
    expect(parseEnv({}).TRUSTED_PROXIES).toEqual([]);
    expect(
      parseEnv({ TRUSTED_PROXIES: ' 10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1, loopback' })
        .TRUSTED_PROXIES,
    ).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1', 'loopback']);
    for (const bad of ['10.0.0.0/33', 'proxy.example', '300.1.1.1', '10.0.0.1, nope', '*']) {
      expect(() => parseEnv({ TRUSTED_PROXIES: bad }), bad).toThrow(
        /^Invalid environment variable TRUSTED_PROXIES: "[^"]+" is not an IP address or CIDR range/,
      );
    }
  });

  it('reads ADMIN_READ_ONLY as a boolean', () => {
    expect(parseEnv({}).ADMIN_READ_ONLY).toBe(false);
    expect(parseEnv({ ADMIN_READ_ONLY: 'true' }).ADMIN_READ_ONLY).toBe(true);
    expect(() => parseEnv({ ADMIN_READ_ONLY: 'yes' })).toThrow(
      /^Invalid environment variable ADMIN_READ_ONLY: /,
    );
  });

  it('takes CODE_ENCRYPTION_KEY as 32 bytes in hex or base64, and refuses anything else with one line', () => {
    const hex = 'a1'.repeat(32);
    const base64 = Buffer.alloc(32, 7).toString('base64');
    expect(parseEnv({ CODE_ENCRYPTION_KEY: hex }).CODE_ENCRYPTION_KEY).toBe(hex);
    expect(parseEnv({ CODE_ENCRYPTION_KEY: base64 }).CODE_ENCRYPTION_KEY).toBe(base64);
    expect(parseEnv({}).CODE_ENCRYPTION_KEY).toBe(DEVELOPMENT_SECRETS.CODE_ENCRYPTION_KEY);
    for (const bad of [
      'a1'.repeat(31),
      'a1'.repeat(33),
      'zz'.repeat(32),
      Buffer.alloc(31).toString('base64'),
      Buffer.alloc(33).toString('base64'),
      'not a key',
    ]) {
      expect(() => parseEnv({ CODE_ENCRYPTION_KEY: bad })).toThrow(
        /^Invalid environment variable CODE_ENCRYPTION_KEY: must be 32 bytes written as 64 hex digits or as base64$/,
      );
    }
  });

  it('reads CODE_EXPORT_TTL_HOURS, 24 by default', () => {
    expect(parseEnv({}).CODE_EXPORT_TTL_HOURS).toBe(24);
    expect(parseEnv({ CODE_EXPORT_TTL_HOURS: '2' }).CODE_EXPORT_TTL_HOURS).toBe(2);
    expect(() => parseEnv({ CODE_EXPORT_TTL_HOURS: '0' })).toThrow(
      /^Invalid environment variable CODE_EXPORT_TTL_HOURS:/,
    );
  });
});
