import type { StoredUpdate, Update, UpdateListener } from './types.js';

interface Subscription {
  readonly listener: UpdateListener;
  active: boolean;
}

/**
 * This process's live listeners of one transport. Delivers each update to every listener in the
 * order updates were emitted, even when a listener publishes from inside its callback (that update
 * is queued until the current one has reached everyone). A listener that throws is reported to
 * `onError` and does not keep the update from the others.
 */
export class Fanout {
  // Copy-on-write, so (un)subscribing during a delivery never disturbs the loop over listeners.
  #subscriptions: readonly Subscription[] = [];
  #queue: StoredUpdate[] = [];
  #delivering = false;
  readonly #onError: (err: unknown) => void;
  #closed = false;

  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  /** Adds a listener; after `close()` it is never called and unsubscribing does nothing. */
  subscribe(listener: UpdateListener): () => void {
    if (this.#closed) return () => {};
    const subscription: Subscription = { listener, active: true };
    this.#subscriptions = [...this.#subscriptions, subscription];
    return () => {
      if (!subscription.active) return;
      subscription.active = false;
      this.#subscriptions = this.#subscriptions.filter((s) => s !== subscription);
    };
  }

  emit(update: Update, position: number): void {
    this.#queue.push({ update, position });
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      // The queue may grow while we loop: a listener that publishes appends to it.
      for (let i = 0; i < this.#queue.length; i++) {
        const next = this.#queue[i]!;
        for (const subscription of this.#subscriptions) {
          if (!subscription.active) continue;
          try {
            subscription.listener(next.update, next.position);
          } catch (err) {
            this.#report(err);
          }
        }
      }
    } finally {
      this.#queue = [];
      this.#delivering = false;
    }
  }

  /** Unsubscribes everyone and refuses later subscribers: the transport has closed. */
  close(): void {
    this.#closed = true;
    for (const subscription of this.#subscriptions) subscription.active = false;
    this.#subscriptions = [];
  }

  #report(err: unknown): void {
    try {
      this.#onError(err);
    } catch {
      // An onError that throws must not break delivery either; there is nowhere left to report.
    }
  }
}
