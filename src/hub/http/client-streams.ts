/**
 * How long a client refused for holding too many streams is told to wait (`Retry-After`, s): its
 * other streams end when their tabs close or their lifetime runs out, which is not instant, and
 * an EventSource retries after about 3 s on its own anyway.
 */
export const TOO_MANY_STREAMS_RETRY_AFTER_S = 5;

/**
 * Open event streams per client (`clientKey`), within this hub process.
 */
export class ClientStreams {
  readonly #open = new Map<string, number>();
  readonly #limit: number;

  /** `limit` 0 means no limit (nothing is counted then). */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Clients holding at least one stream. */
  get clients(): number {
    return this.#open.size;
  }

  /** Streams `key` holds now. */
  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }

  /**
   * Takes one stream slot for `key`: returns the function that gives it back (idempotent), or
   * undefined when `key` already holds `limit` streams.
   */
  acquire(key: string): (() => void) | undefined {
    if (this.#limit === 0) return () => {};
    const open = this.#open.get(key) ?? 0;
    if (open >= this.#limit) return undefined;
    this.#open.set(key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left === 0) this.#open.delete(key);
      else this.#open.set(key, left);
    };
  }
}
