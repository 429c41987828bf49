/**
 * Offline checks of Prometheus rule files: PromQL parsed with Prometheus's own grammar
 * (@prometheus-io/lezer-promql, what the Prometheus UI uses), the rule-file structure promtool
 * expects, and the metric names each expression reads (to compare with what escalate exports).
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}
export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Where the expression does not parse (empty: it does). */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError)
        errors.push(`syntax error at ${node.from}: …${expr.slice(node.from, node.from + 20)}`);
    },
  });
  return errors;
}

/** The metric names an expression selects (`foo` in `rate(foo{a="b"}[5m])`). */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        names.add(expr.slice(node.from, node.to));
    },
  });
  return [...names];
}

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** Problems in a rule file, as promtool check rules would report them (empty: none). */
export function ruleFileProblems(doc: unknown): string[] {
  const file = doc as Partial<RuleFile> | null;
  if (!file || !Array.isArray(file.groups) || file.groups.length === 0) return ['no groups'];
  const problems: string[] = [];
  const groupNames = new Set<string>();
  for (const group of file.groups) {
    if (!group.name) problems.push('a group has no name');
    if (groupNames.has(group.name)) problems.push(`group ${group.name} is defined twice`);
    groupNames.add(group.name);
    if (group.interval && !DURATION.test(group.interval)) problems.push(`${group.name}: bad interval`);
    if (!Array.isArray(group.rules) || group.rules.length === 0) problems.push(`${group.name}: no rules`);
    for (const rule of group.rules ?? []) {
      const name = rule.alert ?? rule.record ?? '(unnamed)';
      if (!rule.alert === !rule.record) problems.push(`${name}: exactly one of alert and record`);
      if (typeof rule.expr !== 'string' || !rule.expr.trim()) problems.push(`${name}: no expr`);
      else problems.push(...promqlErrors(rule.expr).map((e) => `${name}: ${e}`));
      if (rule.for !== undefined && !DURATION.test(rule.for)) problems.push(`${name}: bad for ${rule.for}`);
      if (rule.record && (rule.for || rule.annotations))
        problems.push(`${name}: recording rules take no for/annotations`);
      for (const value of [...Object.values(rule.labels ?? {}), ...Object.values(rule.annotations ?? {})])
        if (typeof value !== 'string') problems.push(`${name}: label and annotation values are strings`);
    }
  }
  return problems;
}

/** Every metric name the rules of `doc` read. */
export function alertMetricNames(doc: unknown): string[] {
  const names = new Set<string>();
  for (const group of (doc as RuleFile).groups)
    for (const rule of group.rules) for (const n of metricNames(rule.expr)) names.add(n);
  return [...names].sort();
}
