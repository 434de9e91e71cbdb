import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { BoundedLogStream } from '../../server/logging.js';
import {
  DEFAULT_DRAIN_DELAY_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  FINAL_LOG_FLUSH_MS,
  SHUTDOWN_BACKSTOP_MARGIN_MS,
} from '../../server/shutdown.js';
import { processChannel } from '../../transport/ipc/channel.js';
import { createIpcHost, type IpcHost } from '../../transport/ipc/host.js';
import type { HealthReport } from '../../transport/types.js';
import { createTransport, parseTransportUrl } from '../../transport/url.js';
import type { ServeConfig } from '../config.js';
import { RestartBackoff } from './backoff.js';
import { createClusterMetrics } from './primary-metrics.js';
import {
  CLUSTER_TAG,
  DEV_SECRET_ENV,
  EXTENSION_METRICS,
  EXTENSION_READINESS,
  primaryOwnsStore,
  type ShutdownMessage,
  WORKER_ENV,
} from './protocol.js';

const SHUTDOWN: ShutdownMessage = { tag: CLUSTER_TAG, kind: 'shutdown' };

export interface PrimaryContext {
  logger: Logger;
  logStream: BoundedLogStream;
  /** Default: `process.exit`. */
  exit?: (code: number) => void;
}

interface Slot {
  readonly index: number;
  readonly backoff: RestartBackoff;
  worker?: Worker;
  startedAt: number;
  listening: boolean;
  restartTimer?: NodeJS.Timeout;
}

/**
 * The primary of `ssehub serve --workers N`: owns the store (through an IpcHost), forks N workers
 * that share the listening socket, restarts a worker that exits (with back-off), answers the
 * workers' readiness and metrics requests for the whole cluster, and on SIGTERM/SIGINT drains
 * every worker before closing the store and exiting 0. A second signal kills the workers and
 * exits 1 at once.
 */
