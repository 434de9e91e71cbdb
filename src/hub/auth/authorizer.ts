/**
 * The JWT authorizer: verifies a token with jose and says what it allows (claims.ts). The hub
 * never parses tokens itself.
 *
 * Two generations of tokens are accepted, told apart by the payload (claims.ts `tokenShape`):
 * - with `authorization_details`: an RFC 9068 access token, validated as the current Mercure spec
 *   says: header `typ` `at+jwt` (or `application/at+jwt`, any case), `exp` required, the resource
 *   identifier (`audience`) in `aud`, `iss` exactly one of the trusted `issuers`, and the
 *   signature checked with that issuer's keys only (never a pool spanning issuers). `sub`,
 *   `client_id`, `iat`, `jti` are the issuer's obligations and not required.
 * - otherwise (a draft-07 `mercure` claim, what hub 0.x publishers and subscribers send): verified
 *   with the top-level keys, no `typ`, `exp` optional (enforced when present), `aud` and `iss`
 *   not checked — hub 0.x tokens carry none of them.
 * The shape is read from the unverified payload only to choose the rules and keys; nothing in it
 * is trusted before the signature verifies, and it can never add a key.
 */
import { decodeJwt, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import { SseHubError } from '../../errors.js';
import { claimsFromPayload, tokenShape } from './claims.js';
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
 * Keys of both roles (`key` / `jwksUrl` / `algorithms`), with `publisher` or `subscriber` replacing
 * them (algorithms included) for that role — the spec recommends different keys for the two.
 */
export interface RoleKeys extends KeySource {
  publisher?: KeySource;
  subscriber?: KeySource;
}

/**
 * A trusted issuer of current-spec tokens and the keys bound to it: an authorization server's
 * issuer identifier, or the stable identifier of a self-issuing publisher. Without keys of its
 * own it is bound to the authorizer's top-level keys (one issuer at most may be).
 */
export interface TrustedIssuer extends RoleKeys {
  /** The `iss` value, compared exactly. */
  issuer: string;
}

/**
 * Options of createAuthorizer. The top-level keys (RoleKeys) verify draft-07 tokens, and the
 * current-spec tokens of the one trusted issuer that has no keys of its own.
 */
export interface AuthorizerOptions extends RoleKeys {
  /** Clock skew allowed on `exp` / `nbf`, in seconds. Default DEFAULT_CLOCK_TOLERANCE_SEC. */
  clockToleranceSec?: number;
  /**
   * The hub's resource identifier, which current-spec tokens must carry in `aud` (the spec
   * recommends the hub's URL; the hub passes its `jwtAudience`). Without it, every
   * `authorization_details` token is refused: the spec forbids skipping the check.
   */
  audience?: string;
  /**
   * Trusted issuers of current-spec tokens, each bound to its keys. Without any, every
   * `authorization_details` token is refused (`iss` must match one). The hub passes its
   * `jwtIssuers` (default: the origin of its public URL, bound to the top-level keys).
   */
  issuers?: TrustedIssuer[];
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
  if (err instanceof errors.JWTClaimValidationFailed) {
    return `the "${err.claim}" ${err.claim === 'typ' ? 'header' : 'claim'} is missing or not accepted (${err.reason})`;
  }
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
  // One resolved key (and one JWKS cache) per source object, shared when roles share a source.
  const resolved = new Map<KeySource, VerificationKey>();
  const roleKeys = (
    keys: RoleKeys,
    what: string,
  ): Record<TokenRole, VerificationKey | undefined> | undefined => {
    const shared = hasKey(keys) ? keys : undefined;
    const sources: Record<TokenRole, KeySource | undefined> = {
      publisher: hasKey(keys.publisher) ? keys.publisher : shared,
      subscriber: hasKey(keys.subscriber) ? keys.subscriber : shared,
    };
    if (!sources.publisher && !sources.subscriber) return undefined;
    const out = {} as Record<TokenRole, VerificationKey | undefined>;
    for (const role of ['publisher', 'subscriber'] as const) {
      const source = sources[role];
      if (!source) continue;
      let key = resolved.get(source);
      if (!key) {
        key = resolveKey(source, `${what}${role}`, jwks);
        resolved.set(source, key);
      }
      out[role] = key;
    }
    return out;
  };
  const ownKeys = roleKeys(options, '');
  const issuers = trustedIssuers(options.issuers, ownKeys, roleKeys);
  if (!ownKeys && issuers.size === 0) {
    throw new SseHubError('INVALID_CONFIG', 'the authorizer needs a key or a JWKS URL');
  }
  const audience = options.audience;
  if (audience !== undefined && (typeof audience !== 'string' || audience === '')) {
    throw new SseHubError('INVALID_CONFIG', 'audience must be a non-empty string');
  }

  /** The key and the checks for `token`, chosen by its shape (see the module comment). */
  function rulesFor(
    payload: JWTPayload,
    role: TokenRole,
  ): { key: VerificationKey | undefined; checks: JWTVerifyOptions; what: string } {
    if (tokenShape(payload) === 'draft07') {
      return { key: ownKeys?.[role], checks: {}, what: `draft-07 ${role}` };
    }
    if (audience === undefined) {
      throw new SseHubError('INVALID_TOKEN', 'no resource identifier (audience) is configured');
    }
    const iss = payload.iss;
    if (typeof iss !== 'string') {
      throw new SseHubError('INVALID_TOKEN', `${role} token: it has no "iss" claim`);
    }
    const keys = issuers.get(iss);
    if (keys === undefined) {
      // Refused before any key is tried: an unknown issuer must not reach another one's keys.
      throw new SseHubError(
        'INVALID_TOKEN',
        `${role} token: "iss" ${JSON.stringify(iss.slice(0, 200))} is not a trusted issuer`,
      );
    }
    return {
      key: keys[role],
      checks: { typ: 'at+jwt', requiredClaims: ['exp'], audience, issuer: iss },
      what: `${role} tokens of issuer ${JSON.stringify(iss.slice(0, 200))}`,
    };
  }

  async function verifyPayload(
    token: string,
    key: VerificationKey,
    checks: JWTVerifyOptions,
  ): Promise<JWTPayload> {
    const verifyOptions: JWTVerifyOptions = {
      ...checks,
      algorithms: key.algorithms,
      clockTolerance,
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
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        throw new SseHubError('INVALID_TOKEN', 'the token is not a JWT (JWS compact form)');
      }
      const { key, checks, what } = rulesFor(unverified, role);
      if (!key) {
        throw new SseHubError('INVALID_TOKEN', `no key is configured for ${what} tokens`);
      }
      let payload: JWTPayload;
      try {
        payload = await verifyPayload(token, key, checks);
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

/**
 * The trusted issuers by identifier, each with its role keys. Refuses duplicates, and a second
 * issuer bound to the top-level keys: one key set answering for two issuers would let either
 * one's tokens pass as the other's.
 */
function trustedIssuers(
  list: TrustedIssuer[] | undefined,
  ownKeys: Record<TokenRole, VerificationKey | undefined> | undefined,
  roleKeys: (
    keys: RoleKeys,
    what: string,
  ) => Record<TokenRole, VerificationKey | undefined> | undefined,
): Map<string, Record<TokenRole, VerificationKey | undefined>> {
  const out = new Map<string, Record<TokenRole, VerificationKey | undefined>>();
  if (list === undefined) return out;
  if (!Array.isArray(list)) throw new SseHubError('INVALID_CONFIG', 'issuers must be an array');
  let sharing: string | undefined;
  for (const entry of list) {
    const id = entry?.issuer;
    if (typeof id !== 'string' || id === '') {
      throw new SseHubError('INVALID_CONFIG', 'each trusted issuer needs a non-empty "issuer"');
    }
    if (out.has(id)) throw new SseHubError('INVALID_CONFIG', `issuer ${id} is listed twice`);
    let keys = roleKeys(entry, `issuer ${id}, `);
    if (keys === undefined) {
      if (ownKeys === undefined) {
        throw new SseHubError(
          'INVALID_CONFIG',
          `issuer ${id} has no keys of its own and there are no top-level keys to bind it to`,
        );
      }
      if (sharing !== undefined) {
        throw new SseHubError(
          'INVALID_CONFIG',
          `issuers ${sharing} and ${id} would share the top-level keys; give each its own`,
        );
      }
      sharing = id;
      keys = ownKeys;
    }
    out.set(id, keys);
  }
  return out;
}
