import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, or } from 'drizzle-orm';
import type { Context } from 'hono';
import { getConnectorRow, readSecrets } from '../db/repos/connectors.js';
import { installDefaults } from '../db/repos/install.js';
import { addTicketEvent, recordItsmComment } from '../db/repos/tickets.js';
import { claimReceipt, purgeReceipts, releaseReceipt } from '../db/repos/webhook-receipts.js';
import { tickets } from '../db/schema.js';
import type { JiraConfig, ServiceNowConfig } from '../domain/connector.js';
import {
  jiraStatusFromWebhook,
  knownServiceNowStates,
  serviceNowStateMap,
  statusFromServiceNowState,
} from '../domain/itsm-status.js';
import { verifyEscalateSignature } from '../domain/signing.js';
import { TICKET_STATUSES, type TicketStatus } from '../domain/ticket-status.js';
import { webhooks } from '../infra/metrics.js';
import { ticketWorkflowId } from '../workflows/contract.js';
import { logFields } from './access-log.js';
import type { ApiDeps } from './deps.js';
import { ApiProblem, apiError, fieldIssues } from './errors.js';
import { parseJsonBody, readRawBody } from './raw-body.js';
import { createRouter } from './router.js';
import { errorResponse, jsonContent } from './schemas.js';
import { changeTicketStatus } from './ticket-changes.js';

const MAX_WEBHOOK_BYTES = 1024 * 1024;
const TIMESTAMP_TOLERANCE_S = 300;

const ResultSchema = z
  .object({
    result: z.enum(['applied', 'noop', 'ignored', 'duplicate']),
    ticket_id: z.string().optional(),
    status: z.string().optional(),
    reason: z.string().optional(),
  })
  .openapi('WebhookResult');

const responses = {
  200: jsonContent(ResultSchema, 'Applied, no-op, ignored (not a status change) or duplicate'),
  400: errorResponse('Malformed payload'),
  401: errorResponse('Missing or bad signature'),
  404: errorResponse('Unknown connector or ticket'),
  409: errorResponse('Transition refused (with the reason)'),
};

