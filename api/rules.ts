// biome-ignore-all lint/suspicious/noThenProperty: the rule field is named `then`; it is plain data, never a thenable.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { inArray } from 'drizzle-orm';
import { listConnectorRows, toPlanningConnector } from '../db/repos/connectors.js';
import {
  createRule,
  decodeRuleCursor,
  deleteRule,
  getRuleRow,
  listRulePage,
  listRules,
  RULE_ID_MESSAGE,
  RULE_ID_PATTERN,
  toPublicRule,
  toRuleRowValues,
  updateRule,
} from '../db/repos/rules.js';
import { connectors } from '../db/schema.js';
import { isItsmKind, NOTIFY_ON_DEFAULTS } from '../domain/connector.js';
import { compactEvent, type ViolationEvent, violationEventSchema } from '../domain/event.js';
import { planEvent } from '../domain/planning.js';
import type { RuleExplanation } from '../domain/rule-evaluation.js';
import { type Rule, rulePatchSchema, ruleSchema } from '../domain/rule-schema.js';
import type { ApiDeps } from './deps.js';
import { apiError, fieldIssues } from './errors.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent, listOf, pageQuery } from './schemas.js';

const PublicRuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    enabled: z.boolean(),
    order: z.number(),
    when: z.record(z.string(), z.unknown()),
    then: z.record(z.string(), z.unknown()),
    stop: z.boolean(),
    origin: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Rule');

export const RuleWithWarningsSchema = PublicRuleSchema.extend({
  /** Targets that do not (yet) name an ITSM connector: the rule is stored anyway. */
  warnings: z.array(z.string()),
}).openapi('RuleWithWarnings');

const ruleIdSchema = z.string().regex(RULE_ID_PATTERN, RULE_ID_MESSAGE);

/** POST body: a rule, optionally with a chosen id (default: a UUID). Plain zod, like the domain. */
const ruleCreateSchema = z.strictObject({ id: ruleIdSchema.optional(), ...ruleSchema.shape });

const idParam = z.object({ id: z.string().min(1).max(64) });

const DecisionSchema = z.object({
  connector_id: z.string(),
  connector_name: z.string(),
  action: z.enum(['ticket', 'deliver', 'notify', 'skip']),
  reason: z.string(),
});

const ExplanationSchema = z.object({
  rule_id: z.string(),
  rule_name: z.string(),
  order: z.number(),
  status: z.enum(['matched', 'not_matched', 'disabled', 'not_evaluated']),
  conditions: z.array(z.object({ condition: z.string(), matched: z.boolean(), detail: z.string() })),
  targets: z.array(
    z.object({
      connector_id: z.string(),
      outcome: z.enum(['claimed', 'already_claimed', 'unknown_connector', 'not_itsm', 'connector_disabled']),
      detail: z.string(),
    }),
  ),
  /** The rule's `then.notify` connectors (matched rules only). */
  notify: z.array(
    z.object({
      connector_id: z.string(),
      outcome: z.enum(['notified', 'unknown_connector', 'not_notification', 'connector_disabled']),
      detail: z.string(),
    }),
  ),
  stopped: z.boolean(),
  summary: z.string(),
});

const PlannedTicketSchema = z.object({
  connector_id: z.string(),
  connector_name: z.string(),
  /** `rule` when a rule claimed the connector, `default` for the auto_push fallback. */
  source: z.enum(['rule', 'default']),
  rule_id: z.string().nullable(),
  rule_name: z.string().nullable(),
  priority: z.string(),
  correlate_by: z.array(z.string()),
  correlation_key: z.string(),
  assignee: z.string().nullable(),
  assignment_group: z.string().nullable(),
  project_key: z.string().nullable(),
  issue_type: z.string().nullable(),
  labels: z.array(z.string()),
  auto_resolve_after_ms: z.number().nullable(),
  sla_ms: z.number().nullable(),
  reopen_within_ms: z.number().nullable(),
});

export const DryRunResultSchema = z
  .object({
    event_id: z.string(),
    severity: z.string(),
    risk_score: z.number().nullable(),
    /** True when no rule matched, so the default (auto_push) connectors were considered. */
    default_routing: z.object({ applied: z.boolean(), min_severity: z.string() }),
    decisions: z.array(DecisionSchema),
    explanations: z.array(ExplanationSchema),
    tickets: z.array(PlannedTicketSchema),
    siem: z.array(z.string()),
    /** Connectors told about the event's ticket and failed deliveries, and of what (their notify_on). */
    notify: z.array(z.object({ connector_id: z.string(), notify_on: z.array(z.string()) })),
  })
  .openapi('RuleDryRun');

const dryRunBodySchema = z.strictObject({ event: violationEventSchema });

/** PostgreSQL's unique_violation, possibly wrapped (drizzle wraps driver errors in `cause`). */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (e.code === '23505') return true;
    e = e.cause as typeof e;
  }
  return false;
}

