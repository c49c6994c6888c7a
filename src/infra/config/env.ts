import { readFileSync } from 'node:fs';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/** Secrets that only exist so a local run works without setup; production refuses them. */
export const DEVELOPMENT_SECRETS = {
  JWT_SECRET: 'dev-jwt-secret-change-me-0123456789abcdef',
  CODE_HASH_SECRET: 'dev-code-hash-secret-change-me-0123456789',
  ADMIN_PASSWORD: 'admin',
  CODE_ENCRYPTION_KEY: 'ZGV2LWNvZGUtZW5jcnlwdGlvbi1rZXktY2hnLW1lISE=',
} as const;

const ROLE_NAMES = ['api', 'worker', 'bridge', 'scheduler', 'all'] as const;
export type Role = Exclude<(typeof ROLE_NAMES)[number], 'all'>;

const intFrom = (min: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min))
    .default(fallback);

const url = (protocols: string[], fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`,
    );

const list = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    );

const bool = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default(fallback)
    .transform((value) => value === 'true');

/** An optional value that must pass `valid`; a `valid` that throws refuses it too. */
const optionalWhere = (valid: (value: string) => boolean, message: string) =>
  z
    .string()
    .trim()
    .optional()
    .refine((value) => {
      if (value === undefined) return true;
      try {
        return valid(value);
      } catch {
        return false;
      }
    }, message);

/** A PEM file of CA certificates, read here so a wrong path stops the process at start-up. */
const caFile = optionalWhere(
  (path) => readFileSync(path, 'utf8').includes('-----BEGIN CERTIFICATE-----'),
  'must name a readable PEM file of CA certificates',
);

/** libpq's `sslmode` values the service honours (see `infra/db/ssl.ts`). */
export const PG_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;

/** Mechanisms kafkajs speaks without plugins. */
export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/** IPs and CIDR ranges of proxies, as proxy-addr reads them (it also knows `loopback` & co.). */
const proxies = list('').superRefine((entries, ctx) => {
  for (const entry of entries) {
    try {
      proxyaddr.compile(entry);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(entry)} is not an IP address or CIDR range (such as 10.0.0.0/8)`,
      });
      return;
    }
  }
});

/** A Redis Cluster node: `host:port`, an IPv6 host in brackets. */
const CLUSTER_NODE = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:,[\]]+):(\d{1,5})$/;

const clusterNodes = z
  .string()
  .optional()
  .transform((value) =>
    value === undefined
      ? null
      : value
          .split(',')
          .map((node) => node.trim())
          .filter((node) => node.length > 0),
  )
  .pipe(
    z
      .array(
        z.string().refine((node) => {
          const port = Number(CLUSTER_NODE.exec(node)?.[1] ?? 0);
          return port >= 1 && port <= 65535;
        }, 'each node must be host:port'),
      )
      .min(1, 'needs at least one host:port')
      .nullable(),
  );

/**
 * The hash tag of a Redis key (what Redis Cluster hashes to pick its slot), or null when the whole
 * key is hashed: the text between the first `{` and the next `}`, when not empty.
 */
export function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  if (open === -1) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

/** The queue prefix on a Redis Cluster when QUEUE_PREFIX is not set. */
export const CLUSTER_QUEUE_PREFIX = '{coupon}';

/** A 32-byte key written as 64 hex digits or as base64; null when it is neither. */
export function decodeKey32(value: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) {
    const key = Buffer.from(value, 'base64');
    return key.length === 32 ? key : null;
  }
  return null;
}

const key32 = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine(
      (value) => decodeKey32(value) !== null,
      'must be 32 bytes written as 64 hex digits or as base64',
    );

