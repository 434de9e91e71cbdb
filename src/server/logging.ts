import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Logger, pino } from 'pino';
import { SseHubError } from '../errors.js';
import { isLoggedByHub } from '../hub/index.js';
import { DETACH_EVENT } from '../stream/adapters/detach.js';
import type { LogLevel } from './options.js';
import type { LineFormatter } from './pretty-log.js';

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
 * pipe); past it lines are dropped and counted. It must hold a burst written in one event-loop
 * turn, which no reader can drain however prompt: a shutdown ends every stream at once and logs
 * up to two lines per stream (`stream closed`, and at `debug` its `request`: about 430 bytes
 * together), so 10 000 streams (the default maxConnections) make about 4.3 MB. 8 MiB holds that with room for long topics, and
 * is small next to what 10 000 open streams cost anyway (socket buffers, up to 256 KiB of queue
 * each): the memory of a hub serving streams still comes before its logs.
 */
export const DEFAULT_MAX_LOG_BUFFER_BYTES = 8 * 1024 * 1024;

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
 *   (`dropped`). A warning with the count follows as soon as the target took what was buffered
 *   (or precedes the next line that fits, if that comes first), so a loss is always reported
 *   while output moves, also when the burst was the last thing logged.
 * - On an error of the target (EPIPE: the reader went away) logging stops for good; the server
 *   keeps running. Lines are counted as dropped from then on.
 * - `settle(ms)` waits at most `ms` for what is buffered to be written, the drop warning
 *   included, for the exit.
 */
export class BoundedLogStream {
  readonly #target: LogTarget;
  readonly #maxBufferBytes: number;
  readonly #format: LineFormatter | undefined;
  #dropped = 0;
  #unreported = 0;
  /** A report of the drops waits for the target to take what was buffered before them. */
  #reportScheduled = false;

  /** `format` rewrites each line before it is written (`--log-format pretty`); default none. */
  constructor(
    target: LogTarget,
    maxBufferBytes = DEFAULT_MAX_LOG_BUFFER_BYTES,
    format?: LineFormatter,
  ) {
    if (!(Number.isSafeInteger(maxBufferBytes) && maxBufferBytes > 0)) {
      throw new SseHubError('INVALID_OPTION', 'maxLogBufferBytes must be a positive integer');
    }
    this.#target = target;
    this.#format = format;
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
  write(json: string): boolean {
    const line = this.#format === undefined ? json : this.#format(json);
    // `writableLength` counts string length for sockets (they do not decode strings), so
    // compare like with like; for UTF-8 bytes this errs by a constant factor at most.
    if (this.broken || this.#target.writableLength + line.length > this.#maxBufferBytes) {
      this.#dropped += 1;
      this.#unreported += 1;
      this.#scheduleReport();
      return true;
    }
    this.#report();
    this.#target.write(line);
    return true;
  }

  /**
   * Writes the warning with the count of unreported drops, if any, when it fits: below the bound,
   * or into an empty buffer (a bound smaller than the warning must not hide it). Returns false
   * when a count is left to report.
   */
  #report(): boolean {
    if (this.#unreported === 0 || this.broken) return true;
    const record = `${JSON.stringify({ level: 40, time: Date.now(), name: 'ssehub', dropped: this.#unreported, msg: 'log output was blocked: lines dropped' })}\n`;
    const warning = this.#format === undefined ? record : this.#format(record);
    const buffered = this.#target.writableLength;
    if (buffered > 0 && buffered + warning.length > this.#maxBufferBytes) return false;
    this.#unreported = 0;
    this.#target.write(warning);
    return true;
  }

  /** Reports the drops once the target took everything buffered so far (and again if needed). */
  #scheduleReport(): void {
    if (this.#reportScheduled || this.broken) return;
    this.#reportScheduled = true;
    // Writes complete in order: the callback of an empty write runs after all earlier ones.
    this.#target.write('', (err?: Error | null) => {
      this.#reportScheduled = false;
      if (!err && !this.#report()) this.#scheduleReport();
    });
  }

  /**
   * Resolves once the buffered lines and the report of any drops are written, the target broke,
   * or `timeoutMs` passed.
   */
  settle(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      timer.unref();
      const step = () => {
        if (done) return;
        if (this.broken) return finish();
        const reported = this.#report();
        if (reported && this.#target.writableLength === 0) return finish();
        this.#target.write('', (err?: Error | null) => (err ? finish() : step()));
      };
      step();
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
  address?: string,
): void {
  const start = process.hrtime.bigint();
  // Only what the line needs, and no closure over `req` or `res`: a detached stream's request
  // and response must be free to go while its connection lives on.
  const method = req.method;
  // Redacted when the line is written: the redacted copy is a tree of string pieces, which a
  // stream would keep for its whole life.
  const url = req.url;
  const httpVersion = req.httpVersion;
  const done = (status: number, completed: boolean, hubLogged: boolean): void => {
    const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
    onDone?.(route, status, durationMs);
    const line = {
      method,
      path: safeRequestPath(url),
      status,
      durationMs: Math.round(durationMs * 10) / 10,
      route,
      httpVersion,
      completed,
      ...(address === undefined ? {} : { address }),
    };
    if (status >= 500) logger.warn(line, 'request');
    // The hub logged this one itself (a stream, a publish, a rate-limit refusal): one line at info.
    else if (hubLogged) logger.debug(line, 'request');
    else logger.info(line, 'request');
  };
  function onClose(this: ServerResponse): void {
    // A response that closed before it finished was cut short (client gone or shutdown).
    done(this.statusCode, this.writableFinished, isLoggedByHub(this));
  }
  res.once('close', onClose);
  // An event stream that took its connection over: the response says nothing more, the socket
  // closing ends the request. Completed, as for a response, when the server ended it (the
  // socket's write side was ended gracefully), not when the client left or it broke.
  res.once(DETACH_EVENT, function (this: ServerResponse, socket: Socket) {
    this.off('close', onClose);
    const status = this.statusCode;
    const hubLogged = isLoggedByHub(this);
    socket.on('close', (hadError: boolean) =>
      done(status, socket.writableEnded && !hadError, hubLogged),
    );
  });
}
