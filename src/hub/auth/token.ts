/**
 * Minting Mercure tokens, for development, tests and the `ssehub token` command. Production
 * tokens usually come from the application or an authorization server.
 */
import { type KeyObject, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { SseHubError } from '../../errors.js';
import { MERCURE_DETAIL_TYPE } from './claims.js';
import { algorithmsForKey, checkAlgorithms, HMAC_ALGORITHMS, privateKeyFromPem } from './keys.js';

/**
 * A selector: a plain string (draft 07: exact, `*` or URI template; draft 08: exact or `*`), or a
 * matcher object. `matchType` is the older draft's spelling, still read here and written as
 * `match_type`.
 */
export type MintSelector =
  | string
  | {
      match: string;
      match_type?: 'exact' | 'urlpattern';
      /** @deprecated the older draft's spelling; use `match_type`. */
      matchType?: 'Exact' | 'URLPattern';
    };

export interface MintClaims {
  publish?: MintSelector[];
  subscribe?: MintSelector[];
  /** Data attached to the subscriber (draft 08: put on the `subscribe` entry). */
  payload?: unknown;
  /** Lifetime: seconds, or a jose time span such as `'2h'`. Default DEFAULT_TOKEN_LIFETIME_SEC. */
  expiresIn?: number | string;
  /**
   * `07` (default): a `mercure` claim, what most hubs and clients speak today.
   * `08`: an RFC 9068 access token as the current Mercure spec wants: the `at+jwt` header, an
   * `authorization_details` claim (type `https://mercure.rocks/authorization-detail`), and all
   * of `iss`, `aud`, `sub`, `client_id`, `iat`, `exp`, `jti` (defaults below).
   */
  draft?: '07' | '08';
  /** `sub`. Draft 08 default: the client id. */
  subject?: string;
  /** `aud`. Draft 08 default: DEFAULT_MINT_AUDIENCE (the hub's default resource identifier). */
  audience?: string | string[];
  /** `iss`. Draft 08 default: DEFAULT_MINT_ISSUER (the hub's default trusted issuer). */
  issuer?: string;
  /** `client_id` (draft 08 only). Default: the issuer. */
  clientId?: string;
}

/**
 * The `iss` of minted draft-08 tokens when none is given: the issuer a hub with the default
 * public URL (`https://localhost/.well-known/mercure`) trusts by default, its origin.
 */
export const DEFAULT_MINT_ISSUER = 'https://localhost';
/** The `aud` of minted draft-08 tokens when none is given: the hub's default resource identifier. */
export const DEFAULT_MINT_AUDIENCE = 'https://localhost/.well-known/mercure';

/** Sign with an HMAC `secret` or a PEM `privateKey`; `alg` defaults to one that fits the key. */
export interface MintKey {
  secret?: string;
  privateKey?: string;
  alg?: string;
}

/** Default token lifetime: an hour, so a leaked development token does not live forever. */
export const DEFAULT_TOKEN_LIFETIME_SEC = 3600;

const bad = (detail: string) => new SseHubError('INVALID_OPTION', detail);

function draft07Selectors(list: MintSelector[] | undefined, name: string): string[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw bad(`${name} must be an array`);
  return list.map((s) => {
    if (typeof s === 'string') return s;
    if (s.matchType === 'URLPattern' || s.match_type === 'urlpattern') {
      throw bad(`${name}: a draft-07 token cannot carry URL patterns; use draft '08'`);
    }
    return s.match;
  });
}

const LEGACY_MATCH_TYPES: Record<string, string> = { Exact: 'exact', URLPattern: 'urlpattern' };

function draft08Topics(list: MintSelector[], name: string): object[] {
  if (!Array.isArray(list)) throw bad(`${name} must be an array`);
  return list.map((s) => {
    if (typeof s === 'string') return { match: s };
    if (typeof s?.match !== 'string') throw bad(`${name}: a matcher needs a "match" string`);
    const type =
      s.match_type ?? (s.matchType === undefined ? undefined : LEGACY_MATCH_TYPES[s.matchType]);
    if (type !== undefined && type !== 'exact' && type !== 'urlpattern') {
      throw bad(`${name}: match_type must be exact or urlpattern`);
    }
    return type === undefined ? { match: s.match } : { match: s.match, match_type: type };
  });
}

function body(claims: MintClaims): Record<string, unknown> {
  const draft = claims.draft ?? '07';
  if (draft === '07') {
    const mercure: Record<string, unknown> = {};
    const publish = draft07Selectors(claims.publish, 'publish');
    const subscribe = draft07Selectors(claims.subscribe, 'subscribe');
    if (publish) mercure.publish = publish;
    if (subscribe) mercure.subscribe = subscribe;
    if (claims.payload !== undefined) mercure.payload = claims.payload;
    return { mercure };
  }
  if (draft !== '08') throw bad(`draft must be '07' or '08'`);
  const details: object[] = [];
  if (claims.publish?.length) {
    details.push({
      type: MERCURE_DETAIL_TYPE,
      actions: ['publish'],
      topics: draft08Topics(claims.publish, 'publish'),
    });
  }
  if (claims.subscribe?.length) {
    details.push({
      type: MERCURE_DETAIL_TYPE,
      actions: ['subscribe'],
      topics: draft08Topics(claims.subscribe, 'subscribe'),
      ...(claims.payload !== undefined && { payload: claims.payload }),
    });
  } else if (claims.payload !== undefined) {
    throw bad('a draft-08 payload belongs to a subscribe grant; give subscribe selectors');
  }
  const issuer = claims.issuer ?? DEFAULT_MINT_ISSUER;
  const clientId = claims.clientId ?? issuer;
  return {
    iss: issuer,
    aud: claims.audience ?? DEFAULT_MINT_AUDIENCE,
    sub: claims.subject ?? clientId,
    client_id: clientId,
    jti: `urn:uuid:${randomUUID()}`,
    authorization_details: details,
  };
}

function signingKey(key: MintKey): { key: Uint8Array | KeyObject; alg: string } {
  if ((key.secret === undefined) === (key.privateKey === undefined)) {
    throw bad('give exactly one of secret or privateKey');
  }
  if (key.secret !== undefined) {
    if (typeof key.secret !== 'string' || key.secret === '') throw bad('the secret is empty');
    const [alg] = checkAlgorithms(
      key.alg === undefined ? undefined : [key.alg],
      HMAC_ALGORITHMS,
      'an HMAC secret',
      'INVALID_OPTION',
    );
    return { key: new TextEncoder().encode(key.secret), alg: alg! };
  }
  const privateKey = privateKeyFromPem(key.privateKey!);
  const supported = algorithmsForKey(privateKey, 'INVALID_OPTION');
  const [alg] = checkAlgorithms(
    key.alg === undefined ? undefined : [key.alg],
    supported,
    'this private key',
    'INVALID_OPTION',
  );
  return { key: privateKey, alg: alg! };
}

/** Signs a Mercure token. Rejects with SseHubError('INVALID_OPTION') on bad input. */
export async function mintToken(claims: MintClaims, key: MintKey): Promise<string> {
  const signing = signingKey(key);
  const draft = claims.draft ?? '07';
  const jwt = new SignJWT(body(claims))
    .setProtectedHeader({ alg: signing.alg, ...(draft === '08' && { typ: 'at+jwt' }) })
    .setIssuedAt();
  const lifetime = claims.expiresIn ?? DEFAULT_TOKEN_LIFETIME_SEC;
  try {
    if (typeof lifetime === 'number') {
      if (!Number.isFinite(lifetime)) throw bad('expiresIn must be a finite number of seconds');
      jwt.setExpirationTime(Math.floor(Date.now() / 1000) + lifetime);
    } else {
      jwt.setExpirationTime(lifetime);
    }
    // Draft 08 wrote them into the body already, with their defaults.
    if (draft === '07') {
      if (claims.subject !== undefined) jwt.setSubject(claims.subject);
      if (claims.audience !== undefined) jwt.setAudience(claims.audience);
      if (claims.issuer !== undefined) jwt.setIssuer(claims.issuer);
    }
    return await jwt.sign(signing.key);
  } catch (err) {
    if (err instanceof SseHubError) throw err;
    throw bad(`the token cannot be signed: ${(err as Error).message}`);
  }
}
