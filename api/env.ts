import type { ApiScope } from './api-keys.js';

/** Per-request values the middlewares set for handlers. */
export type AppEnv = {
  Variables: {
    /** Audit label of the API key (never the key). */
    actor: string;
    scope: ApiScope;
    /** The JSON body as parsed, unknown fields and all. */
    rawBody: unknown;
    /** Extra fields for this request's access-log line (see access-log.ts). */
    logFields: Record<string, string | undefined>;
  };
};
