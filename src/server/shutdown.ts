import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { RunningServer } from './options.js';

/** See `ServerOptions.shutdownGraceMs`. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/** See `ServerOptions.drainDelayMs`. */
export const DEFAULT_DRAIN_DELAY_MS = 0;

/**
 * Knows every connection of a server, so a shutdown can close idle HTTP/1.1 keep-alive sockets as
 * soon as their last response ends (instead of waiting for the keep-alive timeout), send HTTP/2
 * sessions a GOAWAY, and destroy whatever is left when the grace time is up.
 */
export class ConnectionTracker {
  readonly #sockets = new Set<Socket>();
  /** Refused connections still open while they get their answer: `server.close()` waits for them too. */
  readonly #refused = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #inflight = new Map<Socket, number>();
  #closing = false;
  #destroying = false;

  /**
   * With `maxConnections`, a connection beyond that many open ones goes to `refuse` and never
   * reaches the HTTP server: the tracker takes over the server's own 'connection' listeners
   * (node:http's parser, the TLS handshake) and calls them only for admitted sockets. Injecting a
   * socket by calling them is what `server.emit('connection', socket)` does, which both servers
   * document.
   */
  constructor(
    server: HttpServer | Http2SecureServer,
    limit?: { maxConnections: number; refuse: (socket: Socket) => void },
  ) {
    const inner = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      // One that was still in the accept queue when the grace time ran out.
      if (this.#destroying) {
        socket.destroy();
        return;
      }
      if (limit && this.#sockets.size >= limit.maxConnections) {
        this.#refused.add(socket);
        socket.once('close', () => this.#refused.delete(socket));
        limit.refuse(socket);
        return;
      }
      this.#sockets.add(socket);
      // One listener per connection for both maps (a plain socket is also its requests' socket),
      // and `on`, not `once`: 'close' fires once, and a once-wrapper per connection adds up.
      socket.on('close', () => {
        this.#sockets.delete(socket);
        this.#inflight.delete(socket);
      });
      for (const listener of inner) listener.call(server, socket);
    });
    server.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      if (this.#closing) session.close();
    });
  }

  /**
   * Call for every request; counts in-flight HTTP/1.x requests per socket. The per-request state
   * goes with the response ('close' on `res`); the per-connection entry is removed by one socket
   * 'close' listener added on the connection's first request, never one per request (a keep-alive
   * socket serves any number of them). It is added here rather than on 'connection' because over
   * TLS `req.socket` is the TLS socket, not the raw one 'connection' reports.
   */
  track(req: IncomingMessage, res: ServerResponse): void {
    if (req.httpVersionMajor >= 2) return;
    const socket = req.socket;
    const count = this.#inflight.get(socket);
    if (count === undefined) {
      if (socket.destroyed) return;
      // Over TLS the request's socket is not the one the connection listener saw.
      if (!this.#sockets.has(socket)) socket.on('close', () => this.#inflight.delete(socket));
    }
    this.#inflight.set(socket, (count ?? 0) + 1);
    if (this.#closing && !res.headersSent) res.setHeader('connection', 'close');
    res.once('close', () => {
      const current = this.#inflight.get(socket);
      // The socket closed first: its entry is gone, nothing to count down.
      if (current === undefined) return;
      const left = current - 1;
      this.#inflight.set(socket, left);
      if (left === 0 && this.#closing) socket.end();
    });
  }

  /** From now on close connections as soon as they are idle; closes the idle ones now. */
  closeIdle(): void {
    this.#closing = true;
    for (const [socket, count] of this.#inflight) if (count === 0) socket.end();
    // GOAWAY: running streams finish, no new ones start.
    for (const session of this.#sessions) session.close();
  }

  /** Open (admitted) connections. */
  get size(): number {
    return this.#sockets.size;
  }

  /**
   * Destroys every connection, refused ones still lingering included (the server's close waits
   * for those too). Returns how many admitted connections there were.
   */
  destroyAll(): number {
    this.#destroying = true;
    const n = this.#sockets.size;
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
    for (const socket of this.#refused) socket.destroy();
    return n;
  }
}

export interface ShutdownSteps {
  server: HttpServer | Http2SecureServer;
  connections: ConnectionTracker;
  logger: Logger;
  drainDelayMs: number;
  graceMs: number;
  /** Stops producers (the demo clock) and the hub: ends streams, flushes the transport. */
  stopHub: () => Promise<void>;
}

/**
 * Runs a graceful shutdown: drain (readiness already reports 503), stop accepting, stop the hub,
 * close connections as they go idle; past `graceMs` destroy what is left. Returns the function
 * that ends the drain early.
 */
export function gracefulShutdown(steps: ShutdownSteps): { done: Promise<void>; skipDrain(): void } {
  let endDrain: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    endDrain = resolve;
    if (steps.drainDelayMs <= 0) resolve();
    else setTimeout(resolve, steps.drainDelayMs).unref();
  });

  async function run(): Promise<void> {
    const { server, connections, logger } = steps;
    await drained;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), steps.graceMs);
      timer.unref();
    });
    const hubDone = steps.stopHub().catch((err: unknown) => {
      logger.error({ err }, 'hub shutdown failed');
    });
    if ((await Promise.race([hubDone, deadline])) === 'timeout') {
      logger.warn({ graceMs: steps.graceMs }, 'hub shutdown did not finish in the grace time');
    }
    connections.closeIdle();
    if ((await Promise.race([closed, deadline])) === 'timeout') {
      const n = connections.destroyAll();
      logger.warn({ connections: n }, 'grace time over: remaining connections destroyed');
      await closed;
    }
    clearTimeout(timer);
  }

  return { done: run(), skipDrain: () => endDrain() };
}

