import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { HubOptions } from '../hub/options.js';
import type { HealthReport } from '../transport/types.js';
import type { BoundedLogStream } from './logging.js';

/** Log levels the standalone server accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** How the default logger writes: `auto` is `pretty` on a terminal, `json` otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Options of the standalone server (`startServer`, `ssehub serve`). */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 3000. */
  port?: number;
  /** Interface to bind. Default: all interfaces (what a container needs). */
  host?: string;
  /**
   * PEM certificate and key. When given the server speaks HTTP/2 over TLS and falls back to
   * HTTP/1.1 (`allowHTTP1`) for clients without HTTP/2.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Options of the hub. `hub.transport` wins over `transportUrl`. */
  hub?: HubOptions;
  /** Transport URL: `memory:` (default) or `sqlite:<path>`. */
  transportUrl?: string;
  /** Serve the demo page, `/events`, `/sse` and the browser client bundle. Default true. */
  demo?: boolean;
  /**
   * Serve the web console at `/ui/` (docs/console.md): static files, and an API that needs a
   * console token (a subscriber token whose grants match `{hub path}/subscriptions`). Default
   * false; `ssehub serve --ui auto` turns it on in development (no key configured).
   */
  console?: boolean;
  /** Folder of the built console. Default: `dist/console/` of the package. */
  consoleAssetsDir?: string;
  /** Serve Prometheus metrics at `/metrics`. Default false: they describe the process to anyone. */
  metrics?: boolean;
  /**
   * What an acknowledged publish survives with a `sqlite:` transport: `process` (a crash of this
   * process; the default) or `power` (a power loss; one fsync per publish). Refused for other
   * transports. A `durability` in the transport URL must agree.
   */
  durability?: 'process' | 'power';
  /** Level of the default logger. Default `info`. */
  logLevel?: LogLevel;
  /**
   * Format of the default logger: `json` (one JSON object a line), `pretty` (human-readable
   * lines, coloured on a terminal unless `NO_COLOR` is set) or `auto` (pretty when stdout is a
   * terminal, JSON otherwise). Default `auto`.
   */
  logFormat?: LogFormat;
  /** Use this logger instead of creating one. */
  logger?: Logger;
  /**
   * The {@link BoundedLogStream} behind `logger`, when it writes through one: `/metrics` then
   * reports its dropped lines. The default logger always does.
   */
  logStream?: BoundedLogStream;
  /**
   * Log bytes the default logger holds while stdout does not take them; past it lines are
   * dropped and counted. Default 8 MiB (`DEFAULT_MAX_LOG_BUFFER_BYTES`): a shutdown logs two
   * lines per open stream in one burst, and 10 000 streams' worth must fit.
   */
  maxLogBufferBytes?: number;
  /**
   * Most client connections open at once; a connection past it is answered `503` with
   * `Retry-After` and closed (over TLS: closed), with a warning logged at most once a second.
   * Default 10 000 (`DEFAULT_MAX_CONNECTIONS`), lowered to fit the process's open-file limit
   * minus a reserve, so the server refuses visibly before the kernel refuses silently.
   */
  maxConnections?: number;
  /**
   * HTTP/2 (with `tls`): most concurrent streams one connection may open, advertised as
   * SETTINGS_MAX_CONCURRENT_STREAMS. A client past it waits for a stream to end (or, if it does
   * not wait, has the extra streams refused with REFUSED_STREAM), so open streams are at most
   * `maxConnections` × this. Default 100 (`DEFAULT_MAX_STREAMS_PER_CONNECTION`).
   */
  maxStreamsPerConnection?: number;
  /**
   * Time a client has to send the request headers; past it the connection is closed (408).
   * Default 10 000 (`DEFAULT_HEADERS_TIMEOUT_MS`): stops header-slowloris clients. Over TLS it
   * also bounds the TLS handshake. At most `requestTimeoutMs`.
   */
  headersTimeoutMs?: number;
  /**
   * Time a client has to send a whole request, body included (a publish). Default 30 000
   * (`DEFAULT_REQUEST_TIMEOUT_MS`). Event streams are not cut: their request is complete once
   * the headers arrived.
   */
  requestTimeoutMs?: number;
  /**
   * How long an idle keep-alive connection stays open. Default 5 000
   * (`DEFAULT_KEEP_ALIVE_TIMEOUT_MS`), below load balancers' usual 60 s.
   */
  keepAliveTimeoutMs?: number;
  /**
   * After a shutdown starts, how long `/readyz` answers 503 while everything else keeps serving,
   * so that a load balancer stops routing here before connections are refused. Default 0 (a
   * developer pressing Ctrl-C wants the process gone); in Kubernetes a few seconds.
   */
  drainDelayMs?: number;
  /**
   * Upper bound for ending streams, flushing the transport and closing connections once the drain
   * is over; past it remaining connections are destroyed. Default 10 000: well inside the 30 s
   * that Kubernetes and most process managers wait before SIGKILL.
   */
  shutdownGraceMs?: number;
  /**
   * How long `/readyz` waits for the transport to answer before reporting it down. Default 2 000:
   * shorter than the usual 5 s probe timeout, so the probe sees our 503 and not its own timeout.
   */
  readyTimeoutMs?: number;
  /** Path of the browser client bundle. Default: `dist/browser/ssehub-client.js` of the package. */
  browserBundlePath?: string;
  /**
   * Set by `ssehub serve --workers` in each worker process; not for other callers. Every response
   * carries an `ssehub-worker` header with `workerId`, `/readyz` also asks `readiness` (all
   * workers up, said by the primary) and `/metrics` answers with `metrics` (every worker's
   * registry merged by the primary) instead of this process's own.
   */
  cluster?: ClusterHooks;
}

/** What a cluster worker's server asks its primary (see `ServerOptions.cluster`). */
export interface ClusterHooks {
  workerId: number;
  readiness(): Promise<HealthReport>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Called with this server's own metrics registry, so the primary can collect it. */
  registerMetrics?(registry: Registry): void;
}

/** A started server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:3000` (a wildcard host is shown as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  /** True from the moment a shutdown starts. */
  readonly shuttingDown: boolean;
  /**
   * Graceful shutdown: `/readyz` turns 503, the drain delay passes, the server stops accepting,
   * the hub ends every stream and flushes its transport, connections close (forcibly past the
   * grace timeout). Idempotent: every call returns the same promise.
   */
  close(): Promise<void>;
  /** Ends the drain delay early (a second SIGTERM/SIGINT); no-op when not draining. */
  skipDrain(): void;
}
