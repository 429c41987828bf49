import type { JiraConfig } from '../domain/connector.js';
import { JIRA_CATEGORY_FOR_STATUS } from '../domain/itsm-status.js';
import type { Severity } from '../domain/severity.js';
import { MAX_DESCRIPTION, truncate } from '../domain/ticket.js';
import type { TicketStatus } from '../domain/ticket-status.js';
import { ConnectorError, errorFromResponse, type HttpResponse, parseJson } from './http.js';
import { DEFAULT_JIRA_PRIORITIES } from './jira.js';
import { jiraErrorMessage, jiraSend } from './jira-client.js';
import { textToAdf } from './jira-format.js';

/**
 * Jira side of the ticket lifecycle: move an issue to an escalate status through a
 * workflow transition, comment, change priority, and read the status a `jira:issue_updated`
 * webhook reports. Cloud uses REST v3 (ADF bodies), Data Center REST v2 (string bodies).
 * Pure HTTP; activities map ConnectorError to Temporal failures.
 */

const issuePath = (issueKey: string): string => `/issue/${encodeURIComponent(issueKey)}`;

export interface JiraStatus {
  name: string;
  /** Status category key as Jira reports it (`new`, `indeterminate`, `done`, or `undefined`). */
  category: string;
}

export interface JiraTransition {
  id: string;
  name: string;
  to: JiraStatus;
  /** Fields on the transition's screen (listed with `expand=transitions.fields`). */
  fields?: Record<string, { required?: boolean; allowedValues?: { name?: string }[] }>;
}

export interface JiraTransitionResult {
  /** False when the issue already was in the target's status category (nothing posted). */
  changed: boolean;
  from: JiraStatus;
  /** The transition posted, when changed. */
  transition?: JiraTransition;
}

const lower = (s: string): string => s.trim().toLowerCase();

function expectStatus(res: HttpResponse, ok: number[]): void {
  if (!ok.includes(res.status)) throw errorFromResponse(res, jiraErrorMessage(res));
}

function unexpectedBody(res: HttpResponse, what: string): ConnectorError {
  return new ConnectorError(`Jira answered ${res.status} without ${what}`, {
    status: res.status,
    retryable: true,
    durationMs: res.durationMs,
  });
}

/** The issue's current status (name and category). */
export async function getJiraIssueStatus(
  config: JiraConfig,
  issueKey: string,
  timeoutMs: number,
): Promise<JiraStatus> {
  const res = await jiraSend(
    config,
    { method: 'GET', path: issuePath(issueKey), query: { fields: 'status' } },
    timeoutMs,
  );
  expectStatus(res, [200]);
  const body = parseJson(res.text) as
    | { fields?: { status?: { name?: string; statusCategory?: { key?: string } } } }
    | undefined;
  const status = body?.fields?.status;
  if (!status?.name) throw unexpectedBody(res, 'fields.status');
  return { name: status.name, category: status.statusCategory?.key ?? 'undefined' };
}

/** Transitions available from the issue's current status (with their screen fields when asked). */
export async function listJiraTransitions(
  config: JiraConfig,
  issueKey: string,
  timeoutMs: number,
  opts: { withFields?: boolean } = {},
): Promise<JiraTransition[]> {
  const res = await jiraSend(
    config,
    {
      method: 'GET',
      path: `${issuePath(issueKey)}/transitions`,
      ...(opts.withFields ? { query: { expand: 'transitions.fields' } } : {}),
    },
    timeoutMs,
  );
  expectStatus(res, [200]);
  const body = parseJson(res.text) as
    | {
        transitions?: {
          id?: string | number;
          name?: string;
          to?: { name?: string; statusCategory?: { key?: string } };
          fields?: JiraTransition['fields'];
        }[];
      }
    | undefined;
  if (!Array.isArray(body?.transitions)) throw unexpectedBody(res, 'a transitions list');
  return body.transitions
    .filter((t) => t?.id !== undefined)
    .map((t) => ({
      id: String(t.id),
      name: t.name ?? '',
      to: { name: t.to?.name ?? '', category: t.to?.statusCategory?.key ?? 'undefined' },
      ...(t.fields && typeof t.fields === 'object' ? { fields: t.fields } : {}),
    }));
}

const describeTransitions = (transitions: JiraTransition[]): string =>
  transitions.length
    ? transitions.map((t) => `"${t.name}" (id ${t.id} → ${t.to.name} [${t.to.category}])`).join(', ')
    : 'none';

/**
 * Chooses the transition for `target`: by `transitionName` when configured (matching the
 * transition's name, else its target status name, case-insensitively), otherwise the first
 * transition into the target's status category.
 */
export function chooseJiraTransition(
  transitions: JiraTransition[],
  target: TicketStatus,
  transitionName?: string,
): JiraTransition | undefined {
  if (transitionName?.trim()) {
    const wanted = lower(transitionName);
    return (
      transitions.find((t) => lower(t.name) === wanted) ??
      transitions.find((t) => lower(t.to.name) === wanted)
    );
  }
  const category = JIRA_CATEGORY_FOR_STATUS[target];
  return transitions.find((t) => t.to.category === category);
}

