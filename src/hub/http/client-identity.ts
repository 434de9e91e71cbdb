import { decodeJwt } from 'jose';

/** `iss` and `sub` of a verified token (the authorizer's claims do not carry them). */
export function tokenSubject(
  token: string | undefined,
): { iss?: string; sub?: string } | undefined {
  if (token === undefined) return undefined;
  try {
    const { iss, sub } = decodeJwt(token);
    return { ...(iss === undefined ? {} : { iss }), ...(sub === undefined ? {} : { sub }) };
  } catch {
    return undefined; // verified, so it decodes; a token it cannot read counts by address
  }
}

/**
 * Who a client is, for per-client limits (streams per subscriber, publishes per publisher): the
 * token's issuer and subject when the token names a subject (one user, whatever address it
 * connects from), else the client's address (anonymous clients, tokens without `sub`) as
 * `clientAddress` resolved it: behind a trusted proxy, the address the proxy saw.
 */
export function clientKey(
  address: string,
  token: { iss?: string | undefined; sub?: string | undefined } | undefined,
): string {
  if (typeof token?.sub === 'string' && token.sub !== '') {
    return `sub\0${token.iss ?? ''}\0${token.sub}`;
  }
  return `addr\0${address}`;
}
