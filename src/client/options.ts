import { SseHubError } from '../errors.js';
import { DEFAULT_MAX_EVENT_SIZE } from '../protocol/parser.js';
import type { ClientOptions, FetchLike, RetryInfo, Scheduler } from './types.js';

/** Defaults of the client options; each one's reason is on its field in ClientOptions. */
export const CLIENT_DEFAULTS = {
  initialDelayMs: 3000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 600_000,
  heartbeatTimeoutMs: 0,
  maxErrorBodyBytes: 16 * 1024,
} as const;

export interface ResolvedClientOptions {
  withCredentials: boolean;
  headers: ClientOptions['headers'];
  method: string;
  body: ClientOptions['body'];
  fetch: FetchLike;
  lastEventId: string;
  initialDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
  retryDelay: ((attempt: number, info: RetryInfo) => number | null) | undefined;
  heartbeatTimeoutMs: number;
  pauseWhenHidden: boolean;
  maxEventSize: number;
  maxErrorBodyBytes: number;
  random: () => number;
  schedule: Scheduler;
}

const defaultSchedule: Scheduler = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  return () => clearTimeout(timer);
};

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SseHubError('INVALID_OPTION', `${name} must be a non-negative finite number`);
  }
  return value;
}

/** Applies defaults and validates; throws INVALID_OPTION. */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  const fetchFn = options.fetch ?? globalThis.fetch?.bind(globalThis);
  if (typeof fetchFn !== 'function') {
    throw new SseHubError('INVALID_OPTION', 'no fetch available; pass options.fetch');
  }
  const lastEventId = options.lastEventId ?? '';
  if (/[\r\n\0]/.test(lastEventId)) {
    throw new SseHubError('INVALID_OPTION', 'lastEventId must not contain CR, LF or NUL');
  }
  const method = (options.method ?? 'GET').toUpperCase();
  if (options.body !== undefined && (method === 'GET' || method === 'HEAD')) {
    throw new SseHubError('INVALID_OPTION', `a ${method} request cannot have a body`);
  }
  const initialDelayMs = nonNegative(
    'initialDelayMs',
    options.initialDelayMs,
    CLIENT_DEFAULTS.initialDelayMs,
  );
  return {
    withCredentials: options.withCredentials === true,
    headers: options.headers,
    method,
    body: options.body,
    fetch: fetchFn,
    lastEventId,
    initialDelayMs,
    maxDelayMs: nonNegative('maxDelayMs', options.maxDelayMs, CLIENT_DEFAULTS.maxDelayMs),
    maxRetryAfterMs: nonNegative(
      'maxRetryAfterMs',
      options.maxRetryAfterMs,
      CLIENT_DEFAULTS.maxRetryAfterMs,
    ),
    retryDelay: options.retryDelay,
    heartbeatTimeoutMs: nonNegative(
      'heartbeatTimeoutMs',
      options.heartbeatTimeoutMs,
      CLIENT_DEFAULTS.heartbeatTimeoutMs,
    ),
    pauseWhenHidden: options.pauseWhenHidden === true,
    maxEventSize: options.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE,
    maxErrorBodyBytes: nonNegative(
      'maxErrorBodyBytes',
      options.maxErrorBodyBytes,
      CLIENT_DEFAULTS.maxErrorBodyBytes,
    ),
    random: options.random ?? Math.random,
    schedule: options.schedule ?? defaultSchedule,
  };
}
