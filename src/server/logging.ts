import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Logger, pino } from 'pino';
import { SseHubError } from '../errors.js';
import type { LogLevel } from './options.js';

/**
 * Query parameters never written to a log: the hub accepts a token in `?authorization=` when
 * configured to, and a request line is the most copied-around piece of a log.
 */
export const SECRET_QUERY_PARAMS: readonly string[] = ['authorization', 'access_token'];

/**
 * Paths pino blanks out wherever a caller passes such an object. A safety net: request logs never
 * include headers in the first place.
 */
const REDACT = [
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
];

/**
 * Topics whose publish log lines drop from info to debug: the demo clock publishes every second,
 * and a line per tick would bury everything else a developer wants to see.
 */
export const QUIET_TOPIC_PREFIX = 'https://ssehub.local/demo/';

function isQuietPublish(first: unknown): boolean {
  if (first === null || typeof first !== 'object') return false;
  const record = first as { event?: unknown; topic?: unknown };
  return (
    record.event === 'publish' &&
    typeof record.topic === 'string' &&
    record.topic.startsWith(QUIET_TOPIC_PREFIX)
  );
}

const INFO = 30;

/**
 * Log bytes held in memory while stdout does not take them (a stalled log collector, a full
 * pipe). About 4 000 request lines: enough to ride out a collector's hiccup; past it, lines are
 * dropped and counted, because the memory of a hub serving streams is worth more than its logs.
 */
export const DEFAULT_MAX_LOG_BUFFER_BYTES = 1024 * 1024;

/** What {@link BoundedLogStream} writes to: `process.stdout` or any writable stream. */
export type LogTarget = NodeJS.WritableStream & { readonly writableLength: number };

/**
 * Targets that failed, and targets already watched: one 'error' listener per target however many
 * loggers share it (every server started without a logger writes to the same stdout).
 */
const brokenTargets = new WeakSet<LogTarget>();
const watchedTargets = new WeakSet<LogTarget>();

/**
 * The destination of the server's logger: writes each line to `target` (stdout) without ever
 * blocking and without unbounded buffering. pino's own stdout writer retries a blocked write
 * forever while it buffers without bound, and flushes synchronously on exit, so a log collector
 * that stops reading made the process grow and then hang on SIGTERM.
 *
 * - While more than `maxBufferBytes` wait for the target, new lines are dropped and counted
 *   (`dropped`); the first line that fits again is preceded by a warning with the count.
 * - On an error of the target (EPIPE: the reader went away) logging stops for good; the server
 *   keeps running. Lines are counted as dropped from then on.
 * - `settle(ms)` waits at most `ms` for what is buffered to be written, for the exit.
 */
export class BoundedLogStream {
  readonly #target: LogTarget;
  readonly #maxBufferBytes: number;
  #dropped = 0;
  #unreported = 0;

  constructor(target: LogTarget, maxBufferBytes = DEFAULT_MAX_LOG_BUFFER_BYTES) {
    if (!(Number.isSafeInteger(maxBufferBytes) && maxBufferBytes > 0)) {
      throw new SseHubError('INVALID_OPTION', 'maxLogBufferBytes must be a positive integer');
    }
    this.#target = target;
    this.#maxBufferBytes = maxBufferBytes;
    if (!watchedTargets.has(target)) {
      watchedTargets.add(target);
      target.on('error', () => brokenTargets.add(target));
    }
  }

  /** Lines not written since the start: dropped while the target was full, or after it broke. */
  get dropped(): number {
    return this.#dropped;
  }

  /** True once the target failed (EPIPE and the like); nothing is written to it any more. */
  get broken(): boolean {
    return brokenTargets.has(this.#target);
  }

  /** pino calls this with one serialized line (newline included). */
  write(line: string): boolean {
    // `writableLength` counts string length for sockets (they do not decode strings), so
    // compare like with like; for UTF-8 bytes this errs by a constant factor at most.
    if (this.broken || this.#target.writableLength + line.length > this.#maxBufferBytes) {
      this.#dropped += 1;
      this.#unreported += 1;
      return true;
    }
    if (this.#unreported > 0) {
      const n = this.#unreported;
      this.#unreported = 0;
      this.#target.write(
        `${JSON.stringify({ level: 40, time: Date.now(), name: 'ssehub', dropped: n, msg: 'log output was blocked: lines dropped' })}\n`,
      );
    }
    this.#target.write(line);
    return true;
  }

  /** Resolves once the buffered lines are written, the target broke, or `timeoutMs` passed. */
  settle(timeoutMs: number): Promise<void> {
    if (this.broken || this.#target.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      // Writes complete in order: the callback of an empty write runs after all earlier ones.
      this.#target.write('', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** pino's `logger.flush(cb)`: bounded like {@link settle}. */
  flush(cb?: (err?: Error) => void): void {
    void this.settle(FLUSH_TIMEOUT_MS).then(() => cb?.());
  }
}

/** Bound of a `logger.flush()` on a {@link BoundedLogStream}. */
const FLUSH_TIMEOUT_MS = 1_000;

/**
 * The server's logger: JSON lines, with secrets redacted, written to `stream` (by default a
 * {@link BoundedLogStream} over stdout, so a stalled stdout never blocks or bloats the process).
 */
export function createLogger(
  level: LogLevel = 'info',
  stream: { write(line: string): unknown } = new BoundedLogStream(process.stdout),
): Logger {
  return pino(
    {
      level,
      base: { name: 'ssehub' },
      redact: { paths: REDACT, censor: '[redacted]' },
      hooks: {
        logMethod(args, method, numericLevel) {
          if (numericLevel === INFO && isQuietPublish(args[0])) {
            if (this.isLevelEnabled('debug')) this.debug(...(args as Parameters<Logger['debug']>));
            return;
          }
          method.apply(this, args);
        },
      },
    },
    stream,
  );
}

/** The request target without secret query parameters (and without a dangling `?`). */
export function safeRequestPath(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of [...params.keys()]) {
    if (SECRET_QUERY_PARAMS.includes(name.toLowerCase())) params.delete(name);
  }
  const rest = params.toString();
  return rest === '' ? url.slice(0, q) : `${url.slice(0, q)}?${rest}`;
}

/**
 * Logs one line when a request or stream ends: method, path (secrets stripped), status, duration.
 * Never headers: Authorization and Cookie carry tokens. `onDone` also receives the timing, for
 * metrics.
 */
export function logRequest(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  onDone?: (route: string, status: number, durationMs: number) => void,
): void {
  const start = process.hrtime.bigint();
  res.once('close', () => {
    const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
    const status = res.statusCode;
    onDone?.(route, status, durationMs);
    const line = {
      method: req.method,
      path: safeRequestPath(req.url),
      status,
      durationMs: Math.round(durationMs * 10) / 10,
      route,
      httpVersion: req.httpVersion,
      // A response that closed before it finished was cut short (client gone or shutdown).
      completed: res.writableFinished,
    };
    if (status >= 500) logger.warn(line, 'request');
    else logger.info(line, 'request');
  });
}