const secret = (fallback: string) =>
  z.string().min(16, 'must be at least 16 characters').default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: url(
    ['postgres:', 'postgresql:'],
    'postgres://postgres@127.0.0.1:5432/coupon',
  ).superRefine((value, ctx) => {
    let params: URLSearchParams;
    try {
      params = new URL(value).searchParams;
    } catch {
      return; // `url` has said so.
    }
    const mode = params.get('sslmode');
    if (mode !== null && !(PG_SSL_MODES as readonly string[]).includes(mode)) {
      ctx.addIssue({
        code: 'custom',
        message: `sslmode must be one of ${PG_SSL_MODES.join(', ')} (allow and prefer cannot fall back here)`,
      });
    }
    for (const name of ['sslrootcert', 'sslcert', 'sslkey']) {
      const path = params.get(name);
      if (path === null || path === 'system') continue;
      try {
        readFileSync(path);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} names a file that cannot be read` });
      }
    }
  }),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  /** CA certificates a `rediss://` server's certificate must chain to; unset: the system's. */
  REDIS_TLS_CA_FILE: caFile,
  /** `false` accepts any certificate from a `rediss://` server (encrypted, not authenticated). */
  REDIS_TLS_REJECT_UNAUTHORIZED: bool('true'),
  /**
   * Seed nodes of a Redis Cluster (`host:port`, comma separated): when set, every Redis client is a
   * cluster client and REDIS_URL is not used.
   */
  REDIS_CLUSTER_NODES: clusterNodes,
  /** TLS to every node of the cluster, trusting REDIS_TLS_CA_FILE as a `rediss://` URL would. */
  REDIS_CLUSTER_TLS: bool('false'),
  /**
   * `on`: Redis must keep what the service accepts (AOF on, `maxmemory-policy noeviction`), else
   * `/ready` is 503 and requests that would make a job answer 503; `off` accepts any Redis knowingly.
   * @defaultValue `on`
   */
  REDIS_DURABILITY: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  /**
   * `always`: Redis must also fsync every write (`appendfsync always`), so that a 202 survives the
   * machine's power loss. @defaultValue `everysec`
   */
  REDIS_FSYNC: z
    .enum(['everysec', 'always'], { error: 'must be everysec or always' })
    .default('everysec'),
  KAFKA_BROKERS: list('127.0.0.1:9092').pipe(
    z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port'))
      .min(1, 'needs at least one broker'),
  ),
  /** TLS to the Kafka brokers. */
  KAFKA_SSL: bool('false'),
  /** CA certificates the brokers' certificates must chain to; unset: the system's. */
  KAFKA_SSL_CA_FILE: caFile,
  KAFKA_SASL_MECHANISM: z
    .enum(KAFKA_SASL_MECHANISMS, {
      error: `must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}`,
    })
    .optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  PORT: intFrom(0, 3000).pipe(z.number().max(65535)),
  JWT_SECRET: secret(DEVELOPMENT_SECRETS.JWT_SECRET),
  CODE_HASH_SECRET: secret(DEVELOPMENT_SECRETS.CODE_HASH_SECRET),
  /** Encrypts (AES-256-GCM) the plaintext of a code batch's codes, kept for their export. */
  CODE_ENCRYPTION_KEY: key32(DEVELOPMENT_SECRETS.CODE_ENCRYPTION_KEY),
  /**
   * Hours a finished code batch can be exported; then its encrypted plaintext is deleted by the
   * retention sweep and the export answers 410. @defaultValue 24
   */
  CODE_EXPORT_TTL_HOURS: intFrom(1, 24),
  /** When set, a bearer token's `iss` must equal it. */
  JWT_ISSUER: z.string().min(1).optional(),
  /** When set, a bearer token's `aud` must name it. */
  JWT_AUDIENCE: z.string().min(1).optional(),
  ADMIN_USER: z.string().min(1).default('admin'),
  ADMIN_PASSWORD: z.string().min(1).default(DEVELOPMENT_SECRETS.ADMIN_PASSWORD),
  /** `true`: bull-board shows the queues and changes nothing. */
  ADMIN_READ_ONLY: bool('false'),
  RATE_LIMIT_MAX: intFrom(0, 100),
  RATE_LIMIT_WINDOW_MS: intFrom(1, 10_000),
  /**
   * Proxies in front of the service (IPs or CIDR ranges, comma separated): a request from one is
   * limited by the client address its `X-Forwarded-For` names, the right-most one that is not a
   * trusted proxy. @defaultValue none: the socket's peer is the client
   */
  TRUSTED_PROXIES: proxies,
  /**
   * Requests that make jobs (issuances, coupon actions) one user may send per UTC day, so that one
   * caller cannot fill Redis with jobs, idempotency records and verdicts; admins are not limited;
   * 0 turns it off. @defaultValue 2000
   */
  CALLER_DAILY_JOB_LIMIT: intFrom(0, 2000),
  /**
   * Actions (reserve, release, use, cancel) one user may ask of one coupon per hour, so that a
   * reserve/release loop cannot grow a coupon's records without bound; 0 turns it off.
   * @defaultValue 30
   */
  COUPON_ACTION_LIMIT: intFrom(0, 30),
  /**
   * Failed code redemptions (CODE_INVALID) a caller may have in CODE_ATTEMPT_WINDOW_MS; past it,
   * its code requests answer 429 until the window passes. 0 turns it off. @defaultValue 10
   */
  CODE_ATTEMPT_MAX: intFrom(0, 10),
  /** @defaultValue 600000 (10 minutes) */
  CODE_ATTEMPT_WINDOW_MS: intFrom(1000, 600_000),
  EXPIRY_INTERVAL_MS: intFrom(100, 60_000),
  /** Coupons one transaction of the expiry sweep changes; the sweep repeats until none are left. */
  EXPIRY_BATCH_SIZE: intFrom(1, 1000),
  /**
   * Lease of a maintenance sweep's lock (expiry, retention), renewed every third of it while the
   * sweep runs; a stalled holder loses it after this long and another scheduler may take over.
   */
  LOCK_LEASE_MS: intFrom(100, 30_000),
  RESERVATION_TTL_MS: intFrom(1, 900_000),
  /** The payment service asked before a reservation times out; unset: reservations just time out. */
  PAYMENT_SERVICE_URL: optionalWhere(
    (value) => ['http:', 'https:'].includes(new URL(value).protocol),
    'must be an http:// or https:// URL',
  ),
  /** Extensions of one TTL each granted to a reservation whose payment is still PENDING. */
  RESERVATION_MAX_EXTENSIONS: intFrom(0, 2),
  /** Age at which a recorded payment event still pending is applied by the scheduler. */
  PAYMENT_PENDING_SWEEP_MS: intFrom(100, 30_000),
  /** Published outbox rows older than this many days are pruned by the scheduler. */
  OUTBOX_RETENTION_DAYS: intFrom(1, 7),
  /** Applied payment events older than this many days are pruned by the scheduler. */
  PAYMENT_EVENT_RETENTION_DAYS: intFrom(1, 30),
  KAFKA_PAYMENT_TOPIC: z.string().min(1).default('payment.events'),
  KAFKA_COUPON_EVENTS_TOPIC: z.string().min(1).default('coupon.events'),
  CORS_ORIGINS: list(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ROLES: list('all').pipe(
    z
      .array(z.enum(ROLE_NAMES, { error: `each role must be one of ${ROLE_NAMES.join(', ')}` }))
      .min(1, 'needs at least one role'),
  ),
  // Additions to the contract: knobs an operator tunes for the queues and workers.
  /**
   * API processes sharing PORT (node:cluster) when this process runs the api role: 1 serves in this
   * process; N > 1 forks N api processes and keeps the other roles here.
   */
  API_PROCESSES: intFrom(1, 1),
  /** Consumer group of the payment bridge; every bridge process of one deployment shares it. */
  KAFKA_CONSUMER_GROUP: z.string().min(1).default('coupon-payment-bridge'),
  /**
   * Key prefix for every key of the service in Redis. On a Redis Cluster it must hold a hash tag,
   * so that each queue's keys (which BullMQ's scripts use together) share a slot.
   * @defaultValue `coupon`; `{coupon}` with REDIS_CLUSTER_NODES
   */
  QUEUE_PREFIX: z.string().min(1).default('coupon'),
  /** Jobs a worker process holds at once; issuance jobs in flight are committed together. */
  WORKER_CONCURRENCY: intFrom(1, 1000),
  /** Largest group of issuance jobs committed in one PostgreSQL transaction. */
  ISSUE_BATCH_MAX: intFrom(1, 500),
  /** How long a worker gathers issuance jobs before committing them together. */
  ISSUE_BATCH_WAIT_MS: intFrom(0, 5),
  /** How long a job stays locked by a worker without a heartbeat before it counts as stalled. */
  JOB_LOCK_MS: intFrom(1000, 30_000),
  /** Attempts for infrastructure failures before a job fails with INTERNAL. */
  JOB_ATTEMPTS: intFrom(1, 8),
  /** Base of the exponential backoff between attempts. */
  JOB_BACKOFF_MS: intFrom(1, 1000),
  /** Connections in the PostgreSQL pool of each process. */
  DB_POOL_MAX: intFrom(1, 10),
});

export type Env = z.infer<typeof envSchema>;

/** The shortest operator password production accepts (it guards every queue's jobs). */
export const MIN_PRODUCTION_ADMIN_PASSWORD = 16;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the process environment once at boot. Throws a ConfigError whose message is one line
 * naming the first offending variable.
 */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = issue?.path[0] !== undefined ? String(issue.path[0]) : 'environment';
    throw new ConfigError(`Invalid environment variable ${name}: ${issue?.message ?? 'invalid'}`);
  }
  const env = result.data;
  if (env.REDIS_CLUSTER_NODES && cleaned.QUEUE_PREFIX === undefined) {
    env.QUEUE_PREFIX = CLUSTER_QUEUE_PREFIX;
  }
  checkConnections(env);
  if (env.NODE_ENV === 'production') {
    for (const [name, value] of Object.entries(DEVELOPMENT_SECRETS)) {
      if (env[name as keyof typeof DEVELOPMENT_SECRETS] === value) {
        throw new ConfigError(
          `Invalid environment variable ${name}: the development default is refused when NODE_ENV=production`,
        );
      }
    }
    if (env.ADMIN_PASSWORD.length < MIN_PRODUCTION_ADMIN_PASSWORD) {
      throw new ConfigError(
        `Invalid environment variable ADMIN_PASSWORD: must be at least ${MIN_PRODUCTION_ADMIN_PASSWORD} characters when NODE_ENV=production`,
      );
    }
  }
  return env;
}

