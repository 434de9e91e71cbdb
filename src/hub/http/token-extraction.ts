import type { IncomingHttpHeaders } from 'node:http';
import { SseHubError } from '../../errors.js';

/** Where a request's token came from. Cookie-authenticated publishes get an Origin check. */
export type TokenSource = 'header' | 'cookie' | 'query';

export interface ExtractedToken {
  token: string;
  source: TokenSource;
}

/**
 * Cookie names holding a token, in order of preference: draft 07 (`mercureAuthorization`), the
 * draft 08 secure cookie, and the name recent drafts recommend.
 */
export const TOKEN_COOKIES = [
  'mercureAuthorization',
  '__Secure-mercure_access_token',
  'mercureAccessToken',
] as const;
/** Query parameters holding a token when `allowQueryToken` is on: draft 07, then RFC 6750. */
export const TOKEN_QUERY_PARAMS = ['authorization', 'access_token'] as const;

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
 * `allowQuery`) a query parameter. An `Authorization` header of another scheme is ignored, so a
 * proxy's Basic credentials do not hide the cookie. A `Bearer` header whose credentials are not
 * one token (`Bearer`, `Bearer a b`) throws INVALID_REQUEST (400 `invalid_request`): it is not
 * treated as absent, which would fall back to a cookie the client did not mean to use.
 */
export function extractToken(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  allowQuery: boolean,
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
  for (const name of TOKEN_COOKIES) {
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
