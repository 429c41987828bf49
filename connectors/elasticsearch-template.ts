/**
 * The composable index template for escalate's daily indices (`PUT /_index_template/{prefix}`),
 * installed on demand by the connector's install-template action.
 *
 * Known event fields get explicit types; `details` and `tags` are `flattened` (searchable, no
 * mapping explosion whatever keys producers send); unknown top-level fields are kept in `_source`
 * but not indexed (`dynamic: false`), so one odd producer can never make later documents fail
 * with a mapping conflict.
 */
import type { ElasticsearchConfig } from '../domain/connector.js';
import { connectorTimeoutMs } from '../domain/connector.js';
import { dispatcherFor } from './dispatcher.js';
import { elasticsearchHeaders, elasticsearchResponseError } from './elasticsearch.js';
import type { HttpRequest } from './http.js';
import { send } from './http.js';
import { type SiemResult, shortText, signed } from './siem-common.js';

export const TEMPLATE_VERSION = 1;
/** Above the built-in templates (logs-*-*, metrics-*-*: priority 100), so ours wins on overlap. */
const TEMPLATE_PRIORITY = 500;

const keyword = { type: 'keyword', ignore_above: 1024 } as const;

export const EVENT_MAPPINGS = {
  dynamic: false,
  properties: {
    '@timestamp': { type: 'date' },
    event_id: { type: 'keyword' },
    event_type: { type: 'keyword' },
    severity: { type: 'keyword' },
    risk_score: { type: 'float' },
    occurred_at: { type: 'date' },
    summary: { type: 'text', fields: { keyword } },
    source: keyword,
    user_email: keyword,
    model: keyword,
    provider: keyword,
    platform_id: keyword,
    policy: { properties: { id: keyword, name: keyword, action: keyword } },
    classifications: { properties: { type: keyword, confidence: { type: 'float' } } },
    details: { type: 'flattened' },
    tags: { type: 'flattened' },
  },
} as const;

export function elasticsearchIndexTemplate(config: ElasticsearchConfig) {
  return {
    index_patterns: [`${config.index_prefix}-*`],
    priority: TEMPLATE_PRIORITY,
    version: TEMPLATE_VERSION,
    template: { mappings: EVENT_MAPPINGS },
    _meta: { managed_by: 'escalate', description: 'escalate violation events, one index per UTC day' },
  };
}

export function buildIndexTemplateRequest(config: ElasticsearchConfig): HttpRequest {
  return signed(
    {
      method: 'PUT',
      url: `${config.url}/_index_template/${encodeURIComponent(config.index_prefix)}`,
      headers: elasticsearchHeaders(config, 'application/json'),
      body: JSON.stringify(elasticsearchIndexTemplate(config)),
    },
    config.signing_secret,
  );
}

/** Creates or replaces the index template; throws ConnectorError when ES refuses it. */
export async function installIndexTemplate(config: ElasticsearchConfig): Promise<SiemResult> {
  const res = await send(buildIndexTemplateRequest(config), connectorTimeoutMs(config), {
    dispatcher: dispatcherFor(config),
  });
  if (res.status < 200 || res.status >= 300) throw elasticsearchResponseError(res);
  return {
    status: res.status,
    message: `index template ${config.index_prefix} installed for ${config.index_prefix}-*: ${shortText(res.text)}`,
    durationMs: res.durationMs,
  };
}
