import type { IncomingMessage, ServerResponse } from 'node:http';

/** Request headers a browser may send to the hub (EventSource polyfills, publishers). */
export const CORS_ALLOWED_HEADERS = 'authorization, last-event-id, cache-control, content-type';
/**
 * Response headers a cross-origin client may read: the history-loss signal, the subscriptions
 * API's cursor (`Link`), and the auth challenge (its `resource_metadata` is how a browser client
 * discovers the metadata).
 */
export const CORS_EXPOSED_HEADERS = 'Last-Event-ID, Mercure-Last-Event-ID, Link, WWW-Authenticate';
/** QUERY is a subscribe with its parameters in the body; not CORS-safelisted, so it is listed. */
export const CORS_ALLOWED_METHODS = 'GET, POST, QUERY, OPTIONS';
/** How long browsers may cache a preflight answer (seconds): one day, Chrome caps it at 2 h. */
export const CORS_MAX_AGE_S = 86_400;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** True when `origin` is in `allowed`, or `allowed` holds `*`. */
export function isOriginAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return false;
  return allowed.includes(origin) || allowed.includes('*');
}

/**
 * The CSRF guard of cookie-authenticated publishes: true only when `origin` is listed by name.
 * `*` never matches here, since a browser attaches the cookie to any site's cross-site post.
 */
export function isPublishOriginAllowed(
  origin: string | undefined,
  allowed: readonly string[],
): boolean {
  return origin !== undefined && origin !== '*' && allowed.includes(origin);
}

/** The request's origin: the `Origin` header, else the origin of `Referer`. */
export function requestOrigin(req: IncomingMessage): string | undefined {
  const origin = header(req, 'origin');
  if (origin !== undefined && origin !== 'null') return origin;
  const referer = header(req, 'referer');
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/**
 * Sets the CORS response headers when the request's `Origin` is allowed: a listed origin is echoed
 * with credentials; `*` allows any origin, without credentials (browsers refuse `*` with them).
 * Returns false when the request has an origin that is not allowed.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  allowed: readonly string[],
): boolean {
  const origin = header(req, 'origin');
  if (origin === undefined) return true;
  // The answer depends on Origin even when it is a refusal, so caches must key on it.
  res.setHeader('Vary', 'Origin');
  if (allowed.includes(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
  } else if (allowed.includes('*')) {
    res.setHeader('Access-Control-Allow-Origin', '*');
  } else {
    return false;
  }
  res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSED_HEADERS);
  return true;
}

/** Adds the preflight headers; call after `applyCors` returned true. */
export function setPreflightHeaders(res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Methods', CORS_ALLOWED_METHODS);
  res.setHeader('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS);
  res.setHeader('Access-Control-Max-Age', String(CORS_MAX_AGE_S));
}
