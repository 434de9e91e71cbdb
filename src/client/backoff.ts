/**
 * Reconnect timing as pure functions: no timers and no clock, so the schedule is tested by
 * calling them, not by waiting.
 */

// setTimeout stores delays as a signed 32-bit integer; anything longer fires at once.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Full-jitter exponential back-off: a uniformly random integer in [0, cap], where
 * cap = min(max, base * 2^attempt). Jitter over the whole range spreads a crowd of clients that
 * lost the same server, so they do not come back in lockstep.
 *
 * @param attempt 0 for the first reconnect, +1 for every failure since
 * @param random a source of numbers in [0, 1)
 */
export function nextDelay(
  attempt: number,
  base: number,
  max: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(max, base * 2 ** Math.max(0, attempt), MAX_TIMER_MS);
  if (!(cap > 0)) return 0;
  const r = random();
  const unit = r >= 0 && r < 1 ? r : 0;
  return Math.min(cap, Math.floor(unit * (cap + 1)));
}

/**
 * Reads a `Retry-After` header (delay-seconds or an HTTP date) as milliseconds from `now`.
 * Returns undefined when absent or unreadable; a date in the past means 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Math.min(Number.parseInt(text, 10) * 1000, MAX_TIMER_MS);
  if (text === '') return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_TIMER_MS);
}

/** The default policy: the server's Retry-After when it sent one, else `nextDelay`. */
export function defaultRetryDelay(
  attempt: number,
  base: number,
  max: number,
  random: () => number,
  retryAfterMs: number | undefined,
): number {
  return retryAfterMs ?? nextDelay(attempt, base, max, random);
}
