import type { ViolationEvent } from './event.js';
import type { TicketSpec } from './plan.js';
import type { Severity } from './severity.js';
import { renderTemplate } from './template.js';
import { defaultTitle, eventFacts, type TicketDraft } from './ticket.js';

/** Per-connector presentation settings: templates, custom fields, Jira labels/components/assignee. */
export interface DraftConfig {
  title_template?: string;
  description_template?: string;
  custom_fields?: Record<string, string>;
  labels?: string[];
  components?: string[];
  assignee?: string;
}

/** Rendered list entries, blanks dropped. */
const renderList = (templates: string[] | undefined, data: unknown): string[] =>
  (templates ?? []).map((t) => renderTemplate(t, data).trim()).filter(Boolean);

/**
 * The neutral ticket content for a stored violation; connectors render it per platform.
 * Templates see the payload plus the derived `severity` and `priority`.
 */
export function buildTicketDraft(args: {
  payload: Record<string, unknown>;
  severity: Severity;
  priority: Severity;
  idempotencyKey: string;
  config?: DraftConfig;
  spec?: Pick<TicketSpec, 'labels' | 'assignee' | 'assignmentGroup' | 'projectKey' | 'issueType'>;
}): TicketDraft {
  const event = args.payload as ViolationEvent;
  const data = { ...args.payload, severity: args.severity, priority: args.priority };
  const config = args.config ?? {};
  const customFields = Object.fromEntries(
    Object.entries(config.custom_fields ?? {}).map(([field, template]) => [
      field,
      renderTemplate(template, data),
    ]),
  );
  const defaultAssignee = config.assignee ? renderTemplate(config.assignee, data).trim() : '';
  return {
    eventId: event.event_id,
    idempotencyKey: args.idempotencyKey,
    title: config.title_template ? renderTemplate(config.title_template, data) : defaultTitle(event),
    severity: args.severity,
    priority: args.priority,
    facts: eventFacts(event, args.severity),
    descriptionText: config.description_template
      ? renderTemplate(config.description_template, data)
      : undefined,
    payload: args.payload,
    // The connector's labels first, then the rule's (Jira makes them safe: no spaces).
    labels: [...new Set([...renderList(config.labels, data), ...(args.spec?.labels ?? [])])],
    customFields,
    projectKey: args.spec?.projectKey,
    issueType: args.spec?.issueType,
    assignee: args.spec?.assignee ?? (defaultAssignee || undefined),
    assignmentGroup: args.spec?.assignmentGroup,
    ...(config.components ? { components: renderList(config.components, data) } : {}),
  };
}