const toNote = <T extends { connectorId: string; outcome: string; detail: string }>(t: T) => ({
  connector_id: t.connectorId,
  outcome: t.outcome,
  detail: t.detail,
});

const toExplanation = (e: RuleExplanation): z.infer<typeof ExplanationSchema> => ({
  rule_id: e.ruleId,
  rule_name: e.ruleName,
  order: e.order,
  status: e.status,
  conditions: e.conditions.map((c) => ({ condition: c.condition, matched: c.matched, detail: c.detail })),
  targets: e.targets.map(toNote) as z.infer<typeof ExplanationSchema>['targets'],
  notify: e.notify.map(toNote) as z.infer<typeof ExplanationSchema>['notify'],
  stopped: e.stopped,
  summary: e.summary,
});

/** Rule fields as stored, in the shape ruleSchema reads (to merge a PATCH into). */
const storedRuleInput = (row: NonNullable<Awaited<ReturnType<typeof getRuleRow>>>) => ({
  name: row.name,
  enabled: row.enabled,
  order: row.order,
  when: row.when,
  then: row.then,
  stop: row.stop,
});

export function rulesRouter(deps: ApiDeps) {
  const router = createRouter();
  const { db } = deps.database;

  /**
   * Targets that name no connector or a non-ITSM one, notify entries that name no notification
   * connector: stored anyway, the connector may come later.
   */
  async function targetWarnings(then: { targets?: unknown; notify?: unknown }): Promise<string[]> {
    const strings = (v: unknown) =>
      Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
    const targets = strings(then.targets);
    const notify = strings(then.notify);
    const ids = [...new Set([...targets, ...notify])];
    if (ids.length === 0) return [];
    const found = await db
      .select({
        id: connectors.id,
        kind: connectors.kind,
        name: connectors.name,
        enabled: connectors.enabled,
      })
      .from(connectors)
      .where(inArray(connectors.id, ids));
    const byId = new Map(found.map((c) => [c.id, c]));
    const warnings: string[] = [];
    targets.forEach((id, i) => {
      const c = byId.get(id);
      const at = `then.targets[${i}]`;
      if (!c) warnings.push(`${at}: no connector with id ${id} (yet); the rule skips it until one exists`);
      else if (!isItsmKind(c.kind))
        warnings.push(
          `${at}: ${id} (${c.name}) is a ${c.kind} connector, not an ITSM connector (jira, servicenow)`,
        );
      else if (!c.enabled) warnings.push(`${at}: ${id} (${c.name}) is disabled`);
    });
    notify.forEach((id, i) => {
      const c = byId.get(id);
      const at = `then.notify[${i}]`;
      if (!c) warnings.push(`${at}: no connector with id ${id} (yet); the rule skips it until one exists`);
      else if (!NOTIFY_ON_DEFAULTS[c.kind as keyof typeof NOTIFY_ON_DEFAULTS])
        warnings.push(
          `${at}: ${id} (${c.name}) is a ${c.kind} connector, not a notification connector (slack, teams, webhook)`,
        );
      else if (!c.enabled) warnings.push(`${at}: ${id} (${c.name}) is disabled`);
    });
    return warnings;
  }

  router.openapi(
    createRoute({
      method: 'get',
      path: '/rules',
      summary: 'Rules in evaluation order (order, then name)',
      request: { query: pageQuery },
      responses: {
        200: jsonContent(listOf(PublicRuleSchema), 'Rules'),
        400: errorResponse('Invalid cursor'),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const after = cursor === undefined ? undefined : decodeRuleCursor(cursor);
      if (cursor !== undefined && !after)
        return apiError(c, 400, 'invalid_cursor', 'cursor is not one this API issued');
      const { items, next_cursor } = await listRulePage(db, limit, after);
      return c.json({ items: items.map(toPublicRule), next_cursor }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/rules',
      summary: 'Create a rule',
      request: {
        body: { required: true, content: { 'application/json': { schema: ruleCreateSchema } } },
      },
      responses: {
        201: jsonContent(
          RuleWithWarningsSchema,
          'Created (warnings name targets that are not ITSM connectors)',
        ),
        400: errorResponse('Invalid rule (details name the fields)'),
        409: errorResponse('A rule with this id or name exists'),
      },
    }),
    async (c) => {
      const { id, ...rule } = c.req.valid('json');
      const values = toRuleRowValues({ ...rule, id: id ?? randomUUID() }, 'api');
      const warnings = await targetWarnings(rule.then);
      try {
        const row = await createRule(db, values, {
          actor: c.get('actor'),
          details: { targets: rule.then.targets, warnings },
        });
        return c.json({ ...toPublicRule(row), warnings }, 201);
      } catch (err) {
        if (isUniqueViolation(err))
          return apiError(c, 409, 'conflict', `a rule with id ${values.id} or name "${values.name}" exists`);
        throw err;
      }
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/rules/dry-run',
      summary: 'Evaluate an event against the stored rules and connectors, without side effects',
      request: {
        body: { required: true, content: { 'application/json': { schema: dryRunBodySchema } } },
      },
      responses: {
        200: jsonContent(DryRunResultSchema, 'What would happen, and why, rule by rule'),
        400: errorResponse('Invalid event (details name the fields, prefixed with event.)'),
      },
    }),
    async (c) => {
      const event = c.req.valid('json').event as ViolationEvent;
      const occurredAt = event.occurred_at ?? new Date().toISOString();
      const compact = compactEvent(event, occurredAt, deps.settings.risk_bands);
      // Read-only: the same inputs and the same function as the workflow's plan activity (it
      // reads no secrets, only learns which connectors' secrets cannot be decrypted).
      const [rows, ruleList] = await Promise.all([listConnectorRows(db), listRules(db)]);
      const names = new Map(rows.map((x) => [x.id, x.name]));
      const planning = rows.map((r) => toPlanningConnector(r, deps.box));
      const plan = planEvent(compact, planning, ruleList, deps.settings);
      return c.json(
        {
          event_id: compact.event_id,
          severity: compact.severity,
          risk_score: compact.risk_score ?? null,
          default_routing: {
            applied: plan.defaultRouting,
            min_severity: deps.settings.auto_push.min_severity,
          },
          decisions: plan.decisions,
          explanations: plan.explanations.map(toExplanation),
          tickets: plan.tickets.map(({ connectorId, priority, spec }) => ({
            connector_id: connectorId,
            connector_name: names.get(connectorId) ?? connectorId,
            source: spec.ruleId === undefined ? ('default' as const) : ('rule' as const),
            rule_id: spec.ruleId ?? null,
            rule_name: spec.ruleName ?? null,
            priority,
            correlate_by: spec.correlateBy ?? [],
            correlation_key: spec.correlationKey,
            assignee: spec.assignee ?? null,
            assignment_group: spec.assignmentGroup ?? null,
            project_key: spec.projectKey ?? null,
            issue_type: spec.issueType ?? null,
            labels: spec.labels,
            auto_resolve_after_ms: spec.autoResolveAfterMs ?? null,
            sla_ms: spec.slaMs ?? null,
            reopen_within_ms: spec.reopenWithinMs ?? null,
          })),
          siem: plan.siem,
          notify: plan.listeners.map((l) => ({ connector_id: l.connectorId, notify_on: l.notifyOn })),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/rules/{id}',
      summary: 'One rule (warnings name targets that are not ITSM connectors)',
      request: { params: idParam },
      responses: {
        200: jsonContent(RuleWithWarningsSchema, 'The rule'),
        404: errorResponse('Unknown rule'),
      },
    }),
    async (c) => {
      const row = await getRuleRow(db, c.req.valid('param').id);
      if (!row) return apiError(c, 404, 'not_found', 'no such rule');
      const warnings = await targetWarnings(row.then);
      return c.json({ ...toPublicRule(row), warnings }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/rules/{id}',
      summary: 'Change a rule; `when` and `then` replace the stored ones whole',
      request: {
        params: idParam,
        body: { required: true, content: { 'application/json': { schema: rulePatchSchema } } },
      },
      responses: {
        200: jsonContent(RuleWithWarningsSchema, 'Updated'),
        400: errorResponse('Invalid change'),
        404: errorResponse('Unknown rule'),
        409: errorResponse('Name taken'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const patch = c.req.valid('json');
      const row = await getRuleRow(db, id);
      if (!row) return apiError(c, 404, 'not_found', 'no such rule');
      const merged = ruleSchema.safeParse({ ...storedRuleInput(row), ...patch });
      if (!merged.success) {
        const details = fieldIssues(merged.error);
        return apiError(
          c,
          400,
          'validation_failed',
          `invalid rule: ${details.map((d) => d.path).join(', ')}`,
          details,
        );
      }
      const rule: Rule = { ...merged.data, id };
      const warnings = await targetWarnings(rule.then);
      const { origin: _origin, ...values } = toRuleRowValues(rule, row.origin as 'api' | 'config');
      try {
        const updated = await updateRule(db, id, values, {
          actor: c.get('actor'),
          details: { changed: Object.keys(patch), warnings },
        });
        if (!updated) return apiError(c, 404, 'not_found', 'no such rule');
        return c.json({ ...toPublicRule(updated), warnings }, 200);
      } catch (err) {
        if (isUniqueViolation(err)) return apiError(c, 409, 'conflict', `a rule named "${rule.name}" exists`);
        throw err;
      }
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/rules/{id}',
      summary: 'Delete a rule (running workflows keep the rules they loaded)',
      request: { params: idParam },
      responses: { 204: { description: 'Deleted' }, 404: errorResponse('Unknown rule') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await deleteRule(db, id, c.get('actor')))) return apiError(c, 404, 'not_found', 'no such rule');
      return c.body(null, 204);
    },
  );

  return router;
}