/**
 * After a shutdown finished, the longest wait for the last log lines to leave: enough for a
 * collector that reads to take them, short enough that a stalled one cannot hold the exit.
 */
export const FINAL_LOG_FLUSH_MS = 1_000;

/**
 * Time on top of drain delay + grace after which a shutdown that has still not ended (a hung
 * transport, a bug) exits anyway with status 1: the process must always end. Covers the final
 * log flush ({@link FINAL_LOG_FLUSH_MS}) with room to spare.
 */
export const SHUTDOWN_BACKSTOP_MARGIN_MS = 5_000;

export interface SignalOptions {
  /** Default: `process.exit`. */
  exit?: (code: number) => void;
  /**
   * Waits (at most the given time) for pending log output to be written. Default: pino's
   * `logger.flush()`, not awaited.
   */
  flushLogs?: (timeoutMs: number) => Promise<void>;
  /**
   * Drain delay + grace time of the server. Past it plus {@link SHUTDOWN_BACKSTOP_MARGIN_MS} the
   * process exits with status 1 whatever the shutdown is waiting for. Default: no backstop.
   */
  shutdownBudgetMs?: number;
  /**
   * The signals handled. Default SIGTERM and SIGINT. A cluster worker takes SIGTERM only: the
   * SIGINT of a terminal's Ctrl-C reaches the whole process group, and the primary relays it.
   */
  signals?: readonly NodeJS.Signals[];
}

/**
 * Turns SIGTERM and SIGINT into a graceful shutdown followed by `exit(0)`. A second signal exits
 * at once with status 1: an operator (or a developer pressing Ctrl-C twice) who insists. A
 * backstop timer exits with status 1 if the graceful shutdown outlives its budget. Log output is
 * flushed before exiting, but never waited for longer than {@link FINAL_LOG_FLUSH_MS}: a stalled
 * stdout must not keep the process alive. Returns the function that removes the handlers.
 */
export function handleSignals(
  running: Pick<RunningServer, 'close'>,
  logger: Logger,
  // A bare function is the `exit` of earlier versions.
  optionsOrExit: SignalOptions | ((code: number) => void) = {},
): () => void {
  const options = typeof optionsOrExit === 'function' ? { exit: optionsOrExit } : optionsOrExit;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const flushLogs =
    options.flushLogs ??
    (() => {
      logger.flush();
      return Promise.resolve();
    });
  let count = 0;
  let flushing = false;
  let exited = false;
  const exitOnce = (code: number) => {
    if (exited) return;
    exited = true;
    exit(code);
  };
  /** Exits with `code` once the logs are flushed or `flushMs` passed; 0 exits right away. */
  const finish = (code: number, flushMs: number) => {
    if (flushMs <= 0) {
      exitOnce(code);
      return;
    }
    if (flushing) return;
    flushing = true;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, flushMs).unref());
    void Promise.race([flushLogs(flushMs).catch(() => {}), timeout]).then(() => exitOnce(code));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      logger.info({ signal }, 'shutting down');
      if (options.shutdownBudgetMs !== undefined) {
        const budget = options.shutdownBudgetMs + SHUTDOWN_BACKSTOP_MARGIN_MS;
        setTimeout(() => {
          logger.error({ budgetMs: budget }, 'shutdown did not end in time: exiting');
          finish(1, 0);
        }, budget).unref();
      }
      running.close().then(
        () => {
          logger.info('stopped');
          finish(0, FINAL_LOG_FLUSH_MS);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          finish(1, FINAL_LOG_FLUSH_MS);
        },
      );
    } else {
      logger.warn({ signal }, 'second signal: exiting now');
      // "Now": the line above gets the moment it takes to write, no more.
      finish(1, 0);
    }
  };
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
