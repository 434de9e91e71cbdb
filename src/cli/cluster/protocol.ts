import type { TransportSpec } from '../../transport/url.js';
// What the cluster primary and its workers say to each other besides the transport's requests.

/** Tags the primary's control messages to a worker (the IPC channel is shared, see IPC_TAG). */
export const CLUSTER_TAG = 'ssehub:cluster';

/** Set in a worker's environment by the primary: the worker runs the server, not a primary. */
export const WORKER_ENV = 'SSEHUB_CLUSTER_WORKER';
/**
 * The development secret the primary generated, handed to its workers so that a token minted
 * with it works on every worker. Never set when a key is configured.
 */
export const DEV_SECRET_ENV = 'SSEHUB_CLUSTER_DEV_SECRET';

/** Primary → worker: drain and exit (the primary got SIGTERM or SIGINT). */
export interface ShutdownMessage {
  tag: typeof CLUSTER_TAG;
  kind: 'shutdown';
}

export function isShutdownMessage(value: unknown): value is ShutdownMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { tag?: unknown }).tag === CLUSTER_TAG &&
    (value as { kind?: unknown }).kind === 'shutdown'
  );
}

/** Names of the requests the primary answers for its workers (IpcHost extensions). */
export const EXTENSION_READINESS = 'cluster.readiness';
export const EXTENSION_METRICS = 'cluster.metrics';

/**
 * True when the primary must own the store and serve it to the workers: memory and SQLite live in
 * one process. A transport whose store is shared by itself (Redis) would make every worker a node
 * of its own instead, each creating its transport from the URL; the CLI makes that switch here.
 */
export function primaryOwnsStore(spec: TransportSpec): boolean {
  return spec.kind === 'memory' || spec.kind === 'sqlite';
}
