// Conditions a test waits on without sleeping: the owner of the state calls `notify()` whenever it
// changes, and every pending condition is re-checked then.

/** Generous bound for anything a test waits on: slow CI is fine, a hang fails. */
export const DEFAULT_WAIT_MS = 10_000;

interface Waiter {
  check: () => boolean;
  resolve: () => void;
}

export class Waiters {
  #pending: Waiter[] = [];
  readonly #describe: () => string;

  /** `describe` adds the owner's state to a timeout's message (after the label). */
  constructor(describe: () => string = () => '') {
    this.#describe = describe;
  }

  /** Resolves once `check()` holds, re-checked on every `notify()`; rejects after `timeoutMs`. */
  waitFor(check: () => boolean, label: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#pending = this.#pending.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${label}${this.#describe()}`));
      }, timeoutMs);
      this.#pending.push(waiter);
    });
  }

  /** Re-checks every pending condition; resolves those that now hold. */
  notify(): void {
    if (this.#pending.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#pending) {
      if (w.check()) w.resolve();
      else still.push(w);
    }
    this.#pending = still;
  }
}