/** Settings that only make sense together, each refused with one line naming what is missing. */
function checkConnections(env: Env): void {
  const refuse = (name: string, why: string) => {
    throw new ConfigError(`Invalid environment variable ${name}: ${why}`);
  };
  if (env.REDIS_CLUSTER_NODES) {
    if (env.REDIS_TLS_CA_FILE && !env.REDIS_CLUSTER_TLS) {
      refuse('REDIS_TLS_CA_FILE', 'is set but REDIS_CLUSTER_TLS is not true');
    }
    if (hashTag(env.QUEUE_PREFIX) === null) {
      refuse(
        'QUEUE_PREFIX',
        `needs a hash tag such as ${CLUSTER_QUEUE_PREFIX} with REDIS_CLUSTER_NODES (each queue's keys must share a slot)`,
      );
    }
  } else {
    if (env.REDIS_CLUSTER_TLS)
      refuse('REDIS_CLUSTER_TLS', 'is true but REDIS_CLUSTER_NODES is not set');
    if (env.REDIS_TLS_CA_FILE && !env.REDIS_URL.startsWith('rediss:')) {
      refuse('REDIS_TLS_CA_FILE', 'is set but REDIS_URL is not a rediss:// URL');
    }
  }
  if (env.KAFKA_SSL_CA_FILE && !env.KAFKA_SSL) {
    refuse('KAFKA_SSL_CA_FILE', 'is set but KAFKA_SSL is not true');
  }
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD } = env;
  if (mechanism) {
    if (!KAFKA_SASL_USERNAME)
      refuse('KAFKA_SASL_USERNAME', `is required with KAFKA_SASL_MECHANISM`);
    if (!KAFKA_SASL_PASSWORD)
      refuse('KAFKA_SASL_PASSWORD', `is required with KAFKA_SASL_MECHANISM`);
    if (mechanism === 'plain' && !env.KAFKA_SSL && env.NODE_ENV === 'production') {
      refuse('KAFKA_SASL_MECHANISM', 'plain sends the password in clear: set KAFKA_SSL=true');
    }
  } else if (KAFKA_SASL_USERNAME || KAFKA_SASL_PASSWORD) {
    refuse('KAFKA_SASL_MECHANISM', 'is required with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD');
  }
}

/** The roles this process runs, with `all` expanded. */
export function activeRoles(env: Pick<Env, 'ROLES'>): Set<Role> {
  const all: Role[] = ['api', 'worker', 'bridge', 'scheduler'];
  return new Set(env.ROLES.flatMap((role) => (role === 'all' ? all : [role])));
}
