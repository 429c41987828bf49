/**
 * Escalation rules as admins write them (API and ESCALATE_CONFIG): `{name, enabled, order, when,
 * then, stop}`, validated with zod so every offending field is named.
 */
// biome-ignore-all lint/suspicious/noThenProperty: the rule field is named `then`; it holds a plain object, never a function, so nothing treats a rule as a thenable.
import { z } from 'zod';
import { durationSchema } from './connector.js';
import { CORRELATABLE_FIELDS, isCorrelatableField } from './correlation.js';
import { EVENT_TYPES } from './event.js';
import { SEVERITIES } from './severity.js';

const text = (max: number) => z.string().trim().min(1).max(max);
const nonEmptyList = <T extends z.ZodType>(item: T, max = 100) => z.array(item).min(1).max(max);

export const ruleWhenSchema = z.strictObject({
  event_types: nonEmptyList(z.enum(EVENT_TYPES), EVENT_TYPES.length).optional(),
  min_severity: z.enum(SEVERITIES).optional(),
  min_risk_score: z.number().min(0).max(1).optional(),
  /** Any of; compared case-insensitively (`BLOCK` matches `block`). */
  policy_actions: nonEmptyList(text(256)).optional(),
  /** Any of the event's classification types; compared case-insensitively. */
  classifications: nonEmptyList(text(256)).optional(),
  /** Any of; exact compare. */
  platform_ids: nonEmptyList(text(256)).optional(),
  /** Every given tag must be present with exactly this value. */
  tags: z
    .record(z.string().min(1).max(128), z.string().max(512))
    .refine((t) => Object.keys(t).length > 0, { message: 'give at least one tag or leave tags out' })
    .optional(),
});

export const ruleThenSchema = z.strictObject({
  /** ITSM connector ids. */
  targets: nonEmptyList(text(128), 50).refine((ids) => new Set(ids).size === ids.length, {
    message: 'targets must not repeat a connector id',
  }),
  /** The severity word the ticket's priority comes from (default: the event's severity). */
  priority: z.enum(SEVERITIES).optional(),
  assignee: text(256).optional(),
  assignment_group: text(256).optional(),
  project_key: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,49}$/, 'Jira project keys are upper-case letters/digits')
    .optional(),
  issue_type: text(128).optional(),
  labels: z
    .array(z.string().min(1).max(255).regex(/^\S+$/, 'labels cannot contain whitespace'))
    .max(50)
    .optional(),
  auto_resolve_after: durationSchema.optional(),
  sla: durationSchema.optional(),
  correlate_by: nonEmptyList(
    z.string().refine(isCorrelatableField, {
      message: `unknown field path: use tags.<key> or one of ${CORRELATABLE_FIELDS.join(', ')}`,
    }),
    20,
  ).optional(),
  reopen_within: durationSchema.optional(),
  /**
   * Notification connectors (slack, teams, webhook) told about matching events, in addition to
   * those whose own filters pass; what they are told of is still their `notify_on`.
   */
  notify: nonEmptyList(text(128), 50)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'notify must not repeat a connector id' })
    .optional(),
});

export const ruleSchema = z.strictObject({
  name: text(200),
  enabled: z.boolean().default(true),
  order: z.number().int().min(-1_000_000).max(1_000_000).default(0),
  /** All given conditions must hold; no condition at all matches every event. */
  when: ruleWhenSchema.prefault({}),
  then: ruleThenSchema,
  stop: z.boolean().default(false),
});

/** PATCH body: every field optional, no defaults; `when` / `then` replace the stored ones whole. */
export const rulePatchSchema = z
  .strictObject({
    name: text(200).optional(),
    enabled: z.boolean().optional(),
    order: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    when: ruleWhenSchema.optional(),
    then: ruleThenSchema.optional(),
    stop: z.boolean().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' });

export type RuleWhen = z.output<typeof ruleWhenSchema>;
export type RuleThen = z.output<typeof ruleThenSchema>;
export type RuleInput = z.input<typeof ruleSchema>;
export type RulePatch = z.output<typeof rulePatchSchema>;
export type Rule = z.output<typeof ruleSchema> & { id: string };

/** Rule ids (API, ESCALATE_CONFIG, `escalate rules apply`): the same grammar as connector ids. */
export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const RULE_ID_MESSAGE = 'ids are lower-case letters, digits, "-" and "_" (max 63)';
