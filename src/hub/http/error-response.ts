import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { type ErrorCode, errorTable, isSseHubError, SseHubError } from '../../errors.js';
import { TOO_MANY_STREAMS_RETRY_AFTER_S } from './client-streams.js';

const CHALLENGE = 'Bearer realm="mercure"';

/** `Retry-After` of the refusals that pass, when the error does not carry its own. */
const RETRY_AFTER_S: Partial<Record<ErrorCode, number>> = {
  HUB_OVERLOADED: 1,
  TOO_MANY_STREAMS: TOO_MANY_STREAMS_RETRY_AFTER_S,
};

/**
 * The `WWW-Authenticate` challenge for an auth error (RFC 6750 section 3), if any, with the
 * `resource_metadata` parameter (RFC 9728 section 5.1) when `resourceMetadata` is given: the
 * spec asks for it on every such 401 and 403, not only when no token was presented.
 */
export function challengeFor(err: SseHubError, resourceMetadata?: string): string | undefined {
  let error: string | undefined;
  switch (err.code) {
    case 'UNAUTHORIZED':
      break;
    case 'INVALID_TOKEN':
    case 'TOKEN_EXPIRED':
      error = 'invalid_token';
      break;
    case 'FORBIDDEN':
      error = 'insufficient_scope';
      break;
    case 'INVALID_REQUEST':
      error = 'invalid_request';
      break;
    default:
      return undefined;
  }
  let challenge = error === undefined ? CHALLENGE : `${CHALLENGE}, error="${error}"`;
  if (resourceMetadata !== undefined) challenge += `, resource_metadata="${resourceMetadata}"`;
  return challenge;
}

/**
 * The client-facing text of an error. Request errors (400, 404, 405, 413, 415, 429) say what was
 * wrong with the input; auth and server errors give only the table's message, so nothing about a
 * token or the hub's internals leaks.
 */
export function clientMessage(err: SseHubError): string {
  const plain = errorTable[err.code].message;
  if (err.status === 401 || err.status === 403 || err.status >= 500) return plain;
  return err.message;
}

/**
 * Answers `err` as `status` + `text/plain` message; auth errors get their challenge, naming
 * `resourceMetadata` (the metadata document's URL) when given. Anything but an SseHubError is a bug: it is
 * logged and answered 500. When the response already started (an open stream), it is ended.
 */
export function sendError(
  res: ServerResponse,
  error: unknown,
  logger: Logger,
  extraHeaders?: Record<string, string>,
  resourceMetadata?: string,
): void {
  const err = isSseHubError(error) ? error : undefined;
  if (res.destroyed && err === undefined) {
    // The client went away mid-request (e.g. while sending its body): nobody to answer.
    logger.debug({ err: error }, 'request aborted by the client');
    return;
  }
  if (err === undefined) logger.error({ err: error }, 'request failed');
  else if (err.status >= 500) logger.warn({ code: err.code, detail: err.detail }, err.message);
  if (res.headersSent || res.writableEnded) {
    if (!res.writableEnded) res.end();
    return;
  }
  const status = err?.status ?? 500;
  const body = err === undefined ? 'Internal server error' : clientMessage(err);
  const headers: Record<string, string | number> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    ...extraHeaders,
  };
  // Refusals that pass say when to come back: the error's own figure (a rate limit's bucket),
  // else the code's. Overload passes quickly (the backlog drains in seconds).
  if (err !== undefined && headers['Retry-After'] === undefined) {
    const retryAfterS = err.retryAfterS ?? RETRY_AFTER_S[err.code];
    if (retryAfterS !== undefined) headers['Retry-After'] = String(retryAfterS);
  }
  const challenge = err === undefined ? undefined : challengeFor(err, resourceMetadata);
  if (challenge !== undefined) headers['WWW-Authenticate'] = challenge;
  const unread = err?.code === 'BODY_TOO_LARGE' || bodyLeftUnread(res);
  if (unread && (res.req?.httpVersionMajor ?? 1) < 2) {
    // Answered before the body was read (413, or 401/403/415 ahead of reading it): on keep-alive
    // Node would read and discard the rest, however large; closing the connection leaves it
    // unread. (HTTP/2 forbids the header; there the stream is reset instead.)
    headers.Connection = 'close';
  }
  res.writeHead(status, headers);
  res.end(body);
}

/** True when the request has a body that has not been received in full. */
function bodyLeftUnread(res: ServerResponse): boolean {
  const req = res.req;
  if (req === undefined || req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Wraps a non-SseHubError from a verifier as INVALID_TOKEN (401), keeping SseHubErrors. */
export function asAuthError(err: unknown): SseHubError {
  if (isSseHubError(err)) return err;
  return new SseHubError('INVALID_TOKEN', undefined, { cause: err });
}
