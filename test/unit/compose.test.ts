import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { API_NODE_ARGS, WORKER_NODE_ARGS } from '../../bench/lib/node-args.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
// The compose file shares settings through anchors and `<<` merge keys.
const yaml = (path: string) => parse(read(path), { merge: true });

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }>;
  profiles?: string[];
  ports?: string[];
  restart?: string;
  volumes?: string[];
}
const services = yaml('docker-compose.yml').services as Record<string, Service>;
const service = (name: string) => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

const ROLES = {
  api: 'api',
  'worker-1': 'worker',
  'worker-2': 'worker',
  bridge: 'bridge',
  scheduler: 'scheduler',
};
const MONITORING = ['prometheus', 'grafana'];

/** Metric names the service exports (src/infra/metrics.ts). */
const METRICS = new Set(
  [...read('src/infra/metrics.ts').matchAll(/name: '([a-zA-Z_:][a-zA-Z0-9_:]*)'/g)].map(
    (m) => m[1],
  ),
);

/** The metric names a PromQL expression reads: identifiers that are not functions, labels or keywords. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\boffset\s+\d+[smhdwy]+/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\(|[a-zA-Z0-9_:])/g)]
    .map((m) => m[0])
    .filter((name) => !['and', 'or', 'unless', 'offset', 'bool'].includes(name));
}

describe('docker-compose.yml', () => {
  it('runs every role as its own service from the one Dockerfile', () => {
    for (const [name, role] of Object.entries(ROLES)) {
      const s = service(name);
      expect(s.build, name).toBe('.');
      expect(s.environment?.ROLES, name).toBe(role);
      expect(s.profiles, `${name} starts without a profile`).toBeUndefined();
    }
  });

  it('starts worker processes with the worker V8 flags and the others with the api ones', () => {
    const dockerCmd = JSON.stringify([
      'node',
      ...WORKER_NODE_ARGS,
      '--import',
      'tsx',
      'src/main.ts',
    ]);
    expect(read('Dockerfile')).toContain(`\nCMD ${dockerCmd.replaceAll(',', ', ')}\n`);
    for (const [name, role] of Object.entries(ROLES)) {
      const { command } = service(name);
      if (role === 'worker') expect(command, `${name} runs the image's CMD`).toBeUndefined();
      else
        expect(command, name).toEqual(['node', ...API_NODE_ARGS, '--import', 'tsx', 'src/main.ts']);
    }
  });

  it('migrates once, and every role waits for that and for healthy dependencies', () => {
    const migrate = service('migrate');
    expect(migrate.command?.join(' ')).toContain('src/infra/db/migrate.ts');
    expect(migrate.restart).toBe('no');
    expect(migrate.depends_on?.postgres?.condition).toBe('service_healthy');
    for (const name of Object.keys(ROLES)) {
      const deps = service(name).depends_on ?? {};
      expect(deps.migrate?.condition, name).toBe('service_completed_successfully');
      for (const dep of ['postgres', 'redis', 'kafka'])
        expect(deps[dep]?.condition, `${name} → ${dep}`).toBe('service_healthy');
    }
  });

  it('gives every long-running service a health check, and waits on conditions only', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name !== 'migrate')
        expect(s.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(1);
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} → ${dep}`).toBeDefined();
        expect(['service_healthy', 'service_completed_successfully'], `${name} → ${dep}`).toContain(
          condition,
        );
      }
    }
    expect(service('api').healthcheck?.test?.join(' ')).toMatch(
      /127\.0\.0\.1:3000\/(health|ready)\b/,
    );
  });

  it('runs Redis with AOF and no eviction, its data in a volume: a 202 survives a restart', () => {
    const redis = service('redis');
    const args = redis.command?.join(' ') ?? '';
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(JSON.stringify(redis)).toContain('redis-data:/data');
  });

  it('lets the host reach Kafka on a second listener', () => {
    const kafka = service('kafka');
    const env = kafka.environment ?? {};
    expect(env.KAFKA_LISTENERS).toContain('EXTERNAL://:29092');
    expect(env.KAFKA_ADVERTISED_LISTENERS?.split(',')).toEqual(
      expect.arrayContaining(['PLAINTEXT://kafka:9092', 'EXTERNAL://localhost:29092']),
    );
    expect(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP?.split(',')).toContain('EXTERNAL:PLAINTEXT');
    expect(kafka.ports).toContain('29092:29092');
    expect(services.api?.environment?.KAFKA_BROKERS).toBe('kafka:9092');
  });
});

describe('the monitoring profile', () => {
  const prometheusConfig = yaml('ops/prometheus/prometheus.yml');

  it('holds Prometheus and Grafana, and only those', () => {
    const inProfile = Object.entries(services)
      .filter(([, s]) => s.profiles?.includes('monitoring'))
      .map(([name]) => name);
    expect(inProfile.sort()).toEqual([...MONITORING].sort());
  });

  it('has Prometheus load the alert rules and scrape the api processes, the ones serving /metrics', () => {
    const prometheus = service('prometheus');
    const mounts = new Map(
      prometheus.volumes?.map((v) => v.split(':').slice(0, 2) as [string, string]),
    );
    expect(mounts.get('./ops/prometheus/prometheus.yml')).toBe('/etc/prometheus/prometheus.yml');
    expect(prometheusConfig.rule_files).toContain(mounts.get('./ops/prometheus/alerts.yml'));
    const [job] = prometheusConfig.scrape_configs;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.dns_sd_configs).toEqual([{ names: ['api'], type: 'A', port: 3000 }]);
  });

  it('provisions Grafana with the Prometheus datasource and the dashboard', () => {
    const grafana = service('grafana');
    const mounts = new Map(
      grafana.volumes?.map((v) => v.split(':').slice(0, 2) as [string, string]),
    );
    expect(mounts.get('./ops/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const [datasource] = yaml('ops/grafana/provisioning/datasources/prometheus.yml').datasources;
    expect(datasource).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const [provider] = yaml('ops/grafana/provisioning/dashboards/coupon-service.yml').providers;
    expect(mounts.get('./ops/grafana/dashboards')).toBe(provider.options.path);
  });

  it('charts intake, queue depth, outcomes, issuance, payment lag, DLQ and outbox from real metrics', () => {
    const dashboard = JSON.parse(read('ops/grafana/dashboards/coupon-service.json'));
    const used = new Set<string>();
    for (const panel of dashboard.panels as { title: string; targets: { expr: string }[] }[]) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets) {
        const names = metricNames(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) {
          expect(METRICS.has(name), `${panel.title}: ${name} is not a metric of the service`).toBe(
            true,
          );
          used.add(name);
        }
      }
    }
    expect([...used].sort()).toEqual([
      'coupon_jobs_total',
      'coupon_kafka_consumer_lag',
      'coupon_kafka_dlq_total',
      'coupon_outbox_backlog',
      'coupon_queue_depth',
      'http_requests_total',
    ]);
    const issuance = dashboard.panels.filter((p: { targets: { expr: string }[] }) =>
      p.targets.some((t) => /coupon_jobs_total\{[^}]*queue="issuance"/.test(t.expr)),
    );
    expect(issuance.length, 'an issuance-rate panel').toBe(1);
  });

  it('alerts only on metrics the service exports', () => {
    const groups = yaml('ops/prometheus/alerts.yml').groups as {
      rules: { alert: string; expr: string }[];
    }[];
    for (const { alert, expr } of groups.flatMap((g) => g.rules)) {
      const names = metricNames(expr);
      expect(names.length, alert).toBeGreaterThan(0);
      for (const name of names) expect(METRICS.has(name), `${alert}: ${name}`).toBe(true);
    }
  });
});
