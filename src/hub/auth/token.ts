/**
 * Minting Mercure tokens, for development, tests and the `ssehub token` command. Production
 * tokens usually come from the application or an authorization server.
 */
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { SseHubError } from '../../errors.js';
import { algorithmsForKey, checkAlgorithms, HMAC_ALGORITHMS, privateKeyFromPem } from './keys.js';

/** A selector: a plain string, or a draft-08 matcher object. */
export type MintSelector = string | { match: string; matchType?: 'Exact' | 'URLPattern' };

export interface MintClaims {
  publish?: MintSelector[];
  subscribe?: MintSelector[];
  /** Data attached to the subscriber (draft 08: put on the `subscribe` entry). */
  payload?: unknown;
  /** Lifetime: seconds, or a jose time span such as `'2h'`. Default DEFAULT_TOKEN_LIFETIME_SEC. */
  expiresIn?: number | string;
  /**
   * `07` (default): a `mercure` claim, what most hubs and clients speak today.
   * `08`: an `authorization_details` claim (type `mercure`) and the `at+jwt` header.
   */
  draft?: '07' | '08';
  subject?: string;
  audience?: string | string[];
  issuer?: string;
}

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
    if (s.matchType === 'URLPattern') {
      throw bad(`${name}: a draft-07 token cannot carry URL patterns; use draft '08'`);
    }
    return s.match;
  });
}

function draft08Topics(list: MintSelector[], name: string): object[] {
  if (!Array.isArray(list)) throw bad(`${name} must be an array`);
  return list.map((s) => {
    if (typeof s === 'string') return { match: s };
    if (typeof s?.match !== 'string') throw bad(`${name}: a matcher needs a "match" string`);
    return s.matchType === undefined
      ? { match: s.match }
      : { match: s.match, matchType: s.matchType };
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
      type: 'mercure',
      actions: ['publish'],
      topics: draft08Topics(claims.publish, 'publish'),
    });
  }
  if (claims.subscribe?.length) {
    details.push({
      type: 'mercure',
      actions: ['subscribe'],
      topics: draft08Topics(claims.subscribe, 'subscribe'),
      ...(claims.payload !== undefined && { payload: claims.payload }),
    });
  } else if (claims.payload !== undefined) {
    throw bad('a draft-08 payload belongs to a subscribe grant; give subscribe selectors');
  }
  return { authorization_details: details };
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
    if (claims.subject !== undefined) jwt.setSubject(claims.subject);
    if (claims.audience !== undefined) jwt.setAudience(claims.audience);
    if (claims.issuer !== undefined) jwt.setIssuer(claims.issuer);
    return await jwt.sign(signing.key);
  } catch (err) {
    if (err instanceof SseHubError) throw err;
    throw bad(`the token cannot be signed: ${(err as Error).message}`);
  }
}
