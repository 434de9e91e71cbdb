import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Logger, pino } from 'pino';
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

/** The server's logger: JSON lines on stdout, with secrets redacted. */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({
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
  });
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
