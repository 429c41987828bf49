/**
 * SIEM checks: authenticate without writing an event where the platform allows it.
 * - Splunk HEC: `/services/collector/health` (no auth), then the event endpoint with an empty body,
 *   which HEC answers "No data" (code 5) only after accepting the token: nothing is indexed.
 * - Datadog: `GET /api/v1/validate` on the site's API host checks the API key.
 * - Elasticsearch: `/_security/_authenticate`, then `_has_privileges` for `create_doc` on the
 *   daily indices (and, for the optional template install, `manage_index_templates`).
 * - Webhook: a receiver authenticates only signed deliveries, so only reachability is checked.
 */
import type {
  DatadogConfig,
  ElasticsearchConfig,
  SplunkConfig,
  WebhookConfig,
} from '../../domain/connector.js';
import { dispatcherFor } from '../dispatcher.js';
import { elasticsearchHeaders } from '../elasticsearch.js';
import { errorFromResponse, type HttpResponse, parseJson, send } from '../http.js';
import { jsonHeaders, shortText } from '../siem-common.js';
import type { CheckStep } from './steps.js';

const hecReply = (res: HttpResponse) => (parseJson(res.text) ?? {}) as { text?: string; code?: number };

const splunkHealth: CheckStep<SplunkConfig> = {
  name: 'reachable',
  async run(config, timeoutMs) {
    const res = await send(
      {
        method: 'GET',
        url: `${config.hec_url}/services/collector/health`,
        headers: { Accept: 'application/json' },
      },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    );
    const reply = hecReply(res);
    if (res.status === 200) return { ok: true, message: `HEC answers: ${reply.text ?? 'healthy'}` };
    throw errorFromResponse(res, reply.text ? `${reply.text} (code ${reply.code})` : res.text);
  },
};

const splunkToken: CheckStep<SplunkConfig> = {
  name: 'authenticate',
  async run(config, timeoutMs) {
    const res = await send(
      {
        method: 'POST',
        url: `${config.hec_url}/services/collector/event`,
        headers: jsonHeaders({ Authorization: `Splunk ${config.hec_token}` }),
        body: '',
      },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    );
    const reply = hecReply(res);
    if (reply.code === 5)
      return {
        ok: true,
        message: `token accepted (HEC answered "No data" to an empty request: nothing indexed); the index ${config.index ?? '(token default)'} is only checked by test`,
      };
    throw errorFromResponse(res, reply.text ? `${reply.text} (code ${reply.code})` : res.text, {
      remoteCode: reply.code === undefined ? undefined : String(reply.code),
    });
  },
};

/** Datadog's logs intake is `http-intake.logs.<site>`; its API (key validation) is `api.<site>`. */
export function datadogApiUrl(config: DatadogConfig): string {
  if (config.metrics_url) return config.metrics_url;
  const url = new URL(config.logs_url);
  if (url.hostname.startsWith('http-intake.logs.'))
    url.hostname = `api.${url.hostname.slice('http-intake.logs.'.length)}`;
  return url.origin;
}

const datadogKey: CheckStep<DatadogConfig> = {
  name: 'authenticate',
  async run(config, timeoutMs) {
    const api = datadogApiUrl(config);
    const res = await send(
      {
        method: 'GET',
        url: `${api}/api/v1/validate`,
        headers: jsonHeaders({ 'DD-API-KEY': config.api_key }),
      },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    );
    const body = (parseJson(res.text) ?? {}) as { valid?: boolean; errors?: string[] };
    if (res.status === 200 && body.valid === true)
      return {
        ok: true,
        message: `API key valid (${new URL(api).host}); log intake is only checked by test`,
      };
    throw errorFromResponse(res, body.errors?.join('; ') || res.text);
  },
};

const esError = (res: HttpResponse) => {
  const body = parseJson(res.text) as { error?: { type?: string; reason?: string } | string } | undefined;
  const error = body?.error;
  if (typeof error === 'string') return error;
  return error?.reason ? `${error.type}: ${error.reason}` : res.text;
};

const esAuthenticate: CheckStep<ElasticsearchConfig> = {
  name: 'authenticate',
  async run(config, timeoutMs) {
    const res = await send(
      {
        method: 'GET',
        url: `${config.url}/_security/_authenticate`,
        headers: elasticsearchHeaders(config, 'application/json'),
      },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    );
    if (res.status !== 200) throw errorFromResponse(res, esError(res));
    const me = (parseJson(res.text) ?? {}) as { username?: string; authentication_type?: string };
    return {
      ok: true,
      message: `authenticated as ${me.username ?? '(unknown)'}${me.authentication_type ? ` (${me.authentication_type})` : ''}`,
    };
  },
};

interface HasPrivileges {
  has_all_requested?: boolean;
  cluster?: Record<string, boolean>;
  index?: Record<string, Record<string, boolean>>;
}

const esPrivileges: CheckStep<ElasticsearchConfig> = {
  name: 'privileges',
  needs: ['authenticate'],
  async run(config, timeoutMs) {
    const pattern = `${config.index_prefix}-*`;
    const res = await send(
      {
        method: 'POST',
        url: `${config.url}/_security/user/_has_privileges`,
        headers: elasticsearchHeaders(config, 'application/json'),
        body: JSON.stringify({
          cluster: ['manage_index_templates'],
          index: [{ names: [pattern], privileges: ['create_doc'] }],
        }),
      },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    );
    if (res.status !== 200) throw errorFromResponse(res, esError(res));
    const answer = (parseJson(res.text) ?? {}) as HasPrivileges;
    const template = answer.cluster?.manage_index_templates
      ? 'may install the index template'
      : 'may not install the index template (manage_index_templates; optional)';
    if (answer.index?.[pattern]?.create_doc !== true)
      return { ok: false, message: `missing create_doc on ${pattern}; ${template}` };
    return { ok: true, message: `create_doc on ${pattern}; ${template}` };
  },
};

const webhookReachable: CheckStep<WebhookConfig> = {
  name: 'reachable',
  async run(config, timeoutMs) {
    // GET is safe by definition; receivers take POST, so any HTTP answer proves the route works.
    const res = await send(
      { method: 'GET', url: config.url, headers: { 'User-Agent': 'escalate' } },
      timeoutMs,
      { dispatcher: dispatcherFor(config) },
    );
    const answer = shortText(res.text, 80);
    return {
      ok: true,
      message: `reachable (HTTP ${res.status} to GET${answer ? `: ${answer}` : ''}); a receiver verifies signatures only on deliveries, so use test to check the secret`,
    };
  },
};

export const SPLUNK_CHECKS: CheckStep<SplunkConfig>[] = [splunkHealth, splunkToken];
export const DATADOG_CHECKS: CheckStep<DatadogConfig>[] = [datadogKey];
export const ELASTICSEARCH_CHECKS: CheckStep<ElasticsearchConfig>[] = [esAuthenticate, esPrivileges];
export const WEBHOOK_CHECKS: CheckStep<WebhookConfig>[] = [webhookReachable];
