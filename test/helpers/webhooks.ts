import { createHmac, randomUUID } from 'node:crypto';
import type { StatusCategory } from '../fakes/jira.js';

export const sign = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const CATEGORY_NAME: Record<StatusCategory, string> = {
  new: 'To Do',
  indeterminate: 'In Progress',
  done: 'Done',
};

/** A real-shaped `jira:issue_updated` payload (status change with its changelog item). */
export function jiraIssueUpdated(
  key: string,
  category: StatusCategory,
  statusName = CATEGORY_NAME[category],
) {
  return {
    timestamp: Date.now(),
    webhookEvent: 'jira:issue_updated',
    issue_event_type_name: 'issue_generic',
    user: { accountId: '5b10a2844c20165700ede21g', displayName: 'Dana Analyst' },
    issue: {
      id: '10001',
      key,
      fields: {
        summary: 'x',
        status: { name: statusName, statusCategory: { id: 4, key: category, name: statusName } },
      },
    },
    changelog: {
      id: '10100',
      items: [{ field: 'status', fieldtype: 'jira', fromString: 'To Do', toString: statusName }],
    },
  };
}

export function jiraWebhookRequest(payload: unknown, secret: string, identifier: string = randomUUID()) {
  const body = JSON.stringify(payload);
  return {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-hub-signature': sign(secret, body),
      'x-atlassian-webhook-identifier': identifier,
    },
  };
}
