export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export const atLeast = (s: Severity, min: Severity): boolean => severityRank(s) >= severityRank(min);

/** One step up, saturating at critical (used by SLA escalation). */
export const raiseSeverity = (s: Severity): Severity =>
  SEVERITIES[Math.min(severityRank(s) + 1, SEVERITIES.length - 1)]!;

export interface RiskBands {
  critical: number;
  high: number;
  medium: number;
}

export const DEFAULT_RISK_BANDS: RiskBands = { critical: 0.9, high: 0.7, medium: 0.5 };

export function severityFromRisk(risk: number, bands: RiskBands = DEFAULT_RISK_BANDS): Severity {
  if (risk >= bands.critical) return 'critical';
  if (risk >= bands.high) return 'high';
  if (risk >= bands.medium) return 'medium';
  return 'low';
}

/** An explicit severity wins over the one a risk score implies. */
export function deriveSeverity(
  event: { severity?: Severity; risk_score?: number },
  bands: RiskBands = DEFAULT_RISK_BANDS,
): Severity {
  if (event.severity) return event.severity;
  if (event.risk_score !== undefined) return severityFromRisk(event.risk_score, bands);
  throw new Error('event has neither severity nor risk_score');
}
