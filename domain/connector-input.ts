import { z } from 'zod';
import {
  CONFIG_SCHEMAS,
  type ConnectorKind,
  filtersSchema,
  notifyOnSchema,
  retrySpecSchema,
  webhookNotifyOnSchema,
} from './connector.js';

export const connectorIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'ids are lower-case letters, digits, "-" and "_" (max 63)');

const common = {
  id: connectorIdSchema.optional(),
  name: z.string().min(1).max(200),
  enabled: z.boolean().default(true),
  /** ITSM: a default connector, used when no rule matches. */
  auto_push: z.boolean().default(true),
  filters: filtersSchema.default({}),
  retry: retrySpecSchema.nullable().optional(),
};

const variant = <K extends ConnectorKind>(kind: K) =>
  z.strictObject({ kind: z.literal(kind), ...common, config: CONFIG_SCHEMAS[kind] });

/** Kinds that are told about tickets and failures take `notify_on` beside `filters` (absent: the kind's default). */
const notifying = <K extends 'slack' | 'teams' | 'webhook'>(kind: K) =>
  variant(kind).extend({
    notify_on: (kind === 'webhook' ? webhookNotifyOnSchema : notifyOnSchema).nullable().optional(),
  });

/** A connector as POSTed or declared in ESCALATE_CONFIG, validated per kind. */
export const connectorInputSchema = z.discriminatedUnion('kind', [
  variant('jira'),
  variant('servicenow'),
  variant('splunk'),
  variant('datadog'),
  variant('elasticsearch'),
  notifying('webhook'),
  notifying('slack'),
  notifying('teams'),
]);
export type ConnectorInput = z.output<typeof connectorInputSchema>;

/**
 * PATCH: any field but kind and id; `config` is merged into the stored one, then revalidated;
 * `notify_on` is checked against the connector's kind (null goes back to the kind's default).
 */
export const connectorPatchSchema = z.strictObject({
  name: common.name.optional(),
  enabled: z.boolean().optional(),
  auto_push: z.boolean().optional(),
  filters: filtersSchema.optional(),
  retry: retrySpecSchema.nullable().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  notify_on: z.array(z.string()).nullable().optional(),
});
export type ConnectorPatch = z.output<typeof connectorPatchSchema>;

/** The `notify_on` schema of a kind, if it takes one. */
export function notifyOnSchemaFor(kind: ConnectorKind) {
  if (kind === 'webhook') return webhookNotifyOnSchema;
  if (kind === 'slack' || kind === 'teams') return notifyOnSchema;
  return undefined;
}
