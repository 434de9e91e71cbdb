import type { Logger } from 'pino';
import type { HubOptions } from '../hub/options.js';

/** Log levels the standalone server accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  /** Serve Prometheus metrics at `/metrics`. Default false: they describe the process to anyone. */
  metrics?: boolean;
  /** Level of the default logger. Default `info`. */
  logLevel?: LogLevel;
  /** Use this logger instead of creating one. */
  logger?: Logger;
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
