/** First restart delay of a crashed worker: quick, a single crash should cost little capacity. */
export const RESTART_BASE_MS = 100;
/** Longest delay between restarts of a worker that keeps crashing. */
export const RESTART_MAX_MS = 10_000;
/** A worker that ran this long before exiting counts as healthy: its next crash starts over. */
export const RESTART_STABLE_MS = 10_000;

/**
 * Delays between restarts of one worker slot: doubling from {@link RESTART_BASE_MS} up to
 * {@link RESTART_MAX_MS} while the worker keeps dying young, so a crash loop (a bad deploy, a
 * port taken) costs a restart every few seconds rather than spinning a core.
 */
export class RestartBackoff {
  #failures = 0;

  /** The delay before restarting a worker that exited after running `ranMs`. */
  next(ranMs: number): number {
    if (ranMs >= RESTART_STABLE_MS) this.#failures = 0;
    this.#failures += 1;
    return Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (this.#failures - 1));
  }

  /** Restarts in a row without a stable run in between. */
  get failures(): number {
    return this.#failures;
  }
}
