/**
 * The API's answers as the CLI reads them. Read defensively: fields may be absent on
 * older servers, so formatting code falls back to "-".
 */

export interface Accepted {
  event_id: string;
  workflow_id?: string;
  status_url?: string;
}

export interface BatchItem {
  event_id?: string | null;
  status: 'accepted' | 'duplicate' | 'conflict' | 'invalid' | string;
  http_status?: number;
  workflow_id?: string;
  error?: { code?: string; message?: string; details?: unknown } | string;
}

export interface Ticket {
  id: string;
  connector_id: string;
  kind: string;
  event_id: string;
  external_id: string;
  external_url: string;
  status: string;
  severity: string;
  priority: string;
  recurrence_count: number;
  sla_due_at: string | null;
  sla_breached: boolean;
  created_at: string;
}

export interface Delivery {
  id: string;
  connector_id: string;
  kind: string;
  purpose?: string;
  event_id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  last_attempt_at?: string | null;
}

export interface Attempt {
  attempt: number;
  outcome: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  http_status: number | null;
  remote_code: string | null;
  message: string | null;
  retryable: boolean | null;
}

export interface DeliveryDetail extends Delivery {
  ticket_id?: string | null;
  created_at?: string;
  updated_at?: string;
  attempt_log: Attempt[];
}

export interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  order: number;
  when: Record<string, unknown>;
  then: Record<string, unknown>;
  stop: boolean;
  origin?: string;
  warnings?: string[];
}

export interface Decision {
  connector_id: string;
  connector_name?: string;
  action: string;
  reason: string;
}

export interface Violation {
  event_id: string;
  workflow_id?: string;
  status: string;
  severity: string;
  payload?: Record<string, unknown>;
  decisions?: Decision[];
  tickets?: Ticket[];
  deliveries?: Delivery[];
  received_at?: string;
  completed_at?: string | null;
}

export interface Connector {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
  auto_push?: boolean;
  status?: {
    configured?: boolean;
    enabled?: boolean;
    last_test_at?: string | null;
    last_test_ok?: boolean | null;
    last_test_result?: string | null;
    last_check_at?: string | null;
    last_check_ok?: boolean | null;
  };
  config?: Record<string, unknown>;
}

export interface CheckStep {
  name: string;
  ok: boolean;
  message: string;
}

export interface ConnectorCheck {
  ok: boolean;
  connector_id: string;
  checks: CheckStep[];
}

export interface SecretsReencrypted {
  reencrypted: string[];
  current: number;
  unreadable: { id: string; reason: string }[];
}

export interface ConnectorTest {
  ok: boolean;
  action: string;
  connector_id: string;
  event_id?: string;
  external_id?: string;
  external_url?: string;
  http_status?: number;
  remote_code?: string;
  message: string;
}

export interface ConditionResult {
  condition: string;
  matched: boolean;
  detail: string;
}

/** The API answers snake_case (`rule_id`); the domain's camelCase (`ruleId`) is read too. */
export interface RuleExplanation {
  rule_id?: string;
  rule_name?: string;
  ruleId?: string;
  ruleName?: string;
  order: number;
  status: string;
  conditions: ConditionResult[];
  targets?: { connector_id?: string; connectorId?: string; outcome: string; detail: string }[];
  summary: string;
}

export interface PlannedTicket {
  connector_id: string;
  connector_name?: string;
  source?: 'rule' | 'default' | string;
  rule_name?: string | null;
  priority: string;
  assignee?: string | null;
  assignment_group?: string | null;
  project_key?: string | null;
  sla_ms?: number | null;
}

export interface DryRun {
  event_id?: string;
  severity: string;
  risk_score?: number | null;
  default_routing?: { applied: boolean; min_severity: string };
  decisions: Decision[];
  explanations: RuleExplanation[];
  tickets?: PlannedTicket[];
  siem?: string[];
}

export interface ReplayDryRun {
  dry_run: true;
  total: number;
  deliveries: Delivery[];
}

export interface ReplayStarted {
  replay_id: string;
  workflow_id?: string;
  total: number;
  dry_run: false;
}

export interface ReplayItem {
  delivery_id: string;
  connector_id: string;
  event_id: string;
  outcome: 'pending' | 'delivered' | 'failed' | 'skipped' | string;
  error?: string | null;
}

export interface ReplayStatus {
  id: string;
  status: 'running' | 'completed' | string;
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  skipped: number;
  items: ReplayItem[];
}
