import type { EventFields } from '../../protocol/types.js';

/**
 * Ids that only go up: the event's time in ms since the epoch, bumped by one when two events fall
 * in the same millisecond (or the clock steps back). A client's Last-Event-ID then says when it
 * last heard from the server, across restarts too.
 */
export class MonotonicIds {
  #last = 0;

  next(now = Date.now()): string {
    this.#last = Math.max(now, this.#last + 1);
    return String(this.#last);
  }
}

/** The demo's `currentTime` event: the current UTC time as an ISO string. */
export function currentTimeEvent(ids: MonotonicIds, now = Date.now()): EventFields {
  return { id: ids.next(now), event: 'currentTime', data: new Date(now).toISOString() };
}

/**
 * One timer that publishes a `currentTime` event every `intervalMs`, shared by every listener. It
 * runs only while started; the demo starts it with the first stream and stops it with the last.
 * To move the demo onto the hub, hand it a `publish` that posts to a hub topic instead.
 */
export class TimeTicker {
  readonly #intervalMs: number;
  readonly #publish: (event: EventFields) => void;
  readonly #ids = new MonotonicIds();
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number, publish: (event: EventFields) => void) {
    this.#intervalMs = intervalMs;
    this.#publish = publish;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#publish(currentTimeEvent(this.#ids)), this.#intervalMs);
    // A demo clock must never keep a process alive on its own.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
