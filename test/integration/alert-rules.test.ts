import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const DIR = fileURLToPath(new URL('../../ops/prometheus/', import.meta.url));

/** Runs Prometheus's own rule checker (Debian's `prometheus` package; scripts/test.sh installs it). */
function promtool(...args: string[]) {
  return promtoolIn(DIR, ...args);
}
function promtoolIn(cwd: string, ...args: string[]) {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface Rule {
  alert: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; description?: string };
}
interface RuleTest {
  alert_rule_test: { alertname: string; exp_alerts: unknown[] }[];
}

const rules = (parse(readFileSync(`${DIR}alerts.yml`, 'utf8')) as { groups: { rules: Rule[] }[] })
  .groups[0]!.rules;
const tests = (parse(readFileSync(`${DIR}alerts.test.yml`, 'utf8')) as { tests: RuleTest[] }).tests;

describe('alert rules (ops/prometheus/alerts.yml)', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', 'alerts.yml');
    expect(status, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('pass their unit tests (promtool test rules alerts.test.yml)', () => {
    const { status, output } = promtool('test', 'rules', 'alerts.test.yml');
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('are loaded by the Prometheus configuration of the compose file, which promtool accepts', () => {
    // The configuration names the rules by their path inside the container; check it beside a copy.
    const dir = mkdtempSync(join(tmpdir(), 'coupon-prometheus-'));
    try {
      const config = readFileSync(`${DIR}prometheus.yml`, 'utf8');
      expect(config).toContain('\n  - /etc/prometheus/alerts.yml\n');
      writeFileSync(
        join(dir, 'prometheus.yml'),
        config.replace('/etc/prometheus/alerts.yml', join(dir, 'alerts.yml')),
      );
      copyFileSync(`${DIR}alerts.yml`, join(dir, 'alerts.yml'));
      const { status, output } = promtoolIn(dir, 'check', 'config', 'prometheus.yml');
      expect(status, output).toBe(0);
      expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cover what an operator must hear about, each with a wait, a severity and an explanation', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'CouponDlqGrowing',
      'CouponJobsEndingInternal',
      'CouponOutboxBacklogGrowing',
      'CouponPaymentAmountMismatch',
      'CouponPaymentPartitionStuck',
      'CouponPaymentServiceCircuitOpen',
      'CouponQueueDepthGrowing',
      'CouponSweepLate',
    ]);
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });

  it('each have a unit test where they fire and one where they stay silent', () => {
    const cases = tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of rules) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} stays silent`,
      ).toBe(true);
    }
  });
});
