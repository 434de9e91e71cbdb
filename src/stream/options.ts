import { SseHubError } from '../errors.js';
import { checkRetry } from '../protocol/encoder.js';
import type { EventStreamOptions, OverflowPolicy } from './types.js';

/**
 * Default heartbeat interval. 15 s stays below the 30–60 s idle timeouts of common proxies and
 * load balancers.
 */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/**
 * Shortest heartbeat interval accepted. The shared sweep ticks at a fraction of the shortest
 * interval in use, so a tiny value would make it visit every stream hundreds of times a second.
 */
export const MIN_HEARTBEAT_MS = 10;
/** Longest heartbeat interval: the largest delay a Node timer accepts. */
export const MAX_HEARTBEAT_MS = 2 ** 31 - 1;
/**
 * Default bound of one client's queue. 256 KiB absorbs bursts of hundreds of typical updates; a
 * client that falls further behind is dropped (and resumes from its Last-Event-ID). The bound is
 * per client: 10k stuck clients pin at most ~2.5 GiB, so lower it for more clients per process.
 */
export const DEFAULT_MAX_QUEUE_BYTES = 256 * 1024;

/**
 * How long a graceful close (`close()`, reason `server`) may take to flush what is still buffered
 * before the connection is dropped. `end()` completes only once the client has read everything;
 * one that stopped reading but stays connected would otherwise pin the response (and its socket
 * and queue) forever, and the hub closes streams gracefully at max lifetime and token expiry.
 * 5 s lets a merely slow client receive the tail; a stuck one is destroyed like on overflow.
 */
export const CLOSE_DRAIN_TIMEOUT_MS = 5_000;

export interface ResolvedStreamOptions {
  heartbeatMs: number;
  maxQueueBytes: number;
  onOverflow: OverflowPolicy;
  retry: number | undefined;
  headers: Record<string, string | string[]>;
  status: number;
}

// RFC 9110 token: what Node accepts as a header name.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Outside what Node accepts in a header value (its checkInvalidHeaderChar): control characters
// other than tab, DEL, and anything above U+00FF.
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

function invalid(detail: string): SseHubError {
  return new SseHubError('INVALID_OPTION', detail);
}

function checkHeaders(headers: EventStreamOptions['headers']): Record<string, string | string[]> {
  if (headers === undefined) return {};
  if (headers === null || typeof headers !== 'object') throw invalid('headers must be an object');
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw invalid(`invalid header name ${JSON.stringify(name)}`);
    const ok =
      typeof value === 'string' ||
      (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!ok) throw invalid(`header ${name} must be a string or an array of strings`);
    // Header values reach the wire as-is: a line break would let a caller forge headers, and Node
    // throws mid-response on any other character it rejects, after the stream began.
    const values = typeof value === 'string' ? [value] : value;
    if (values.some((v) => INVALID_HEADER_VALUE.test(v))) {
      throw invalid(`header ${name} must hold only tab and Latin-1 text (no control characters)`);
    }
    out[name.toLowerCase()] = value;
  }
  return out;
}

/** Validates stream options and fills in defaults; throws INVALID_OPTION. */
export function resolveStreamOptions(options: EventStreamOptions = {}): ResolvedStreamOptions {
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  if (
    !Number.isSafeInteger(heartbeatMs) ||
    (heartbeatMs !== 0 && (heartbeatMs < MIN_HEARTBEAT_MS || heartbeatMs > MAX_HEARTBEAT_MS))
  ) {
    throw invalid(
      `heartbeatMs must be 0 or an integer from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}`,
    );
  }
  const maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
  if (!Number.isSafeInteger(maxQueueBytes) || maxQueueBytes <= 0) {
    throw invalid('maxQueueBytes must be a positive integer');
  }
  const onOverflow = options.onOverflow ?? 'close';
  if (onOverflow !== 'close') throw invalid("onOverflow must be 'close'");
  let retry: number | undefined;
  if (options.retry !== undefined) {
    try {
      retry = checkRetry(options.retry);
    } catch (cause) {
      throw new SseHubError('INVALID_OPTION', 'retry must be a non-negative integer', { cause });
    }
  }
  const status = options.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw invalid('status must be an integer from 200 to 599');
  }
  // Read by the node:http adapter; checked here with the rest.
  if (options.detach !== undefined && typeof options.detach !== 'boolean') {
    throw invalid('detach must be a boolean');
  }
  return {
    heartbeatMs,
    maxQueueBytes,
    onOverflow,
    retry,
    headers: checkHeaders(options.headers),
    status,
  };
}

/**
 * The response headers of an event stream. `Connection` is HTTP/1-only (HTTP/2 forbids it);
 * caller headers come last so they may override the defaults.
 */
export function eventStreamHeaders(
  extra: Record<string, string | string[]>,
  http1: boolean,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {
    // Bare type, no charset parameter: the stream is UTF-8 by definition, and some clients
    // compare the header for equality.
    'content-type': 'text/event-stream',
    // no-transform keeps compressing proxies from buffering the stream.
    'cache-control': 'no-cache, no-transform',
    // nginx otherwise buffers the response.
    'x-accel-buffering': 'no',
  };
  if (http1) headers.connection = 'keep-alive';
  Object.assign(headers, extra);
  if (!http1) {
    for (const name of [
      'connection',
      'keep-alive',
      'proxy-connection',
      'transfer-encoding',
      'upgrade',
    ])
      delete headers[name];
  }
  return headers;
}
