/**
 * One entry point for every SIEM kind: deliver a violation, or build the exact requests a delivery
 * would send (previews mask them with `maskRequest`). Pure HTTP; activities map ConnectorError to
 * Temporal failures.
 */
import type { ConfigByKind, SiemKind } from '../domain/connector.js';
import type { ViolationEvent } from '../domain/event.js';
import { buildDatadogRequests, deliverToDatadog } from './datadog.js';
import { buildElasticsearchRequest, deliverToElasticsearch } from './elasticsearch.js';
import type { HttpRequest } from './http.js';
import type { SiemContext, SiemResult } from './siem-common.js';
import { buildSplunkRequest, deliverToSplunk } from './splunk.js';
import { buildWebhookRequest, deliverToWebhook } from './webhook.js';

export type { SiemContext, SiemResult } from './siem-common.js';

export function deliverToSiem<K extends SiemKind>(
  kind: K,
  config: ConfigByKind[K],
  event: ViolationEvent,
  ctx: SiemContext,
): Promise<SiemResult> {
  switch (kind) {
    case 'splunk':
      return deliverToSplunk(config as ConfigByKind['splunk'], event, ctx);
    case 'datadog':
      return deliverToDatadog(config as ConfigByKind['datadog'], event, ctx);
    case 'elasticsearch':
      return deliverToElasticsearch(config as ConfigByKind['elasticsearch'], event, ctx);
    case 'webhook':
      return deliverToWebhook(config as ConfigByKind['webhook'], event, ctx);
    default:
      throw new Error(`not a SIEM connector kind: ${String(kind)}`);
  }
}

export function buildSiemRequests<K extends SiemKind>(
  kind: K,
  config: ConfigByKind[K],
  event: ViolationEvent,
  ctx: SiemContext,
): HttpRequest[] {
  switch (kind) {
    case 'splunk':
      return [buildSplunkRequest(config as ConfigByKind['splunk'], event, ctx)];
    case 'datadog':
      return buildDatadogRequests(config as ConfigByKind['datadog'], event, ctx);
    case 'elasticsearch':
      return [buildElasticsearchRequest(config as ConfigByKind['elasticsearch'], event, ctx)];
    case 'webhook':
      return [buildWebhookRequest(config as ConfigByKind['webhook'], event, ctx)];
    default:
      throw new Error(`not a SIEM connector kind: ${String(kind)}`);
  }
}
