/**
 * Fake Microsoft Teams Workflows webhook (`POST /workflows/{id}/triggers/manual/paths/invoke
 * ?api-version=…&sig=…`): 404 for an unknown workflow, 401 for a wrong `sig`, 202 (empty body)
 * for a message it would post, 405 to a GET.
 *
 * Stricter than Workflows, on purpose: Workflows queues any JSON with 202 and its flow run fails
 * later on a card it cannot post ("attachments … is of type Null", "Property 'type' must be
 * 'AdaptiveCard'", card versions above 1.4). This fake refuses such a message at once with 400, so
 * a test sees the mistake: `{"type": "message", "attachments": [{"contentType":
 * "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", "version":
 * "1.0"–"1.4", "body": [...]}}]}`, body elements of known types with their required fields,
 * `Action.OpenUrl` actions with a title and an http(s) URL.
 */
import { Hono } from 'hono';
import { type Env, Faults, faultMiddleware, rawBody, startServer } from './fault.js';

export interface TeamsCardReceived {
  card: Record<string, unknown>;
  raw: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => typeof v === 'string' && v.length > 0;

function elementProblem(e: unknown, at: string): string | undefined {
  if (!isObj(e)) return `${at} is not an object`;
  switch (e.type) {
    case 'TextBlock':
      return typeof e.text === 'string' ? undefined : `${at}: TextBlock needs text`;
    case 'FactSet':
      return Array.isArray(e.facts) &&
        e.facts.every((f) => isObj(f) && typeof f.title === 'string' && typeof f.value === 'string')
        ? undefined
        : `${at}: FactSet needs facts of {title, value} strings`;
    case 'Image':
      return str(e.url) ? undefined : `${at}: Image needs url`;
    case 'Container':
      return Array.isArray(e.items)
        ? e.items.map((x, i) => elementProblem(x, `${at}.items[${i}]`)).find(Boolean)
        : `${at}: Container needs items`;
    case 'ColumnSet':
      return Array.isArray(e.columns) ? undefined : `${at}: ColumnSet needs columns`;
    default:
      return `${at}: unknown element type ${String(e.type)}`;
  }
}

/** Why the message is not one Workflows can post as an Adaptive Card, or undefined. */
export function teamsMessageProblem(message: unknown): string | undefined {
  if (!isObj(message) || message.type !== 'message') return 'the body must be {"type": "message", ...}';
  const { attachments } = message;
  if (!Array.isArray(attachments) || attachments.length === 0) return 'attachments must be a non-empty array';
  for (const [i, a] of attachments.entries()) {
    const at = `attachments[${i}]`;
    if (!isObj(a) || a.contentType !== 'application/vnd.microsoft.card.adaptive')
      return `${at}.contentType must be application/vnd.microsoft.card.adaptive`;
    const card = a.content;
    if (!isObj(card) || card.type !== 'AdaptiveCard')
      return `${at}.content: Property 'type' must be 'AdaptiveCard'`;
    if (typeof card.version !== 'string' || !/^1\.[0-4]$/.test(card.version))
      return `${at}.content.version must be 1.0–1.4 (Workflows posts no later schema)`;
    if (!Array.isArray(card.body) || card.body.length === 0)
      return `${at}.content.body must be a non-empty array`;
    const bodyProblem = card.body.map((e, j) => elementProblem(e, `${at}.content.body[${j}]`)).find(Boolean);
    if (bodyProblem) return bodyProblem;
    if (card.actions !== undefined) {
      if (!Array.isArray(card.actions)) return `${at}.content.actions must be an array`;
      for (const [j, action] of card.actions.entries()) {
        if (!isObj(action) || action.type !== 'Action.OpenUrl' || !str(action.title))
          return `${at}.content.actions[${j}]: only Action.OpenUrl with a title is checked by this fake`;
        if (typeof action.url !== 'string' || !/^https?:\/\//.test(action.url))
          return `${at}.content.actions[${j}].url must be http(s)`;
      }
    }
  }
  return undefined;
}

export async function startFakeTeams(opts: { workflowId?: string; sig?: string } = {}) {
  const workflowId = opts.workflowId ?? 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const sig = opts.sig ?? 'fake-signature-0123456789';
  const faults = new Faults();
  const received: TeamsCardReceived[] = [];
  const app = new Hono<Env>();
  const error = (code: string, message: string) => ({ error: { code, message } });

  app.use(
    '*',
    faultMiddleware(faults, (status) => error(`HTTP${status}`, `HTTP ${status}`)),
  );
  // The trigger takes POST only.
  app.get('/workflows/:id/triggers/manual/paths/invoke', (c) =>
    c.json(
      error(
        'TriggerRequestMethodNotValid',
        "The HTTP method for this request is not valid: expected 'Post' and actual 'GET'.",
      ),
      405,
    ),
  );
  app.post('/workflows/:id/triggers/manual/paths/invoke', async (c) => {
    if (c.req.param('id') !== workflowId)
      return c.json(
        error('WorkflowNotFound', `The workflow '${c.req.param('id')}' could not be found.`),
        404,
      );
    if (c.req.query('sig') !== sig)
      return c.json(
        error('DirectApiInvalidAuthorizationSignature', 'The provided callback URL signature is not valid.'),
        401,
      );
    let body: unknown;
    try {
      body = JSON.parse(await rawBody(c));
    } catch {
      return c.json(error('InvalidRequestContent', 'The request content is not valid JSON.'), 400);
    }
    const problem = teamsMessageProblem(body);
    if (problem) return c.json(error('InvalidAdaptiveCard', problem), 400);
    for (const a of (body as { attachments: Obj[] }).attachments)
      received.push({ card: a.content as Obj, raw: body as Obj });
    return c.body(null, 202);
  });

  const server = await startServer(app, faults);
  return {
    url: server.url,
    webhookUrl: `${server.url}/workflows/${workflowId}/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${sig}`,
    received,
    faults,
    close: server.close,
  };
}

export type FakeTeams = Awaited<ReturnType<typeof startFakeTeams>>;
