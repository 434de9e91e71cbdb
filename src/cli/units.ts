import { SseHubError } from '../errors.js';

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i;
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses `500ms`, `15s`, `5m`, `1h`, `7d` into milliseconds. A bare number is read in `bareUnit`
 * (milliseconds unless told otherwise: a token's lifetime is naturally counted in seconds).
 * Throws INVALID_CONFIG naming `what` on anything else.
 */
export function parseDuration(text: string, what: string, bareUnit: 'ms' | 's' = 'ms'): number {
  const m = DURATION.exec(text.trim());
  if (!m) {
    throw new SseHubError(
      'INVALID_CONFIG',
      `${what} must be a duration such as 500ms, 15s, 5m or 1h (got "${text}")`,
    );
  }
  const unit = (m[2] ?? bareUnit).toLowerCase();
  const ms = Math.round(Number(m[1]) * (DURATION_UNITS[unit] ?? 1));
  if (!Number.isSafeInteger(ms)) {
    throw new SseHubError('INVALID_CONFIG', `${what} is too large (got "${text}")`);
  }
  return ms;
}

const BYTES = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;
const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Parses `65536`, `64kb`, `1mb`, `1gib` into bytes (binary units). Throws INVALID_CONFIG. */
export function parseBytes(text: string, what: string): number {
  const m = BYTES.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * (BYTE_UNITS[(m[2] ?? 'b').toLowerCase()] ?? 1)) : NaN;
  if (!m || !Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new SseHubError(
      'INVALID_CONFIG',
      `${what} must be a positive size such as 65536, 64kb or 1mb (got "${text}")`,
    );
  }
  return bytes;
}

/** Parses a non-negative integer. Throws INVALID_CONFIG naming `what`. */
export function parseNonNegativeInt(text: string, what: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw new SseHubError(
      'INVALID_CONFIG',
      `${what} must be a non-negative integer (got "${text}")`,
    );
  }
  return Number(t);
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** Parses the usual spellings of a boolean in an environment variable. */
export function parseBoolean(text: string, what: string): boolean {
  const t = text.trim().toLowerCase();
  if (TRUE.has(t)) return true;
  if (FALSE.has(t)) return false;
  throw new SseHubError(
    'INVALID_CONFIG',
    `${what} must be true or false (1/0, yes/no, on/off; got "${text}")`,
  );
}

/** Splits a list given as `a,b` or `a b` (both are common in env files). Empty items are dropped. */
export function parseList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
