/**
 * Lets long work share the event loop. Fan-out to many subscribers and history replays for many
 * resuming clients are each cheap per step but unbounded in total; run in one go they would keep
 * health checks, publishes and new connections waiting. Work asks `shouldYield()` between steps
 * and, when told to, awaits `yieldToLoop()`, which lets pending I/O run first.
 *
 * One slicer is shared by everything in a hub, so several kinds of work together stay within one
 * slice per loop turn.
 */
export class LoopSlicer {
  readonly #sliceMs: number;
  #start = 0;
  #armed = false;
  readonly #disarm = (): void => {
    this.#armed = false;
  };

  /** `sliceMs`: how long work may run in one loop turn before it should yield. */
  constructor(sliceMs: number) {
    this.#sliceMs = sliceMs;
  }

  /**
   * True when work has run past the slice in this loop turn. The first call in a turn starts the
   * clock; the turn is taken to end when the loop reaches its check phase (setImmediate).
   */
  shouldYield(): boolean {
    const now = performance.now();
    if (!this.#armed) {
      this.#armed = true;
      this.#start = now;
      setImmediate(this.#disarm);
      return false;
    }
    return now - this.#start >= this.#sliceMs;
  }
}

/** Resolves after pending I/O callbacks have run (the loop's check phase). */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
