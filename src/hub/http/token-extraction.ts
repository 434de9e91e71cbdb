import type { IncomingHttpHeaders } from 'node:http';
import { SseHubError } from '../../errors.js';

/** Where a request's token came from. Cookie-authenticated publishes get an Origin check. */
export type TokenSource = 'header' | 'cookie' | 'query';

export interface ExtractedToken {
  token: string;
  source: TokenSource;
}

/** Draft 07's cookie name (hub 0.x), read whatever `cookieName` says: its clients still work. */
export const DRAFT07_COOKIE = 'mercureAuthorization';
/**
 * Cookie names holding a token under the default `cookieName`, in order of preference: draft 07
 * (`mercureAuthorization`), the current spec's secure cookie, and the name an earlier draft
 * recommended.
 */
export const TOKEN_COOKIES: readonly string[] = Object.freeze([
  DRAFT07_COOKIE,
  '__Secure-mercure_access_token',
  'mercureAccessToken',
]);

let customCookies: readonly string[] = TOKEN_COOKIES;

/**
 * The cookies to read for `cookieName`: the default list for the default name (today's
 * behaviour), else the configured name, then draft 07's. Made once per name, not per request.
 */
export function tokenCookies(cookieName: string): readonly string[] {
  if (cookieName === TOKEN_COOKIES[1]) return TOKEN_COOKIES;
  if (customCookies[0] !== cookieName) {
    customCookies = Object.freeze(
      cookieName === DRAFT07_COOKIE ? [cookieName] : [cookieName, DRAFT07_COOKIE],
    );
  }
  return customCookies;
}
/**
 * Query parameters holding a token when `allowQueryToken` is on: draft 07's only. RFC 6750's
 * `access_token` is not accepted: the current Mercure spec leaves it out (RFC 9700 forbids
 * clients to send tokens in URLs), so no client of it sends one.
 */
export const TOKEN_QUERY_PARAMS = ['authorization'] as const;

/** `Bearer` as the scheme of an `Authorization` value (case-insensitive, RFC 9110). */
const BEARER_SCHEME = /^Bearer(?:[ \t]|$)/i;
/** `Bearer` + one b64token (RFC 6750 section 2.1); extra spaces around it are tolerated. */
const BEARER = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The value of cookie `name` in a `Cookie` header, percent-decoded; undefined when absent. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || !header.includes(name)) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1);
    }
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/**
 * The request's token: the `Authorization: Bearer` header, else a token cookie, else (only when
 * `allowQuery`) a query parameter. `cookies` are the cookie names, in order (see tokenCookies). An `Authorization` header of another scheme is ignored, so a
 * proxy's Basic credentials do not hide the cookie. A `Bearer` header whose credentials are not
 * one token (`Bearer`, `Bearer a b`) throws INVALID_REQUEST (400 `invalid_request`): it is not
 * treated as absent, which would fall back to a cookie the client did not mean to use.
 */
export function extractToken(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  allowQuery: boolean,
  cookies: readonly string[] = TOKEN_COOKIES,
): ExtractedToken | undefined {
  const authorization = first(headers.authorization);
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization);
    if (match) return { token: match[1]!, source: 'header' };
    if (BEARER_SCHEME.test(authorization)) {
      throw new SseHubError('INVALID_REQUEST', 'the Bearer credentials are not one token');
    }
  }
  const cookie = first(headers.cookie);
  for (const name of cookies) {
    const token = readCookie(cookie, name);
    if (token) return { token, source: 'cookie' };
  }
  if (allowQuery) {
    for (const name of TOKEN_QUERY_PARAMS) {
      const token = query.get(name);
      if (token) return { token, source: 'query' };
    }
  }
  return undefined;
}