export const genericWebhookBody = z.object({
  external_ticket_id: z.string().min(1).max(255),
  status: z.enum(TICKET_STATUSES),
});
export const jiraWebhookBody = z.looseObject({
  webhookEvent: z.string(),
  issue: z.looseObject({ key: z.string().min(1), fields: z.looseObject({}).optional() }),
  /** `comment_created`: the comment (its body as text). */
  comment: z
    .looseObject({
      id: z.union([z.string().min(1).max(64), z.number().int()]),
      body: z.union([z.string(), z.looseObject({})]),
      author: z
        .looseObject({
          displayName: z.string().optional(),
          accountId: z.string().optional(),
          name: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
  changelog: z
    .looseObject({ items: z.array(z.looseObject({ field: z.string().optional() })).optional() })
    .optional(),
});
export const servicenowWebhookBody = z
  .object({
    sys_id: z.string().max(64).optional(),
    number: z.string().max(64).optional(),
    state: z.union([z.string(), z.number()]),
    work_notes: z.string().max(32_000).optional(),
  })
  .refine((b) => b.sys_id || b.number, { message: 'sys_id or number is required', path: ['sys_id'] });

function parse<T extends z.ZodType>(schema: T, text: string): z.output<T> {
  const r = schema.safeParse(parseJsonBody(text));
  if (!r.success)
    throw new ApiProblem(400, 'validation_failed', 'invalid webhook payload', fieldIssues(r.error));
  return r.data;
}

const unauthorized = (message: string) => new ApiProblem(401, 'unauthorized', message);

/** `escalate_webhooks_total` outcome for an answer: the `result` of a 200, or the error class. */
async function webhookOutcome(res: Response): Promise<string> {
  if (res.status === 200) {
    try {
      const { result } = (await res.clone().json()) as { result?: unknown };
      if (typeof result === 'string' && ResultSchema.shape.result.safeParse(result).success) return result;
    } catch {}
    return 'applied';
  }
  if (res.status === 401 || res.status === 403) return 'unauthorized';
  if (res.status === 404) return 'not_found';
  if (res.status === 409) return 'refused';
  if (res.status >= 400 && res.status < 500) return 'invalid';
  return 'error';
}

const WEBHOOK_SOURCES = new Set(['itsm', 'jira', 'servicenow']);

/** Signatures are checked against this when a connector has no secret, so that takes as long. */
const NO_SECRET = randomBytes(32).toString('hex');
/** Receipts of used generic-webhook signatures (single use within the timestamp window). */
const ITSM_SIGNATURES = 'itsm:signature';

const sameSecret = (given: string, expected: string) => {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
};

export function webhooksRouter(deps: ApiDeps) {
  const router = createRouter();
  const { db } = deps.database;

  // Counts every webhook by source and outcome (errors thrown below are answered by the app's
  // onError before this middleware resumes, so their status is known here).
  router.use('/webhooks/*', async (c, next) => {
    await next();
    const segment = c.req.path.split('/')[3] ?? '';
    const source = WEBHOOK_SOURCES.has(segment) ? segment : 'other';
    webhooks.inc({ source, outcome: await webhookOutcome(c.res) });
  });

  /**
   * The connector a native webhook names, or undefined when there is none of that kind (or its
   * secrets cannot be read): the caller then answers exactly as for a bad signature, so the
   * endpoint does not tell which connector ids exist.
   */
  async function webhookConnector(id: string, kind: 'jira' | 'servicenow') {
    const row = await getConnectorRow(db, id);
    if (!row || row.kind !== kind) return undefined;
    const secrets = readSecrets(row, deps.box);
    if (!secrets.readable) {
      deps.logger.warn(
        { connector_id: id, reason: secrets.reason },
        'webhook refused: connector secrets unreadable',
      );
      return undefined;
    }
    return { id: row.id, config: { ...row.config, ...secrets.values } };
  }

  /** Constant-time signature check, also run (against a throwaway secret) when there is no secret. */
  const verified = (secret: string | undefined, body: string, header: string | undefined) =>
    verifyEscalateSignature(secret ?? NO_SECRET, body, header) && secret !== undefined;

  async function apply(
    c: Context,
    ticket: typeof tickets.$inferSelect | undefined,
    status: TicketStatus,
    actor: string,
  ) {
    if (!ticket) return apiError(c, 404, 'not_found', 'no ticket with that external id');
    logFields(c, {
      ticket_id: ticket.id,
      connector_id: ticket.connectorId,
      workflow_id: ticketWorkflowId(ticket.id),
    });
    const outcome = await changeTicketStatus(deps, ticket, { status, source: 'itsm', actor });
    if (outcome.kind === 'refused')
      return apiError(c, 409, 'invalid_transition', outcome.reason, { status: outcome.status });
    return c.json({ result: outcome.kind, ticket_id: ticket.id, status: outcome.status }, 200);
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/webhooks/itsm',
      summary:
        'Generic ITSM status webhook {external_ticket_id, status}, signed X-Escalate-Signature: sha256=<hex HMAC> ' +
        'of "<X-Escalate-Timestamp>.<body>" (timestamp within 5 minutes, each signature used once; required unless ' +
        'settings.webhooks.require_timestamp is false or the install predates it, then the HMAC of the body alone is accepted)',
      security: [],
      responses,
    }),
    async (c) => {
      const raw = await readRawBody(c, MAX_WEBHOOK_BYTES);
      if (!deps.webhookSecret)
        throw unauthorized('ESCALATE_WEBHOOK_SECRET is not configured: generic webhooks are disabled');
      const timestamp = c.req.header('x-escalate-timestamp');
      if (timestamp === undefined) {
        const required =
          deps.settings.webhooks.require_timestamp ??
          (await installDefaults(db)).itsm_webhook_require_timestamp;
        if (required)
          throw unauthorized('X-Escalate-Timestamp is required (the HMAC then covers "<timestamp>.<body>")');
      } else {
        const ts = Number(timestamp);
        if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - ts) > TIMESTAMP_TOLERANCE_S) {
          throw unauthorized('X-Escalate-Timestamp missing from tolerance (±5 minutes)');
        }
      }
      const signature = c.req.header('x-escalate-signature');
      const signed = timestamp !== undefined ? `${timestamp}.${raw}` : raw;
      if (!verifyEscalateSignature(deps.webhookSecret, signed, signature)) {
        throw unauthorized('bad or missing X-Escalate-Signature');
      }
      // A timestamped signature is good once: a replay within the tolerance window is refused.
      const body = parse(genericWebhookBody, raw);
      const process = async () => {
        const found = await db
          .select()
          .from(tickets)
          .where(eq(tickets.externalId, body.external_ticket_id))
          .limit(2);
        if (found.length > 1) {
          return apiError(
            c,
            409,
            'ambiguous',
            `${body.external_ticket_id} exists on several connectors: use /v1/webhooks/jira|servicenow/{connector_id}`,
          );
        }
        return apply(c, found[0], body.status, 'itsm:webhook');
      };
      if (timestamp === undefined) return process();
      await purgeReceipts(db, ITSM_SIGNATURES, new Date(Date.now() - 2 * TIMESTAMP_TOLERANCE_S * 1000));
      if (!(await claimReceipt(db, ITSM_SIGNATURES, signature!)))
        throw unauthorized('this signature was already used (a replayed request)');
      return releasingOnFailure(ITSM_SIGNATURES, signature!, process);
    },
  );

  /**
   * Processes a delivery whose receipt was claimed. Our own failure (a 5xx, an unexpected error)
   * gives the receipt back, so the sender's retry of the same request is processed; a verdict on
   * the request itself (4xx) keeps it.
   */
  async function releasingOnFailure<R extends Response>(
    source: string,
    key: string,
    process: () => Promise<R>,
  ): Promise<R> {
    try {
      const res = await process();
      if (res.status >= 500) await releaseReceipt(db, source, key);
      return res;
    } catch (err) {
      if (!(err instanceof ApiProblem && err.status < 500)) await releaseReceipt(db, source, key);
      throw err;
    }
  }

  /**
   * A comment written in Jira joins the ticket's history (never posted back). One line per Jira
   * comment: the webhook for a comment escalate posted itself, or a repeated webhook, adds nothing.
   */
  async function recordComment(
    c: Context,
    connectorId: string,
    ticket: typeof tickets.$inferSelect | undefined,
    comment: NonNullable<z.output<typeof jiraWebhookBody>['comment']>,
  ) {
    if (!ticket) return apiError(c, 404, 'not_found', 'no ticket with that external id');
    logFields(c, { ticket_id: ticket.id, connector_id: connectorId });
    const who = comment.author?.displayName ?? comment.author?.name ?? comment.author?.accountId ?? 'unknown';
    const text = typeof comment.body === 'string' ? comment.body : JSON.stringify(comment.body);
    const added = await recordItsmComment(db, ticket.id, {
      remoteId: `jira-comment:${comment.id}`,
      actor: `jira:${connectorId}:${who}`,
      note: text,
    });
    return c.json(
      added
        ? { result: 'applied' as const, ticket_id: ticket.id }
        : { result: 'duplicate' as const, ticket_id: ticket.id, reason: 'comment already in the history' },
      200,
    );
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/webhooks/jira/{connector_id}',
      summary:
        'Native Jira webhook, verified by X-Hub-Signature (the connector webhook_secret): jira:issue_updated changes the status, comment_created adds the comment to the ticket history',
      security: [],
      request: { params: z.object({ connector_id: z.string().min(1).max(64) }) },
      responses,
    }),
    async (c) => {
      const connector = await webhookConnector(c.req.valid('param').connector_id, 'jira');
      const raw = await readRawBody(c, MAX_WEBHOOK_BYTES);
      const config = connector?.config as JiraConfig | undefined;
      if (!connector || !config || !verified(config.webhook_secret, raw, c.req.header('x-hub-signature'))) {
        throw unauthorized('bad or missing X-Hub-Signature');
      }
      const body = parse(jiraWebhookBody, raw);
      const source = `jira:${connector.id}`;
      const identifier = c.req.header('x-atlassian-webhook-identifier');
      // The receipt first: of concurrent deliveries with one identifier, exactly one goes on.
      if (!identifier) return jiraDelivery(c, body, connector.id, config, source);
      if (!(await claimReceipt(db, source, identifier))) return c.json({ result: 'duplicate' as const }, 200);
      return releasingOnFailure(source, identifier, () =>
        jiraDelivery(c, body, connector.id, config, source),
      );
    },
  );

  /** A verified, first-seen Jira delivery: a comment for the history, or a status change. */
  async function jiraDelivery(
    c: Context,
    body: z.output<typeof jiraWebhookBody>,
    connectorId: string,
    config: JiraConfig,
    source: string,
  ) {
    const ticketOf = async () => {
      const [ticket] = await db
        .select()
        .from(tickets)
        .where(and(eq(tickets.connectorId, connectorId), eq(tickets.externalId, body.issue.key)));
      return ticket;
    };
    if (body.webhookEvent === 'comment_created' && body.comment)
      return recordComment(c, connectorId, await ticketOf(), body.comment);
    const statusChanged = body.changelog?.items?.some((i) => i.field === 'status') ?? true;
    if (body.webhookEvent !== 'jira:issue_updated' || !statusChanged) {
      return c.json({ result: 'ignored' as const, reason: 'not a status change' }, 200);
    }
    const status = jiraStatusFromWebhook(body.issue as never, config.status_map);
    if (!status)
      throw new ApiProblem(
        400,
        'validation_failed',
        'issue.fields.status.statusCategory.key is missing or unknown',
        [
          {
            path: 'issue.fields.status.statusCategory.key',
            message: 'expected new, indeterminate or done (or a status_map name)',
          },
        ],
      );
    return apply(c, await ticketOf(), status, source);
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/webhooks/servicenow/{connector_id}',
      summary:
        'ServiceNow business-rule webhook {sys_id|number, state, work_notes?}; X-Escalate-Signature HMAC, or Authorization: Bearer <webhook_secret> for a connector with webhook_auth: bearer',
      security: [],
      request: { params: z.object({ connector_id: z.string().min(1).max(64) }) },
      responses,
    }),
    async (c) => {
      const found = await webhookConnector(c.req.valid('param').connector_id, 'servicenow');
      const raw = await readRawBody(c, MAX_WEBHOOK_BYTES);
      const secret = (found?.config as ServiceNowConfig | undefined)?.webhook_secret;
      // Bearer mode only for connectors that opted in (`webhook_auth: bearer`); else the HMAC.
      const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
      const ok =
        (found?.config as ServiceNowConfig | undefined)?.webhook_auth === 'bearer'
          ? bearer !== undefined && secret !== undefined && sameSecret(bearer, secret)
          : verified(secret, raw, c.req.header('x-escalate-signature'));
      if (!found || !ok)
        throw unauthorized(
          'bad or missing X-Escalate-Signature (or bearer secret, for a connector in bearer mode)',
        );
      const connector = found;
      const config = found.config as ServiceNowConfig;
      const body = parse(servicenowWebhookBody, raw);
      // The table's state values (its state_map over the built-in one), read in reverse.
      const states = serviceNowStateMap(config.table, config.state_map);
      const status = statusFromServiceNowState(states, body.state);
      if (!status)
        throw new ApiProblem(400, 'validation_failed', `unknown ${config.table} state ${body.state}`, [
          { path: 'state', message: `expected one of ${knownServiceNowStates(states).join(', ')}` },
        ]);
      const match = body.sys_id ? eq(tickets.sysId, body.sys_id) : eq(tickets.externalId, body.number!);
      const [ticket] = await db
        .select()
        .from(tickets)
        .where(and(eq(tickets.connectorId, connector.id), or(match)));
      const actor = `servicenow:${connector.id}`;
      // Work notes that arrive from the ITSM are part of the ticket's story (never echoed back).
      if (ticket && body.work_notes)
        await addTicketEvent(db, ticket.id, {
          type: 'comment',
          source: 'itsm',
          actor,
          note: body.work_notes,
        });
      return apply(c, ticket, status, actor);
    },
  );
  return router;
}