export async function runPrimary(config: ServeConfig, context: PrimaryContext): Promise<void> {
  const { logger } = context;
  const exit = context.exit ?? ((code: number) => process.exit(code));
  const expected = config.workers;
  const url = config.server.transportUrl ?? 'memory:';
  // Over a shared store (Redis) every worker is a node with its own transport, and the primary
  // only supervises: its host then carries readiness and metrics, never an update, so an empty
  // in-memory store stands behind it.
  const owns = primaryOwnsStore(parseTransportUrl(url));
  const store = await createTransport(owns ? url : 'memory:?maxHistory=0', {
    onError: (err) => logger.error({ err }, 'transport error'),
    ...(owns && config.server.durability !== undefined
      ? { durability: config.server.durability }
      : {}),
  });

  const slots: Slot[] = [];
  let shuttingDown = false;
  let announced = false;
  const running = () =>
    slots.filter((s) => s.worker !== undefined && s.listening && s.worker.isConnected()).length;
  const metrics = createClusterMetrics({ running, expected });

  async function readiness(): Promise<HealthReport> {
    if (shuttingDown) return { ok: false, reason: 'shutting down' };
    const up = running();
    // One /readyz answer speaks for the whole port: a balancer cannot probe workers one by one.
    if (up < expected) return { ok: false, reason: `${up} of ${expected} workers running` };
    return { ok: true };
  }

  const host: IpcHost = await createIpcHost(store, {
    onError: (err) => logger.error({ err }, 'feed relay error'),
    extensions: {
      [EXTENSION_READINESS]: readiness,
      [EXTENSION_METRICS]: () => metrics.collect(),
    },
  });

  const env: Record<string, string> = { [WORKER_ENV]: '1' };
  if (config.devSecret !== undefined) env[DEV_SECRET_ENV] = config.devSecret;

  function announce(address: AddressInfo | { address: string; port: number }): void {
    if (announced || slots.some((s) => !s.listening)) return;
    announced = true;
    let shown = config.server.host ?? '127.0.0.1';
    if (shown === '0.0.0.0' || shown === '::' || shown === '') shown = '127.0.0.1';
    if (shown.includes(':')) shown = `[${shown}]`;
    const base = `${config.tlsFiles ? 'https' : 'http'}://${shown}:${address.port}`;
    logger.info({ url: base, workers: expected }, `all ${expected} workers listening on ${base}`);
  }

  function fork(slot: Slot): void {
    slot.restartTimer = undefined;
    const worker = cluster.fork(env);
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.listening = false;
    host.attach(processChannel(worker.process));
    logger.info({ worker: worker.id, pid: worker.process.pid, slot: slot.index }, 'worker started');
    worker.on('listening', (address) => {
      slot.listening = true;
      // A worker that was still loading when the shutdown began could not hear it then.
      if (shuttingDown) worker.send(SHUTDOWN);
      else announce(address);
    });
    worker.on('exit', (code, signal) => exited(slot, worker, code, signal));
  }

  let cleanExits = true;
  let allExited: () => void = () => {};
  const allGone = new Promise<void>((resolve) => {
    allExited = resolve;
  });

  function exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.listening = false;
    const fields = { worker: worker.id, pid: worker.process.pid, code, signal };
    if (shuttingDown) {
      if (code !== 0) cleanExits = false;
      logger.info(fields, 'worker stopped');
      if (slots.every((s) => s.worker === undefined)) allExited();
      return;
    }
    const delayMs = slot.backoff.next(Date.now() - slot.startedAt);
    metrics.restarted();
    logger.warn(
      { ...fields, restartInMs: delayMs, failures: slot.backoff.failures },
      'worker exited: restarting it',
    );
    slot.restartTimer = setTimeout(() => fork(slot), delayMs);
  }

  // Workers run this same CLI with the same arguments; WORKER_ENV makes them workers.
  cluster.setupPrimary({ silent: false });
  for (let index = 0; index < expected; index++) {
    const slot: Slot = { index, backoff: new RestartBackoff(), startedAt: 0, listening: false };
    slots.push(slot);
  }

  let exiting = false;
  const finish = (code: number, flushMs: number) => {
    if (exiting) return;
    exiting = true;
    const flushed = flushMs > 0 ? context.logStream.settle(flushMs).catch(() => {}) : undefined;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, flushMs).unref());
    void Promise.race([flushed ?? Promise.resolve(), timeout]).then(() => exit(code));
  };
  const killAll = () => {
    for (const slot of slots) slot.worker?.process.kill('SIGKILL');
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: killing the workers and exiting now');
      killAll();
      finish(1, 0);
      return;
    }
    shuttingDown = true;
    logger.info({ signal, workers: running() }, 'shutting down: draining the workers');
    for (const slot of slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      if (slot.worker?.isConnected()) slot.worker.send(SHUTDOWN);
    }
    if (slots.every((s) => s.worker === undefined)) allExited();
    // Each worker has its own backstop (drain + grace + margin); this one comes after theirs.
    const budget =
      (config.server.drainDelayMs ?? DEFAULT_DRAIN_DELAY_MS) +
      (config.server.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS) +
      2 * SHUTDOWN_BACKSTOP_MARGIN_MS;
    setTimeout(() => {
      logger.error({ budgetMs: budget }, 'workers did not stop in time: killing them');
      killAll();
      finish(1, FINAL_LOG_FLUSH_MS);
    }, budget).unref();
    void allGone
      .then(() => host.close())
      .then(
        () => {
          logger.info('stopped');
          finish(cleanExits ? 0 : 1, FINAL_LOG_FLUSH_MS);
        },
        (err: unknown) => {
          logger.error({ err }, 'closing the store failed');
          finish(1, FINAL_LOG_FLUSH_MS);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Forked last: a signal that comes as soon as the first worker is announced finds its handler.
  for (const slot of slots) fork(slot);
}
