import type { IncomingMessage } from 'node:http';
import type { Claims, TokenRole } from '../auth/index.js';
import type { HubContext } from './context.js';
import { asAuthError } from './error-response.js';
import { extractToken, type TokenSource, tokenCookies } from './token-extraction.js';

export interface Authentication {
  /** The verified claims; undefined when the request carried no token. */
  claims: Claims | undefined;
  source: TokenSource | undefined;
  /** The verified token itself (for claims the authorizer does not map, such as `sub`). */
  token: string | undefined;
}

/**
 * Finds and verifies the request's token for `role`. No token is not an error here (the caller
 * decides); a token that does not verify rejects with INVALID_TOKEN or TOKEN_EXPIRED.
 */
export async function authenticate(
  ctx: HubContext,
  req: IncomingMessage,
  query: URLSearchParams,
  role: TokenRole,
): Promise<Authentication> {
  const { allowQueryToken, cookieName } = ctx.options;
  const found = extractToken(req.headers, query, allowQueryToken, tokenCookies(cookieName));
  if (found === undefined) return { claims: undefined, source: undefined, token: undefined };
  let claims = ctx.tokens.get(role, found.token);
  if (claims === undefined) {
    try {
      claims = await ctx.options.authorizer.verify(found.token, role);
    } catch (err) {
      throw asAuthError(err);
    }
    ctx.tokens.set(role, found.token, claims);
  }
  return { claims, source: found.source, token: found.token };
}
