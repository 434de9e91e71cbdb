/**
 * Verification and signing keys, and the algorithms each may be used with. The rule that stops
 * algorithm confusion lives here: a PEM is always an asymmetric public key, so its text can never
 * become an HMAC secret, and `none` is never allowed.
 */
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { type ErrorCode, SseHubError } from '../../errors.js';

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const PSS_ALGORITHMS = ['PS256', 'PS384', 'PS512'];
const EC_ALGORITHMS: Record<string, string> = {
  prime256v1: 'ES256',
  'P-256': 'ES256',
  secp384r1: 'ES384',
  'P-384': 'ES384',
  secp521r1: 'ES512',
  'P-521': 'ES512',
};
/** Every asymmetric algorithm jose verifies; the default allow-list for a JWKS URL. */
export const ASYMMETRIC_ALGORITHMS = [
  ...RSA_ALGORITHMS,
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** Where a role's verification key comes from. Give `key` or `jwksUrl`, not both. */
export interface KeySource {
  /**
   * An HMAC secret, or a PEM public key (SPKI `BEGIN PUBLIC KEY`, PKCS#1 `BEGIN RSA PUBLIC KEY`)
   * or X.509 certificate (`BEGIN CERTIFICATE`). A PEM is only ever used as an asymmetric key.
   */
  key?: string;
  /** URL of a JSON Web Key Set (asymmetric keys only). */
  jwksUrl?: string;
  /** Accepted `alg` values; defaults to every algorithm that fits the key. Never `none`. */
  algorithms?: string[];
}

/** Fetch limits for a JWKS URL (passed to jose's createRemoteJWKSet). */
export interface JwksOptions {
  /** Abort a JWKS fetch after this long, so a stuck key server cannot hang every request. */
  timeoutMs?: number;
  /** After a fetch, wait this long before an unknown `kid` may trigger another (stops refetch floods). */
  cooldownMs?: number;
  /** Refetch keys older than this, so rotated-out keys stop being trusted. */
  cacheMaxAgeMs?: number;
}

export const DEFAULT_JWKS_TIMEOUT_MS = 5_000;
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;

export type VerificationKey =
  | { kind: 'secret'; key: KeyObject; algorithms: string[] }
  | { kind: 'public'; key: KeyObject; algorithms: string[] }
  | { kind: 'jwks'; key: JWTVerifyGetKey; algorithms: string[] };

const isPem = (text: string) => text.trimStart().startsWith('-----BEGIN ');

/** The algorithms a Node key object can verify or sign with. */
export function algorithmsForKey(key: KeyObject, code: ErrorCode): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return [...RSA_ALGORITHMS];
    case 'rsa-pss':
      return [...PSS_ALGORITHMS];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
      const alg = EC_ALGORITHMS[curve];
      if (!alg) throw new SseHubError(code, `unsupported elliptic curve "${curve}"`);
      return [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      throw new SseHubError(code, `unsupported key type "${key.asymmetricKeyType}"`);
  }
}

/** Checks a configured allow-list against what the key supports; returns the list to use. */
export function checkAlgorithms(
  wanted: readonly string[] | undefined,
  supported: readonly string[],
  what: string,
  code: ErrorCode,
): string[] {
  if (wanted === undefined) return [...supported];
  if (!Array.isArray(wanted) || wanted.length === 0) {
    throw new SseHubError(code, `algorithms for ${what} must be a non-empty array`);
  }
  for (const alg of wanted) {
    if (!supported.includes(alg)) {
      throw new SseHubError(
        code,
        `algorithm "${String(alg)}" cannot be used with ${what} (allowed: ${supported.join(', ')})`,
      );
    }
  }
  return [...wanted];
}

/** Reads a PEM public key or certificate; a private key is refused (the hub never needs one). */
export function publicKeyFromPem(pem: string): KeyObject {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new SseHubError(
      'INVALID_CONFIG',
      'a private key was given as a verification key; give the public key or certificate',
    );
  }
  try {
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(pem).publicKey;
    return createPublicKey(pem);
  } catch (err) {
    throw new SseHubError(
      'INVALID_CONFIG',
      `the PEM key cannot be read: ${(err as Error).message}`,
    );
  }
}

/** Reads a PEM private key (PKCS#8, PKCS#1 or SEC1), for minting tokens. */
export function privateKeyFromPem(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new SseHubError(
      'INVALID_OPTION',
      `the private key cannot be read: ${(err as Error).message}`,
    );
  }
}

/** Builds the verification key of one role. `role` only names it in error details. */
export function resolveKey(source: KeySource, role: string, jwks: JwksOptions): VerificationKey {
  const { key, jwksUrl, algorithms } = source;
  if (key !== undefined && jwksUrl !== undefined) {
    throw new SseHubError(
      'INVALID_CONFIG',
      `give either a key or a JWKS URL for ${role} tokens, not both`,
    );
  }
  if (jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(jwksUrl);
    } catch {
      throw new SseHubError('INVALID_CONFIG', `the JWKS URL for ${role} tokens is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new SseHubError('INVALID_CONFIG', `the JWKS URL for ${role} tokens must be http(s)`);
    }
    return {
      kind: 'jwks',
      key: createRemoteJWKSet(url, {
        timeoutDuration: jwks.timeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
        cooldownDuration: jwks.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
        cacheMaxAge: jwks.cacheMaxAgeMs ?? DEFAULT_JWKS_CACHE_MAX_AGE_MS,
      }),
      algorithms: checkAlgorithms(algorithms, ASYMMETRIC_ALGORITHMS, 'a JWKS', 'INVALID_CONFIG'),
    };
  }
  if (typeof key !== 'string' || key === '') {
    throw new SseHubError(
      'INVALID_CONFIG',
      `the key for ${role} tokens must be a non-empty string`,
    );
  }
  if (isPem(key)) {
    const publicKey = publicKeyFromPem(key);
    const supported = algorithmsForKey(publicKey, 'INVALID_CONFIG');
    return {
      kind: 'public',
      key: publicKey,
      algorithms: checkAlgorithms(
        algorithms,
        supported,
        `this ${role} public key`,
        'INVALID_CONFIG',
      ),
    };
  }
  return {
    kind: 'secret',
    // A KeyObject, not raw bytes: jose converts it to a CryptoKey once and caches that, while
    // bytes are imported again on every verification (~25% of an HS256 verify).
    key: createSecretKey(new TextEncoder().encode(key)),
    algorithms: checkAlgorithms(algorithms, HMAC_ALGORITHMS, 'an HMAC secret', 'INVALID_CONFIG'),
  };
}
