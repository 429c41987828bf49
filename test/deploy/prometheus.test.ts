/**
 * deploy/prometheus/: the config and the alert rules, offline. PromQL is parsed with Prometheus's
 * own grammar (@prometheus-io/lezer-promql) and the rule files checked for what `promtool check
 * rules` checks of their structure; every escalate_* metric a rule reads must be one escalate
 * registers (infra/metrics.ts). The Temporal SDK's temporal_* names are checked against real
 * worker scrapes by `npm run test:cluster`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registry } from '../../infra/metrics.js';
import {
  alertMetricNames,
  promqlErrors,
  type RuleFile,
  ruleFileProblems,
} from '../helpers/prometheus-rules.js';

const read = (file: string) =>
  readFileSync(fileURLToPath(new URL(`../../deploy/prometheus/${file}`, import.meta.url)), 'utf8');
const rules = parse(read('alerts.yml')) as RuleFile;
const config = parse(read('prometheus.yml')) as {
  global: Record<string, string>;
  rule_files: string[];
  scrape_configs: { job_name: string }[];
};
const alerts = Object.fromEntries(rules.groups.flatMap((g) => g.rules).map((r) => [r.alert!, r]));

describe('Prometheus alert rules', () => {
  it('parse as PromQL and as a rule file', () => {
    expect(ruleFileProblems(rules)).toEqual([]);
  });

  it('would be refused with a mistake (the checks can fail)', () => {
    expect(promqlErrors('sum(rate(escalate_deliveries_total[5m])')).not.toEqual([]);
    expect(promqlErrors('escalate_deliveries_total{outcome="failed"')).not.toEqual([]);
    const broken = structuredClone(rules);
    broken.groups[0]!.rules[0]!.for = 'ten minutes';
    delete broken.groups[0]!.rules[1]!.alert;
    expect(ruleFileProblems(broken)).toHaveLength(2);
  });

  it('read only escalate_* metrics escalate registers', async () => {
    const registered = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const ours = alertMetricNames(rules).filter((n) => n.startsWith('escalate_'));
    expect(ours.length).toBeGreaterThan(0);
    for (const name of ours) expect(registered.has(name), name).toBe(true);
  });

  it('cover failed deliveries, SLA breaches, the start backlog and workers down', () => {
    const reads = (alert: string, metric: string) =>
      alertMetricNames({ groups: [{ name: 'x', rules: [alerts[alert]!] }] }).includes(metric);
    expect(reads('EscalateDeliveryFailed', 'escalate_deliveries_total')).toBe(true);
    expect(alerts.EscalateDeliveryFailed!.expr).toContain('outcome="failed"');
    expect(reads('EscalateSlaBreached', 'escalate_sla_breaches_total')).toBe(true);
    expect(reads('EscalateStartBacklog', 'escalate_violations_unstarted')).toBe(true);
    expect(
      reads('EscalateWorkflowTaskBacklog', 'temporal_workflow_task_schedule_to_start_latency_bucket'),
    ).toBe(true);
    for (const down of ['EscalateWorkerDown', 'EscalateNoWorker']) {
      expect(reads(down, 'up')).toBe(true);
      expect(alerts[down]!.expr).toContain('job="escalate-worker"');
    }
    for (const rule of Object.values(alerts)) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
    }
  });
});

describe('prometheus.yml', () => {
  it('loads the rules and scrapes each job named in them', () => {
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    for (const value of Object.values(config.global)) expect(value).toMatch(/^\d+[smh]$/);
    const jobs = config.scrape_configs.map((c) => c.job_name);
    expect(new Set(jobs).size).toBe(jobs.length);
    for (const rule of Object.values(alerts))
      for (const [, job] of rule.expr.matchAll(/job="([^"]+)"/g)) expect(jobs, rule.alert).toContain(job);
  });
});
