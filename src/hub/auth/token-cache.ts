import type { Claims, TokenRole } from './types.js';

interface Entry {
  readonly claims: Claims;
  /** ms since the epoch after which the entry must not be used. */
  readonly until: number;
}

/**
 * Claims of recently verified tokens. Publishers send the same token with every publish, and
 * verifying a JWT (signature, JSON, selector compilation) costs more than the rest of a publish;
 * a hit skips it. Entries never outlive the token's `exp` nor `ttlMs`, which bounds how long a
 * key rotation takes to reach cached tokens. Only successful verifications are cached.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;

  constructor(maxEntries: number, ttlMs: number) {
    this.#maxEntries = maxEntries;
    this.#ttlMs = ttlMs;
  }

  get(role: TokenRole, token: string, now = Date.now()): Claims | undefined {
    if (this.#maxEntries === 0) return undefined;
    const key = role === 'publisher' ? `p${token}` : `s${token}`;
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.claims;
  }

  set(role: TokenRole, token: string, claims: Claims, now = Date.now()): void {
    if (this.#maxEntries === 0 || this.#ttlMs === 0) return;
    const until = Math.min(
      now + this.#ttlMs,
      typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY,
    );
    if (until <= now) return;
    const key = role === 'publisher' ? `p${token}` : `s${token}`;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      // Insertion order: drop the oldest entry.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { claims, until });
  }
}