/** The resolution sent with a transition into resolved/closed, when configured and on its screen. */
function resolutionFor(
  config: JiraConfig,
  target: TicketStatus,
  transition: JiraTransition,
): { name: string } | undefined {
  const wanted = config.resolution;
  const onScreen = transition.fields?.resolution;
  if (!wanted || !onScreen || (target !== 'resolved' && target !== 'closed')) return undefined;
  const allowed = (onScreen.allowedValues ?? []).map((v) => v.name).filter((n): n is string => Boolean(n));
  if (!allowed.length) return { name: wanted };
  const match = allowed.find((n) => lower(n) === lower(wanted));
  if (match) return { name: match };
  throw new ConnectorError(
    `Jira transition "${transition.name}" does not offer resolution "${wanted}" (offered: ${allowed.map((n) => `"${n}"`).join(', ')})`,
    { retryable: false, remoteCode: 'no_resolution' },
  );
}

/**
 * Moves the issue to `target`. With a transition name for it (`opts.transitionName`, else the
 * connector's `transitions`), that transition is posted when Jira offers it; otherwise the issue
 * moves into the target's status category (open→new, in_progress→indeterminate,
 * resolved/closed→done). Already there → `{changed: false}` without posting anything. Nothing fits
 * → a non-retryable ConnectorError listing the transitions Jira offered.
 */
export async function transitionJiraIssue(
  config: JiraConfig,
  issueKey: string,
  target: TicketStatus,
  opts: { timeoutMs: number; transitionName?: string },
): Promise<JiraTransitionResult> {
  const transitionName = opts.transitionName?.trim() || config.transitions?.[target];
  const from = await getJiraIssueStatus(config, issueKey, opts.timeoutMs);
  const category = JIRA_CATEGORY_FOR_STATUS[target];
  if (!transitionName && from.category === category) return { changed: false, from };

  const transitions = await listJiraTransitions(config, issueKey, opts.timeoutMs, {
    withFields: Boolean(config.resolution),
  });
  const transition = chooseJiraTransition(transitions, target, transitionName);
  // A named transition not offered from where the issue already is (in the target's category) has nothing to do.
  if (transition && lower(transition.to.name) === lower(from.name)) return { changed: false, from };
  if (!transition && transitionName && from.category === category) return { changed: false, from };
  if (!transition) {
    const wanted = transitionName
      ? `no transition named "${transitionName}"`
      : `no transition into status category "${category}"`;
    throw new ConnectorError(
      `Jira issue ${issueKey} (status "${from.name}") has ${wanted} for escalate status ${target}; ` +
        `available transitions: ${describeTransitions(transitions)}`,
      { retryable: false, remoteCode: 'no_transition' },
    );
  }

  const resolution = resolutionFor(config, target, transition);
  const res = await jiraSend(
    config,
    {
      method: 'POST',
      path: `${issuePath(issueKey)}/transitions`,
      body: { transition: { id: transition.id }, ...(resolution ? { fields: { resolution } } : {}) },
    },
    opts.timeoutMs,
  );
  expectStatus(res, [204, 200]);
  return { changed: true, from, transition };
}

/** Adds a comment: an ADF document on Cloud, a string (wiki markup) on Data Center. */
export async function addJiraComment(
  config: JiraConfig,
  issueKey: string,
  text: string,
  timeoutMs: number,
): Promise<{ id?: string }> {
  if (!text.trim()) throw new ConnectorError('Jira comment text is empty', { retryable: false });
  const bounded = truncate(text, MAX_DESCRIPTION);
  const res = await jiraSend(
    config,
    {
      method: 'POST',
      path: `${issuePath(issueKey)}/comment`,
      body: { body: config.api === 'cloud' ? textToAdf(bounded) : bounded },
    },
    timeoutMs,
  );
  expectStatus(res, [201, 200]);
  const body = parseJson(res.text) as { id?: string | number } | undefined;
  return body?.id === undefined ? {} : { id: String(body.id) };
}

/** The Jira priority for a severity under the connector's `priority_map` (undefined when disabled). */
export function jiraPriorityFor(config: JiraConfig, severity: Severity): string | { id: string } | undefined {
  if (config.priority_map === false) return undefined;
  return config.priority_map?.[severity] ?? DEFAULT_JIRA_PRIORITIES[severity];
}

/** Sets the issue's priority (by name, or `{id}` as `priority_map` allows). */
export async function setJiraPriority(
  config: JiraConfig,
  issueKey: string,
  priority: string | { id: string },
  timeoutMs: number,
): Promise<void> {
  const value = typeof priority === 'string' ? { name: priority } : { id: priority.id };
  const res = await jiraSend(
    config,
    { method: 'PUT', path: issuePath(issueKey), body: { fields: { priority: value } } },
    timeoutMs,
  );
  expectStatus(res, [204, 200]);
}
