/** Something that must happen at a wall-clock time (a token's `exp`, a stream's lifetime). */
export interface DeadlineEntry {
  /** Milliseconds since the epoch. */
  deadline: number;
  /** Position in the heap, or -1 when not scheduled. Owned by {@link DeadlineTimer}. */
  heapIndex: number;
  /** Called once, when the deadline has passed. */
  expire(): void;
}

// setTimeout fires at once for delays above 2^31 - 1 ms; longer waits are re-armed in steps.
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * One timer for every deadline: a binary min-heap of entries and a single setTimeout armed for
 * the earliest one. Add and remove are O(log n) and allocate nothing per entry, so there is no
 * timer per stream and a stream that closes early leaves nothing behind.
 */
export class DeadlineTimer {
  readonly #heap: DeadlineEntry[] = [];
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Schedules `entry` at `entry.deadline` (re-schedules it when already scheduled). */
  add(entry: DeadlineEntry): void {
    if (entry.heapIndex >= 0) this.delete(entry);
    entry.heapIndex = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.heapIndex);
    this.#arm();
  }

  /** Unschedules `entry`; a no-op when it is not scheduled. */
  delete(entry: DeadlineEntry): void {
    const i = entry.heapIndex;
    if (i < 0 || this.#heap[i] !== entry) return;
    const last = this.#heap.pop()!;
    entry.heapIndex = -1;
    if (last !== entry) {
      this.#heap[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
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
      this.delete(first);
      first.expire();
      first = this.#heap[0];
    }
    this.#arm();
  };

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
