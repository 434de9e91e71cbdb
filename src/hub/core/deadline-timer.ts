/** Something that must happen at a wall-clock time (a token's `exp`, a stream's lifetime). */
export interface DeadlineEntry {
  /** Called once, when the deadline given to {@link DeadlineTimer.add} has passed. */
  expire(): void;
}

// The timer's own bookkeeping for one scheduled entry: nothing of it lives on the entry.
interface Scheduled {
  /** Milliseconds since the epoch. */
  deadline: number;
  /** Position in the heap. */
  heapIndex: number;
  readonly entry: DeadlineEntry;
}

// setTimeout fires at once for delays above 2^31 - 1 ms; longer waits are re-armed in steps.
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * One timer for every deadline: a binary min-heap of scheduled entries and a single setTimeout
 * armed for the earliest one. Add and remove are O(log n) (one small record per add, found again
 * through a Map), so there is no timer per stream and a stream that closes early leaves nothing
 * behind.
 */
export class DeadlineTimer {
  readonly #heap: Scheduled[] = [];
  readonly #scheduled = new Map<DeadlineEntry, Scheduled>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get size(): number {
    return this.#heap.length;
  }

  /**
   * Schedules `entry` at `deadline` (milliseconds since the epoch); re-schedules it when already
   * scheduled.
   */
  add(entry: DeadlineEntry, deadline: number): void {
    this.delete(entry);
    const scheduled: Scheduled = { deadline, heapIndex: this.#heap.length, entry };
    this.#scheduled.set(entry, scheduled);
    this.#heap.push(scheduled);
    this.#up(scheduled.heapIndex);
    this.#arm();
  }

  /** Unschedules `entry`; a no-op when it is not scheduled. */
  delete(entry: DeadlineEntry): void {
    const scheduled = this.#scheduled.get(entry);
    if (scheduled === undefined) return;
    this.#remove(scheduled);
    if (this.#heap.length === 0) this.stop();
  }

  /** Cancels the timer (entries stay; the next add re-arms it). */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #arm(): void {
    const first = this.#heap[0];
    if (first === undefined) {
      this.stop();
      return;
    }
    if (this.#timer !== undefined && this.#armedFor <= first.deadline) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, first.deadline - this.#now()));
    this.#armedFor = first.deadline;
    this.#timer = setTimeout(this.#fire, delay);
    // Open sockets keep the process alive; a pending deadline alone should not.
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = this.#now();
    for (let first = this.#heap[0]; first !== undefined && first.deadline <= now; ) {
      this.#remove(first);
      first.entry.expire();
      first = this.#heap[0];
    }
    this.#arm();
  };

  #remove(scheduled: Scheduled): void {
    this.#scheduled.delete(scheduled.entry);
    const i = scheduled.heapIndex;
    const last = this.#heap.pop()!;
    if (last !== scheduled) {
      this.#heap[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
  }

  #up(i: number): void {
    const heap = this.#heap;
    const entry = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p.deadline <= entry.deadline) break;
      heap[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right]!.deadline < heap[left]!.deadline ? right : left;
      const c = heap[child]!;
      if (c.deadline >= entry.deadline) break;
      heap[i] = c;
      c.heapIndex = i;
      i = child;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }
}
