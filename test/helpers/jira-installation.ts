/**
 * What a real Jira installation looks like in tests: the custom fields Noxys-style integrations
 * map (a number and a multi-select), a security workflow with two transitions into "done" (one
 * whose screen requires a resolution), and a neutral ticket draft for connector-level tests.
 */
import type { TicketDraft } from '../../domain/ticket.js';
import type { FakeTransition } from '../fakes/jira.js';
import type { FakeJiraField } from '../fakes/jira-fields.js';

export const RISK_AND_CLASSIFICATIONS: FakeJiraField[] = [
  { id: 'customfield_10050', name: 'Risk Score', type: 'number', custom: 'float' },
  {
    id: 'customfield_10051',
    name: 'Classifications Detected',
    type: 'array',
    items: 'option',
    custom: 'multiselect',
    options: ['CREDIT_CARD', 'PII', 'SECRET'],
  },
];

export const SECURITY_WORKFLOW: FakeTransition[] = [
  { id: '11', name: 'Reopen Issue', to: { name: 'Open', category: 'new' } },
  { id: '21', name: 'Start Progress', to: { name: 'In Progress', category: 'indeterminate' } },
  { id: '31', name: 'Resolve Issue', to: { name: 'Resolved', category: 'done' }, resolution: 'required' },
  { id: '41', name: 'Close Issue', to: { name: 'Closed', category: 'done' }, resolution: 'optional' },
  { id: '51', name: "Won't Fix", to: { name: 'Rejected', category: 'done' } },
];

let seq = 0;

/** A ticket draft with a fresh idempotency key (`escalate-<tag>-<n>`). */
export const testDraft = (tag: string): TicketDraft => ({
  eventId: '0b6b6f4e-3f5c-4b8e-9a43-6f1d2f1c9a11',
  idempotencyKey: `escalate-${tag}-${++seq}`,
  title: '[escalate] policy_violation: PII sent to gpt-4o',
  severity: 'high',
  priority: 'high',
  facts: [['Event', 'policy_violation']],
  payload: { event_id: '0b6b6f4e-3f5c-4b8e-9a43-6f1d2f1c9a11' },
  labels: [],
  customFields: {},
});
