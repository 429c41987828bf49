import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionLike, type WorkflowClientInterceptor } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { payloadCodecFromEnv, payloadDataConverter } from './infra/payload-codec.js';

export interface TemporalConnection {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?:
    | { serverRootCaPath?: string; clientCertPath?: string; clientKeyPath?: string; serverName?: string }
    | boolean;
  /** Payload encryption (ESCALATE_PAYLOAD_KEY, infra/payload-codec.ts); none when unset. */
  payloadCodec?: PayloadCodec;
}

export function temporalConnectionFromEnv(env = process.env): TemporalConnection {
  const tlsEnabled = env.TEMPORAL_TLS === 'true' || !!env.TEMPORAL_TLS_CERT || !!env.TEMPORAL_API_KEY;
  return {
    address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'escalate',
    apiKey: env.TEMPORAL_API_KEY || undefined,
    tls: tlsEnabled
      ? {
          serverRootCaPath: env.TEMPORAL_TLS_CA || undefined,
          clientCertPath: env.TEMPORAL_TLS_CERT || undefined,
          clientKeyPath: env.TEMPORAL_TLS_KEY || undefined,
          serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined,
        }
      : undefined,
    payloadCodec: payloadCodecFromEnv(env),
  };
}

/** Connection options in the shape both @temporalio/client and @temporalio/worker accept. */
export function temporalConnectOptions(conn: TemporalConnection) {
  const tls =
    typeof conn.tls === 'object'
      ? {
          serverNameOverride: conn.tls.serverName,
          serverRootCACertificate: conn.tls.serverRootCaPath
            ? readFileSync(conn.tls.serverRootCaPath)
            : undefined,
          clientCertPair:
            conn.tls.clientCertPath && conn.tls.clientKeyPath
              ? { crt: readFileSync(conn.tls.clientCertPath), key: readFileSync(conn.tls.clientKeyPath) }
              : undefined,
        }
      : conn.tls;
  return {
    address: conn.address,
    tls,
    apiKey: conn.apiKey,
    metadata: conn.apiKey ? { 'temporal-namespace': conn.namespace } : undefined,
  };
}

/**
 * A Temporal client on its own connection (`client.connection.close()` ends it), or on
 * `connection` when given (a worker's NativeConnection: starts it requests eagerly are then
 * handed straight to that worker).
 */
export async function connectTemporalClient(
  conn: TemporalConnection,
  opts: { interceptors?: WorkflowClientInterceptor[]; connection?: ConnectionLike } = {},
): Promise<Client> {
  return new Client({
    connection: opts.connection ?? (await Connection.connect(temporalConnectOptions(conn))),
    namespace: conn.namespace,
    dataConverter: payloadDataConverter(conn.payloadCodec),
    interceptors: { workflow: opts.interceptors ?? [] },
  });
}
