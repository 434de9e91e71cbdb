import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { startServer } from '../../server/create-server.js';
import type { BoundedLogStream } from '../../server/logging.js';
import {
  DEFAULT_DRAIN_DELAY_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  handleSignals,
} from '../../server/shutdown.js';
import { processChannel } from '../../transport/ipc/channel.js';
import { createIpcClient } from '../../transport/ipc/client.js';
import type { HealthReport } from '../../transport/types.js';
import { createTransport, parseTransportUrl } from '../../transport/url.js';
import type { ServeConfig } from '../config.js';
import {
  EXTENSION_METRICS,
  EXTENSION_READINESS,
  isShutdownMessage,
  primaryOwnsStore,
} from './protocol.js';

export interface WorkerContext {
  logger: Logger;
  logStream: BoundedLogStream;
  tls?: { cert: Buffer; key: Buffer };
}

/**
 * One worker of `ssehub serve --workers N`: the hub and server of a single process, listening on
 * the port the primary shares, over the IPC client transport (the primary owns the store). It
 * drains on the primary's shutdown message or on its own SIGTERM, and exits 0 once drained.
 */
export async function runWorker(config: ServeConfig, context: WorkerContext): Promise<void> {
  const workerId = cluster.worker?.id ?? 0;
  const logger = context.logger.child({ worker: workerId });
  // The primary sends its shutdown message once, maybe while this worker still starts (connecting
  // to Redis can take seconds): remember it, and act on it once the server runs. Ctrl-C in a
  // terminal signals the whole process group; the primary turns it into that message, so it is
  // never acted on here (it would otherwise kill a starting worker, or count as a second signal).
  let stopRequested = false;
  const requestStop = (message?: unknown): void => {
    if (message === undefined || isShutdownMessage(message)) stopRequested = true;
  };
  process.on('message', requestStop);
  process.on('SIGTERM', requestStop);
  process.on('SIGINT', () => {});
  const onError = (err: unknown) => logger.error({ err }, 'transport error');
  // The channel to the primary: the store itself for memory and SQLite, else readiness and
  // metrics only, while this worker is a node of the shared store (Redis) of its own.
  const control = createIpcClient(processChannel(process), { onError });
  const url = config.server.transportUrl ?? 'memory:';
  const transport = primaryOwnsStore(parseTransportUrl(url))
    ? control
    : await createTransport(url, { onError });
  if (stopRequested) {
    await transport.close();
    process.exit(0);
  }
  // Installs prom-client's listener that answers the primary's metrics requests.
  new AggregatorRegistry();
  // The primary applies durability to the store it owns; here it would only be refused.
  const { durability: _applied, ...server } = config.server;
  const running = await startServer({
    ...server,
    logger,
    logStream: context.logStream,
    ...(context.tls ? { tls: context.tls } : {}),
    hub: { ...server.hub, transport },
    cluster: {
      workerId,
      readiness: async () => (await control.extension(EXTENSION_READINESS)) as HealthReport,
      metrics: async () =>
        (await control.extension(EXTENSION_METRICS)) as { contentType: string; body: string },
      registerMetrics: (registry) => AggregatorRegistry.setRegistries([registry]),
    },
  });
  process.off('message', requestStop);
  process.off('SIGTERM', requestStop);
  handleSignals(running, logger, {
    flushLogs: (ms) => context.logStream.settle(ms),
    shutdownBudgetMs:
      (config.server.drainDelayMs ?? DEFAULT_DRAIN_DELAY_MS) +
      (config.server.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS),
    signals: ['SIGTERM'],
  });
  const stop = (): void => {
    // The same path as a SIGTERM, once: a worker already draining ignores the message.
    if (!running.shuttingDown) process.kill(process.pid, 'SIGTERM');
  };
  process.on('message', (message) => {
    if (isShutdownMessage(message)) stop();
  });
  if (stopRequested) stop();
}
