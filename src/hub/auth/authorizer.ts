/**
 * The JWT authorizer: verifies a token with jose and says what it allows (claims.ts). The hub
 * never parses tokens itself.
 */
import { errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import { SseHubError } from '../../errors.js';
import { claimsFromPayload } from './claims.js';
import { type JwksOptions, type KeySource, resolveKey, type VerificationKey } from './keys.js';
import type { Authorizer, Claims, TokenRole } from './types.js';

export type { JwksOptions, KeySource } from './keys.js';

/**
 * Seconds of clock skew allowed on `exp` and `nbf`. Issuer and hub clocks drift a little; a few
 * seconds stop fresh tokens from failing at the edges while adding almost nothing to a token's
 * lifetime.
 */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 5;

/**
 * Longest token accepted, in characters. Real tokens are well under 2 KiB; the bound keeps a huge
 * `Authorization` header, cookie or query value from costing base64 and JSON work.
 */
export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Most topic selectors one token may carry (the draft asks hubs to bound this). Each is compiled
 * and kept for the life of the connection.
 */
export const DEFAULT_MAX_TOKEN_SELECTORS = 1000;

/**
 * Options of createAuthorizer. The top-level `key` / `jwksUrl` / `algorithms` are shared by both
 * roles; `publisher` or `subscriber` with their own `key` or `jwksUrl` replace them (algorithms
 * included) for that role — the draft recommends different keys for the two.
 */
export interface AuthorizerOptions extends KeySource {
  publisher?: KeySource;
  subscriber?: KeySource;
  /** Clock skew allowed on `exp` / `nbf`, in seconds. Default DEFAULT_CLOCK_TOLERANCE_SEC. */
  clockToleranceSec?: number;
  /** Required `aud` value(s) (draft 08: the hub's resource identifier). Not checked when unset. */
  audience?: string | string[];
  /** Required `iss` value(s). Not checked when unset. */
  issuer?: string | string[];
  /** Required `typ` header (draft 08 says `at+jwt`). Not checked when unset, as draft-07 tokens have none. */
  typ?: string;
  /** Default DEFAULT_MAX_TOKEN_LENGTH. */
  maxTokenLength?: number;
  /** Default DEFAULT_MAX_TOKEN_SELECTORS. */
  maxSelectors?: number;
  /** The hub's URL, the base of relative URL-pattern selectors in tokens. */
  baseURL?: string;
  /**
   * Budget of one template or URL pattern in a token (automaton states + ε-edges); a token with
   * a selector over it is INVALID_TOKEN. Default DEFAULT_MAX_SELECTOR_COST (the hub passes its
   * `maxSelectorCost`).
   */
  maxSelectorCost?: number;
  /**
   * Budget of a token's selectors for one action together; a token over it is INVALID_TOKEN.
   * Default DEFAULT_MAX_SELECTOR_SET_COST (the hub passes its `maxSubscriberSelectorCost`).
   */
  maxSelectorSetCost?: number;
  /** Fetch limits when a JWKS URL is used. */
  jwks?: JwksOptions;
}

const hasKey = (s: KeySource | undefined): s is KeySource =>
  s !== undefined && (s.key !== undefined || s.jwksUrl !== undefined);

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SseHubError('INVALID_CONFIG', `${name} must be a non-negative number`);
  }
  return value;
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new SseHubError('INVALID_CONFIG', `${name} must be a positive integer`);
  }
  return value;
}

/** A safe, token-free description of why jose refused a token. */
function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired ("exp" is in the past)';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (err instanceof errors.JOSEAlgNotAllowed)
    return 'the token is signed with an algorithm not allowed for this key';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key in the JWKS matches the token';
  if (err instanceof errors.JWKSTimeout) return 'the JWKS could not be fetched in time';
  if (err instanceof errors.JOSEError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return `verification failed (${err.name}: ${err.message})`;
  return 'verification failed';
}

/** Removes the token and its parts from a message, in case a library ever echoes them. */
function scrub(detail: string, token: string): string {
  let out = detail.split(token).join('[token]');
  for (const part of token.split('.')) {
    if (part.length >= 8) out = out.split(part).join('[token]');
  }
  return out;
}

