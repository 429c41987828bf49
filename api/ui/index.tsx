/**
 * The operator console at /ui: server-rendered pages (Hono JSX) over the API's own answers.
 * Sign-in turns an admin key into a session cookie (session.ts); every POST needs the session's
 * CSRF token and, when the browser sends one, a same-origin Origin header. No script, no CDN.
 */
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import type { AuditInput } from '../../db/repos/audit.js';
import type { ApiKey } from '../api-keys.js';
import { findKey } from '../auth.js';
import { apiCaller, PageProblem } from './api-client.js';
import { Document } from './components.js';
import type { UiDeps, UiEnv } from './env.js';
import { registerAuditPage } from './pages/audit.js';
import { registerConnectorPages } from './pages/connectors.js';
import { registerDeliveryPages } from './pages/deliveries.js';
import { registerOverviewPage } from './pages/overview.js';
import { registerRulePages } from './pages/rules.js';
import { registerTicketPages } from './pages/tickets.js';
import { registerViolationPages } from './pages/violations.js';
import { consoleSessions } from './session.js';
import { CONSOLE_CSS } from './style.js';

export interface ConsoleOptions {
  apiKeys: ApiKey[];
  /** Signs sessions, CSRF tokens and flashes (derived from ESCALATE_SECRET_KEY). */
  secret: Buffer;
  /** The API itself, called in-process. */
  fetchApi: (req: Request) => Response | Promise<Response>;
  temporalUi?: UiDeps['temporalUi'];
  audit: (entry: AuditInput) => Promise<void>;
  logger: Logger;
}

/** A POST's fields: repeated names (checkboxes) as arrays. */
async function formOf(c: Context): Promise<Record<string, string | string[]>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
    else if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/**
 * A browser's POST names its page's origin: it must be this host (as the client addressed it, so
 * behind a TLS-terminating proxy too). Clients that send no Origin still need the CSRF token.
 */
const sameOrigin = (c: Context) => {
  const origin = c.req.header('origin');
  if (origin === undefined) return true;
  const host = c.req.header('x-forwarded-host') ?? c.req.header('host') ?? new URL(c.req.url).host;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
};

/** Where to go after signing in: a console path only (never another site). */
const safeNext = (next: unknown) =>
  typeof next === 'string' && /^\/ui(\/[\w\-./?=&%:]*)?$/.test(next) && !next.startsWith('//') ? next : '/ui';

function LoginPage(props: { token: string; next: string; error?: string }) {
  return (
    <Document title="Sign in">
      <form class="login stack" method="post" action="/ui/login">
        <h1>escalate console</h1>
        {props.error ? (
          <div class="flash error" role="alert">
            {props.error}
          </div>
        ) : null}
        <label>
          Admin API key
          <input type="password" name="api_key" autocomplete="current-password" required autofocus />
          <span class="hint">
            One of ESCALATE_API_KEYS with the admin scope. It is not stored in the browser.
          </span>
        </label>
        <input type="hidden" name="_csrf" value={props.token} />
        <input type="hidden" name="next" value={props.next} />
        <button type="submit">Sign in</button>
      </form>
    </Document>
  );
}

export function consoleRouter(opts: ConsoleOptions) {
  const sessions = consoleSessions({ secret: opts.secret, apiKeys: opts.apiKeys });
  const deps: UiDeps = { sessions, temporalUi: opts.temporalUi };
  const router = new Hono<UiEnv>();

  router.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'same-origin',
    }),
  );
  router.use('*', async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });
  router.use('*', bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.text('form too large', 413) }));
  router.onError((err, c) => {
    const status = err instanceof PageProblem ? err.status : 500;
    if (!(err instanceof PageProblem)) opts.logger.error({ err, path: c.req.path }, 'console error');
    const text =
      status >= 500
        ? `${err instanceof PageProblem ? err.message : 'internal error'} (the API answered ${status}; try again shortly)`
        : err.message;
    return c.html(
      <Document title="Error">
        <main>
          <h1>{status === 404 ? 'Not found' : 'Something went wrong'}</h1>
          <div class="flash error" role="alert">
            {text}
          </div>
          <p>
            <a href="/ui">Back to the overview</a>
          </p>
        </main>
      </Document>,
      status === 404 ? 404 : status >= 500 ? 503 : 400,
    );
  });

  router.get('/assets/console.css', (c) =>
    c.body(CONSOLE_CSS, 200, {
      'Content-Type': 'text/css; charset=utf-8',
      'Cache-Control': 'public, max-age=3600',
    }),
  );

  router.get('/login', async (c) => {
    if (await sessions.read(c)) return c.redirect(safeNext(c.req.query('next')), 303);
    return c.html(<LoginPage token={await sessions.loginToken(c)} next={safeNext(c.req.query('next'))} />);
  });

  router.post('/login', async (c) => {
    const form = await formOf(c);
    const next = safeNext(form.next);
    const again = async (status: 400 | 401 | 403, error: string) =>
      c.html(<LoginPage token={await sessions.loginToken(c)} next={next} error={error} />, status);
    if (!sameOrigin(c) || !(await sessions.checkLoginToken(c, form._csrf)))
      return again(403, 'The sign-in form expired or came from another site: sign in again.');
    const key = typeof form.api_key === 'string' ? findKey(opts.apiKeys, form.api_key.trim()) : undefined;
    if (!key) return again(401, 'Unknown API key.');
    if (key.scope !== 'admin')
      return again(403, 'This is an ingest key: only admin keys may sign in to the console.');
    await sessions.start(c, key);
    await opts.audit({
      actor: key.label,
      action: 'console.signed_in',
      subjectType: 'console',
      subjectId: key.label,
    });
    return c.redirect(next, 303);
  });

  // Everything else needs a session; POSTs a CSRF token from it (and a same-origin Origin).
  router.use('*', async (c, next) => {
    const session = await sessions.read(c);
    if (!session) {
      if (c.req.method === 'GET') {
        const asked = new URL(c.req.url);
        return c.redirect(`/ui/login?next=${encodeURIComponent(asked.pathname + asked.search)}`, 303);
      }
      return c.text('not signed in', 401);
    }
    c.set('session', session);
    c.set('api', apiCaller(opts.fetchApi, session.key.key));
    if (c.req.method === 'POST') {
      const form = await formOf(c);
      if (!sameOrigin(c) || !sessions.checkCsrf(session, form._csrf))
        return c.text('refused: missing or invalid CSRF token (reload the page and try again)', 403);
      c.set('form', form);
    }
    c.set('page', {
      actor: session.key.label,
      csrf: sessions.csrfToken(session),
      flash: c.req.method === 'GET' ? await sessions.takeFlash(c) : undefined,
      current: `/ui${c.req.path.replace(/^\/ui/, '').split('/').slice(0, 2).join('/')}`.replace(/\/$/, ''),
    });
    await next();
  });

  router.post('/logout', async (c) => {
    const { key } = c.get('session');
    sessions.end(c);
    await opts.audit({
      actor: key.label,
      action: 'console.signed_out',
      subjectType: 'console',
      subjectId: key.label,
    });
    return c.redirect('/ui/login', 303);
  });

  registerOverviewPage(router);
  registerViolationPages(router, deps);
  registerDeliveryPages(router, deps);
  registerTicketPages(router, deps);
  registerConnectorPages(router, deps);
  registerRulePages(router, deps);
  registerAuditPage(router);
  router.all('*', (c) => {
    throw new PageProblem(404, `no console page at ${c.req.path}`);
  });
  return router;
}
