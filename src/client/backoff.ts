/**
 * Reconnect timing as pure functions: no timers and no clock, so the schedule is tested by
 * calling them, not by waiting.
 */

// setTimeout stores delays as a signed 32-bit integer; anything longer fires at once.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Shortest delay the default policy ever waits before reconnecting. A server `retry: 0`, a
 * `Retry-After: 0`, `initialDelayMs: 0` or an unlucky jitter draw would otherwise reconnect at
 * once, and against a server (or proxy) that answers and ends at once that is a tight loop: every
 * client hammering it as fast as the network allows. 100 ms is below what a person notices, yet
 * caps such a loop at 10 connections per second per client. It applies to every reconnect, the
 * first included: a successful open resets the attempt count, so a server that opens and ends
 * streams at once would keep a client at attempt 0 forever. A server `retry:` at or above the
 * floor is still the first reconnect's cap. A `retryDelay` hook's own return value is not floored.
 */
export const MIN_RECONNECT_DELAY_MS = 100;

/**
 * Full-jitter exponential back-off: a uniformly random integer in [min, cap], where
 * cap = min(max, base * 2^attempt); `min` when cap is below it. Jitter over the whole range
 * spreads a crowd of clients that lost the same server, so they do not come back in lockstep.
 *
 * @param attempt 0 for the first reconnect, +1 for every failure since
 * @param random a source of numbers in [0, 1)
 * @param min the floor (default 0; the default policy uses {@link MIN_RECONNECT_DELAY_MS})
 */
export function nextDelay(
  attempt: number,
  base: number,
  max: number,
  random: () => number = Math.random,
  min = 0,
): number {
  const cap = Math.min(max, base * 2 ** Math.max(0, attempt), MAX_TIMER_MS);
  if (!(cap > min)) return min;
  const r = random();
  const unit = r >= 0 && r < 1 ? r : 0;
  return Math.min(cap, min + Math.floor(unit * (cap - min + 1)));
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

/**
 * The default policy: the server's Retry-After when it sent one, else `nextDelay`; never below
 * {@link MIN_RECONNECT_DELAY_MS}.
 */
export function defaultRetryDelay(
  attempt: number,
  base: number,
  max: number,
  random: () => number,
  retryAfterMs: number | undefined,
): number {
  if (retryAfterMs !== undefined) return Math.max(MIN_RECONNECT_DELAY_MS, retryAfterMs);
  return nextDelay(attempt, base, max, random, MIN_RECONNECT_DELAY_MS);
}
