// biome-ignore-all lint/suspicious/noThenProperty: SPEC §5 names the rule field `then`; an example body, never a thenable.
/**
 * Example request bodies for the API reference, by operationId (see openapi.ts). Each one is
 * validated against its operation's schema by test/unit/openapi.test.ts.
 */
const EVENT = {
  event_id: '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f',
  event_type: 'policy_violation',
  summary: 'max-tokens exceeded',
  severity: 'critical',
  occurred_at: '2026-11-20T10:15:00Z',
  source: 'ai-gateway',
  user_email: 'alice@example.com',
  model: 'gpt-5',
  provider: 'openai',
  platform_id: 'prod-eu',
  policy: { id: 'pol-max-tokens', name: 'Max tokens', action: 'block' },
  classifications: [{ type: 'CREDIT_CARD', confidence: 0.97 }],
  details: { tokens: 182000, limit: 100000 },
  tags: { team: 'payments' },
};

export const REQUEST_EXAMPLES: Record<string, unknown> = {
  createViolation: EVENT,
  createViolationsBatch: {
    events: [
      EVENT,
      {
        event_id: '0b8f6e2a-7e3b-4b8e-9d0e-3f1c0a527e3b',
        event_type: 'budget_alert',
        summary: 'monthly AI budget at 95%',
        risk_score: 0.72,
      },
    ],
  },
  previewViolationTickets: { connector_id: 'jira-sec' },
  createViolationTicket: { connector_id: 'jira-sec' },
  setTicketStatus: { status: 'resolved', note: 'key rotated, user coached' },
  createTicketComment: { text: 'The same user hit the policy again from another workspace.' },
  createConnector: {
    id: 'jira-sec',
    name: 'Jira SEC',
    kind: 'jira',
    config: {
      base_url: 'https://acme.atlassian.net',
      api: 'cloud',
      email: 'bot@acme.com',
      api_token: 'ATATT3x…',
      project_key: 'SEC',
      issue_type: 'Task',
    },
    retry: { maximum_attempts: 5, initial_interval: '60s', backoff_coefficient: 2, maximum_interval: '1h' },
  },
  updateConnector: { enabled: false, config: { api_token: 'ATATT3x-rotated…' } },
  createRule: {
    id: 'block-high-risk',
    name: 'blocked and risky → security team',
    order: 10,
    when: { policy_actions: ['block'], min_risk_score: 0.8 },
    then: {
      targets: ['jira-sec'],
      priority: 'high',
      labels: ['blocked'],
      sla: '4h',
      notify: ['slack-secops'],
    },
  },
  updateRule: { order: 5, enabled: false },
  dryRunRules: { event: EVENT },
  replayDeliveries: {
    filter: { status: 'failed', connector_id: 'splunk-prod', since: '2026-11-20T00:00:00Z' },
    dry_run: true,
  },
  receiveItsmWebhook: { external_ticket_id: 'SEC-123', status: 'resolved' },
  receiveJiraWebhook: {
    webhookEvent: 'jira:issue_updated',
    issue: { key: 'SEC-123', fields: { status: { name: 'Done', statusCategory: { key: 'done' } } } },
    changelog: { items: [{ field: 'status', fromString: 'In Progress', toString: 'Done' }] },
  },
  receiveServicenowWebhook: {
    sys_id: '6816f79cc0a8016401c5a33be04be441',
    state: '6',
    work_notes: 'Resolved by the SOC',
  },
};

/** The body a webhook connector POSTs (Standard Webhooks envelope). */
export const OUTBOUND_WEBHOOK_EXAMPLE = {
  type: 'violation',
  timestamp: '2026-11-20T10:15:01.000Z',
  data: EVENT,
};
