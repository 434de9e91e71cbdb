import type { IncomingMessage } from 'node:http';
import { readFormBody } from './body.js';

/**
 * The subscribe parameters a request body carries (Mercure, Subscription: a hub MAY accept a safe
 * method with a body, notably `QUERY`, so that matcher lists too long for the URL limits of
 * intermediaries still fit). The body is `application/x-www-form-urlencoded` and read like a
 * publish body: bounded by `maxBodyBytes` (413), strictly UTF-8 (400), another type 415.
 */

/**
 * True when the request has a body. HTTP/1 announces one with `Content-Length` (other than 0) or
 * `Transfer-Encoding`; HTTP/2 with a HEADERS frame that does not end the stream, whatever the
 * headers say.
 */
export function hasRequestBody(req: IncomingMessage): boolean {
  const stream = (req as IncomingMessage & { stream?: { endAfterHeaders?: boolean } }).stream;
  if (req.httpVersionMajor >= 2 && typeof stream?.endAfterHeaders === 'boolean') {
    return !stream.endAfterHeaders;
  }
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Reads the body's parameters; undefined when the request has no body and no `Content-Type` (a
 * `QUERY` with everything in its URL is a plain subscribe). A body of another type is refused
 * (UNSUPPORTED_MEDIA_TYPE) rather than ignored: ignoring it would subscribe to something else
 * than the client asked for.
 */
export async function readSubscribeBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<URLSearchParams | undefined> {
  if (req.headers['content-type'] === undefined && !hasRequestBody(req)) return undefined;
  return readFormBody(req, maxBytes);
}

/**
 * The union the spec asks for: every pair of the query component, then every pair of the body,
 * "as if they had all appeared in one component". Order matters only for single-valued
 * parameters, and the cursor is looked up per component anyway (query first, see
 * requestedLastEventId).
 */
export function unionOfParams(query: URLSearchParams, body: URLSearchParams): URLSearchParams {
  const all = new URLSearchParams(query);
  for (const [name, value] of body) all.append(name, value);
  return all;
}