/**
 * Creates the JWT authorizer. Keys: HMAC secrets (HS256/384/512), PEM public keys or
 * certificates (RS*, PS*, ES*, EdDSA, by key type) or a JWKS URL. Throws SseHubError
 * ('INVALID_CONFIG') for a bad configuration; `verify` rejects with INVALID_TOKEN or
 * TOKEN_EXPIRED, never echoing the token.
 */
export function createAuthorizer(options: AuthorizerOptions): Authorizer {
  const clockTolerance = nonNegative(
    options.clockToleranceSec,
    DEFAULT_CLOCK_TOLERANCE_SEC,
    'clockToleranceSec',
  );
  const maxTokenLength = nonNegative(
    options.maxTokenLength,
    DEFAULT_MAX_TOKEN_LENGTH,
    'maxTokenLength',
  );
  const maxSelectors = nonNegative(
    options.maxSelectors,
    DEFAULT_MAX_TOKEN_SELECTORS,
    'maxSelectors',
  );
  const maxSelectorCost = positive(options.maxSelectorCost, 'maxSelectorCost');
  const maxSelectorSetCost = positive(options.maxSelectorSetCost, 'maxSelectorSetCost');
  const jwks = options.jwks ?? {};
  const shared = hasKey(options) ? options : undefined;
  const sources: Record<TokenRole, KeySource | undefined> = {
    publisher: hasKey(options.publisher) ? options.publisher : shared,
    subscriber: hasKey(options.subscriber) ? options.subscriber : shared,
  };
  if (!sources.publisher && !sources.subscriber) {
    throw new SseHubError('INVALID_CONFIG', 'the authorizer needs a key or a JWKS URL');
  }
  // One resolved key (and one JWKS cache) per source object, shared when roles share a source.
  const resolved = new Map<KeySource, VerificationKey>();
  const keys = {} as Record<TokenRole, VerificationKey | undefined>;
  for (const role of ['publisher', 'subscriber'] as const) {
    const source = sources[role];
    if (!source) continue;
    let key = resolved.get(source);
    if (!key) {
      key = resolveKey(source, role, jwks);
      resolved.set(source, key);
    }
    keys[role] = key;
  }

  async function verifyPayload(token: string, key: VerificationKey): Promise<JWTPayload> {
    const verifyOptions: JWTVerifyOptions = {
      algorithms: key.algorithms,
      clockTolerance,
      ...(options.audience !== undefined && { audience: options.audience }),
      ...(options.issuer !== undefined && { issuer: options.issuer }),
      ...(options.typ !== undefined && { typ: options.typ }),
    };
    // The same call twice on purpose: narrowing the key's kind is what lets TypeScript pick
    // jwtVerify's overload (a key resolver or a key), which a union cannot.
    const result =
      key.kind === 'jwks'
        ? await jwtVerify(token, key.key, verifyOptions)
        : await jwtVerify(token, key.key, verifyOptions);
    return result.payload;
  }

  return {
    async verify(token: string, role: TokenRole): Promise<Claims> {
      if (typeof token !== 'string' || token === '') {
        throw new SseHubError('INVALID_TOKEN', 'the token is empty');
      }
      if (token.length > maxTokenLength) {
        throw new SseHubError(
          'INVALID_TOKEN',
          `the token is ${token.length} characters long; the limit is ${maxTokenLength}`,
        );
      }
      const key = keys[role];
      if (!key) {
        throw new SseHubError('INVALID_TOKEN', `no key is configured for ${role} tokens`);
      }
      let payload: JWTPayload;
      try {
        payload = await verifyPayload(token, key);
      } catch (err) {
        // No `cause`: jose errors carry the claims, and loggers print causes.
        const code = err instanceof errors.JWTExpired ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN';
        throw new SseHubError(code, scrub(`${role} token: ${describe(err)}`, token));
      }
      // Only now, with the signature verified, are the token's selectors compiled.
      return claimsFromPayload(payload, {
        maxSelectors,
        baseURL: options.baseURL,
        maxSelectorCost,
        maxSelectorSetCost,
      });
    },
  };
}
