import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/infra/config/env.js';
import { ormConfig } from '../../src/infra/db/orm.js';
import { pgSsl } from '../../src/infra/db/ssl.js';
import { kafkaConfig, kafkaConnection } from '../../src/infra/kafka/client.js';
import { isTlsFailure, redisTls } from '../../src/infra/redis/connection.js';
import { certificateFiles, PEM, refused } from './env-fixtures.js';

const { dir, caFile, notPem } = certificateFiles('connections');

describe('encrypted connections: the environment', () => {
  it('defaults to plain connections, as before', () => {
    const env = parseEnv({});
    expect(env.REDIS_TLS_CA_FILE).toBeUndefined();
    expect(env.REDIS_TLS_REJECT_UNAUTHORIZED).toBe(true);
    expect(env.KAFKA_SSL).toBe(false);
    expect(env.KAFKA_SASL_MECHANISM).toBeUndefined();
    expect(redisTls(env)).toBeUndefined();
    expect(kafkaConnection(env)).toEqual({ brokers: ['127.0.0.1:9092'] });
    expect(pgSsl(env.DATABASE_URL)).toBeUndefined();
  });

  it.each<[Record<string, string>, string]>([
    [
      { DATABASE_URL: 'postgres://h/db?sslmode=prefer' },
      'DATABASE_URL: sslmode must be one of disable, require, verify-ca, verify-full \\(allow and prefer cannot fall back here\\)',
    ],
    [
      {
        DATABASE_URL: `postgres://h/db?sslmode=verify-full&sslrootcert=${join(dir, 'missing.pem')}`,
      },
      'DATABASE_URL: sslrootcert names a file that cannot be read',
    ],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL: must be a postgres:// or postgresql:// URL'],
    [
      { REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_FILE: join(dir, 'missing.pem') },
      'REDIS_TLS_CA_FILE: must name a readable PEM file of CA certificates',
    ],
    [
      { REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_FILE: notPem },
      'REDIS_TLS_CA_FILE: must name a readable PEM file of CA certificates',
    ],
    [
      { REDIS_TLS_CA_FILE: caFile },
      'REDIS_TLS_CA_FILE: is set but REDIS_URL is not a rediss:// URL',
    ],
    [
      { REDIS_TLS_REJECT_UNAUTHORIZED: 'no' },
      'REDIS_TLS_REJECT_UNAUTHORIZED: must be true or false',
    ],
    [{ KAFKA_SSL: 'yes' }, 'KAFKA_SSL: must be true or false'],
    [{ KAFKA_SSL_CA_FILE: caFile }, 'KAFKA_SSL_CA_FILE: is set but KAFKA_SSL is not true'],
    [
      { KAFKA_SASL_MECHANISM: 'gssapi' },
      'KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512',
    ],
    [
      { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'p' },
      'KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM',
    ],
    [
      { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' },
      'KAFKA_SASL_PASSWORD: is required with KAFKA_SASL_MECHANISM',
    ],
    [
      { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' },
      'KAFKA_SASL_MECHANISM: is required with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD',
    ],
  ])('refuses %j with one line', (vars, line) => refused(vars, line));

  it('refuses SASL PLAIN without TLS in production only', () => {
    const sasl = {
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    };
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(32),
      CODE_HASH_SECRET: 'y'.repeat(32),
      ADMIN_PASSWORD: 'z'.repeat(16),
      CODE_ENCRYPTION_KEY: 'ab'.repeat(32),
    };
    refused(
      { ...production, ...sasl },
      'KAFKA_SASL_MECHANISM: plain sends the password in clear: set KAFKA_SSL=true',
    );
    expect(() => parseEnv({ ...production, ...sasl, KAFKA_SSL: 'true' })).not.toThrow();
    expect(() => parseEnv(sasl)).not.toThrow();
  });
});

describe('encrypted connections: what reaches each client', () => {
  it('Redis: rediss:// gets TLS with the CA file and the verification choice', () => {
    expect(redisTls({ REDIS_URL: 'rediss://h:6380' })).toEqual({ rejectUnauthorized: true });
    expect(redisTls(parseEnv({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_FILE: caFile }))).toEqual(
      { rejectUnauthorized: true, ca: PEM },
    );
    expect(
      redisTls(parseEnv({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_REJECT_UNAUTHORIZED: 'false' })),
    ).toEqual({ rejectUnauthorized: false });
    expect(redisTls(parseEnv({ REDIS_URL: 'redis://h:6379' }))).toBeUndefined();
  });

  it('Redis: a certificate failure is told apart from a refused connection', () => {
    expect(isTlsFailure(Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toBe(
      true,
    );
    expect(
      isTlsFailure(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })),
    ).toBe(true);
    expect(
      isTlsFailure(Object.assign(new Error('x'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' })),
    ).toBe(true);
    expect(isTlsFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isTlsFailure(new Error('x'))).toBe(false);
  });

  it('Kafka: KAFKA_SSL, its CA and SASL reach the kafkajs configuration', () => {
    const env = parseEnv({
      KAFKA_BROKERS: 'b1:9093,b2:9093',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'coupon',
      KAFKA_SASL_PASSWORD: 'secret',
    });
    const config = kafkaConfig({ ...kafkaConnection(env), clientId: 'coupon-service' });
    expect(config).toMatchObject({
      brokers: ['b1:9093', 'b2:9093'],
      ssl: { ca: PEM },
      sasl: { mechanism: 'scram-sha-256', username: 'coupon', password: 'secret' },
    });
    expect(kafkaConnection(parseEnv({ KAFKA_SSL: 'true' })).ssl).toBe(true);
    for (const mechanism of ['plain', 'scram-sha-512'] as const) {
      const sasl = kafkaConnection(
        parseEnv({
          KAFKA_SASL_MECHANISM: mechanism,
          KAFKA_SASL_USERNAME: 'u',
          KAFKA_SASL_PASSWORD: 'p',
        }),
      ).sasl;
      expect(sasl).toEqual({ mechanism, username: 'u', password: 'p' });
    }
    const plain = kafkaConfig({ brokers: ['b:9092'], clientId: 'c' });
    expect(plain).not.toHaveProperty('ssl');
    expect(plain).not.toHaveProperty('sasl');
  });

  it("PostgreSQL: DATABASE_URL's sslmode reaches pg with libpq's meaning", () => {
    const url = (query: string) => `postgres://u@db.example:5432/coupon?${query}`;
    const ssl = (query: string) =>
      (ormConfig({ databaseUrl: url(query) }).driverOptions as { connection: { ssl?: unknown } })
        .connection.ssl;
    expect(ssl('')).toBeUndefined();
    expect(ssl('sslmode=disable')).toBe(false);
    expect(ssl('sslmode=require')).toEqual({ rejectUnauthorized: false });
    const withCa = ssl(`sslmode=require&sslrootcert=${caFile}`) as Record<string, unknown>;
    expect(withCa).toMatchObject({ ca: PEM, rejectUnauthorized: true });
    expect(withCa.checkServerIdentity).toBeTypeOf('function');
    const verifyCa = ssl(`sslmode=verify-ca&sslrootcert=${caFile}`) as Record<string, unknown>;
    expect(verifyCa).toMatchObject({ ca: PEM, rejectUnauthorized: true });
    // verify-ca checks the chain only: any host name passes.
    expect((verifyCa.checkServerIdentity as () => unknown)()).toBeUndefined();
    const full = ssl(`sslmode=verify-full&sslrootcert=${caFile}`) as Record<string, unknown>;
    expect(full).toEqual({ ca: PEM, rejectUnauthorized: true });
    // sslrootcert=system: the system's CAs, no file.
    expect(ssl('sslmode=verify-full&sslrootcert=system')).toEqual({ rejectUnauthorized: true });
    expect(ssl(`sslmode=verify-full&sslcert=${caFile}&sslkey=${caFile}`)).toEqual({
      cert: PEM,
      key: PEM,
      rejectUnauthorized: true,
    });
    // The pool's other settings stay.
    expect(
      (
        ormConfig({ databaseUrl: url('sslmode=require') }).driverOptions as {
          connection: Record<string, unknown>;
        }
      ).connection.connectionTimeoutMillis,
    ).toBe(5000);
  });
});
