import type { IncomingHttpHeaders } from 'node:http';

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

const BEARER = /^Bearer[ ]+(\S+)\s*$/i;

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
 * proxy's Basic credentials do not hide the cookie.
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
