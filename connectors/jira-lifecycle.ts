import type { JiraConfig } from '../domain/connector.js';
import { JIRA_CATEGORY_FOR_STATUS } from '../domain/itsm-status.js';
import type { Severity } from '../domain/severity.js';
import { MAX_DESCRIPTION, truncate } from '../domain/ticket.js';
import type { TicketStatus } from '../domain/ticket-status.js';
import { ConnectorError, errorFromResponse, type HttpResponse, parseJson, send } from './http.js';
import { DEFAULT_JIRA_PRIORITIES, jiraApiRoot, jiraErrorMessage, jiraHeaders } from './jira.js';
import type { AdfNode } from './jira-format.js';

/**
 * Jira side of the ticket lifecycle: move an issue to an escalate status through a
 * workflow transition, comment, change priority, and read the status a `jira:issue_updated`
 * webhook reports. Cloud uses REST v3 (ADF bodies), Data Center REST v2 (string bodies).
 * Pure HTTP; activities map ConnectorError to Temporal failures.
 */

const issueUrl = (config: JiraConfig, issueKey: string): string =>
  `${jiraApiRoot(config)}/issue/${encodeURIComponent(issueKey)}`;

export interface JiraStatus {
  name: string;
  /** Status category key as Jira reports it (`new`, `indeterminate`, `done`, or `undefined`). */
  category: string;
}

export interface JiraTransition {
  id: string;
  name: string;
  to: JiraStatus;
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
  const res = await send(
    { method: 'GET', url: `${issueUrl(config, issueKey)}?fields=status`, headers: jiraHeaders(config) },
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

/** Transitions available from the issue's current status. */
export async function listJiraTransitions(
  config: JiraConfig,
  issueKey: string,
  timeoutMs: number,
): Promise<JiraTransition[]> {
  const res = await send(
    { method: 'GET', url: `${issueUrl(config, issueKey)}/transitions`, headers: jiraHeaders(config) },
    timeoutMs,
  );
  expectStatus(res, [200]);
  const body = parseJson(res.text) as
    | {
        transitions?: {
          id?: string | number;
          name?: string;
          to?: { name?: string; statusCategory?: { key?: string } };
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

/**
 * Moves the issue into the status category of `target` (open→new, in_progress→indeterminate,
 * resolved/closed→done). Already there → `{changed: false}` without posting anything (the
 * configured transition name only picks among transitions when a move is needed). No usable
 * transition → a non-retryable ConnectorError listing the available ones.
 */
export async function transitionJiraIssue(
  config: JiraConfig,
  issueKey: string,
  target: TicketStatus,
  opts: { timeoutMs: number; transitionName?: string },
): Promise<JiraTransitionResult> {
  const from = await getJiraIssueStatus(config, issueKey, opts.timeoutMs);
  const category = JIRA_CATEGORY_FOR_STATUS[target];
  if (from.category === category) return { changed: false, from };

  const transitions = await listJiraTransitions(config, issueKey, opts.timeoutMs);
  const transition = chooseJiraTransition(transitions, target, opts.transitionName);
  if (!transition) {
    const wanted = opts.transitionName?.trim()
      ? `no transition named "${opts.transitionName}"`
      : `no transition into status category "${category}"`;
    throw new ConnectorError(
      `Jira issue ${issueKey} (status "${from.name}") has ${wanted} for escalate status ${target}; ` +
        `available transitions: ${describeTransitions(transitions)}`,
      { retryable: false, remoteCode: 'no_transition' },
    );
  }

  const res = await send(
    {
      method: 'POST',
      url: `${issueUrl(config, issueKey)}/transitions`,
      headers: jiraHeaders(config),
      body: JSON.stringify({ transition: { id: transition.id } }),
    },
    opts.timeoutMs,
  );
  expectStatus(res, [204, 200]);
  return { changed: true, from, transition };
}

/**
 * Plain text as an ADF document: blank lines separate paragraphs, single newlines are hard breaks.
 * Text is never interpreted as markup.
 */
export function textToAdf(text: string): AdfNode {
  type Inline = { type: 'text'; text: string } | { type: 'hardBreak' };
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/^\n+|\n+$/g, ''))
    .filter((p) => p.trim());
  const content = paragraphs.map((para) => {
    const inline: Inline[] = [];
    for (const line of para.split('\n')) {
      if (inline.length) inline.push({ type: 'hardBreak' });
      if (line.length) inline.push({ type: 'text', text: line });
    }
    return { type: 'paragraph', content: inline };
  });
  // AdfNode (jira-format.ts) does not model hardBreak; the document is valid ADF.
  return { type: 'doc', version: 1, content } as unknown as AdfNode;
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
  const res = await send(
    {
      method: 'POST',
      url: `${issueUrl(config, issueKey)}/comment`,
      headers: jiraHeaders(config),
      body: JSON.stringify({ body: config.api === 'cloud' ? textToAdf(bounded) : bounded }),
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
  const res = await send(
    {
      method: 'PUT',
      url: issueUrl(config, issueKey),
      headers: jiraHeaders(config),
      body: JSON.stringify({ fields: { priority: value } }),
    },
    timeoutMs,
  );
  expectStatus(res, [204, 200]);
}
