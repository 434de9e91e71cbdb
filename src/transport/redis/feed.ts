import type { Redis } from 'ioredis';
import type { Fanout } from '../fanout.js';
import type { FeedGap, GapListener, StoredUpdate } from '../types.js';
import { decodeEntry, entryPosition, type RawEntry } from './codec.js';

/** What the store says of itself: its epoch, the position the epoch began after, the newest. */
export interface StoreMeta {
  epoch: string;
  start: number;
  newest: number;
}

/** The meta, with what the stream holds at positions the feed asked about (see `meta`). */
export interface CheckedMeta extends StoreMeta {
  /** The stream's oldest position (-1: empty) and the update id at each held position asked for. */
  held?: { oldest: number; ids: Map<number, string> };
}

/**
 * How many recently delivered positions the feed remembers the update id of, and checks against
 * the store on every meta check: a store that lost writes and handed their positions out again
 * holds other ids there.
 */
const RECENT = 64;

export interface FeedOptions {
  /** The feed's own connection: XREAD BLOCK holds it, so nothing else may use it. */
  blocking: Redis;
  stream: string;
  blockMs: number;
  readCount: number;
  fanout: Fanout;
  /**
   * The store's meta, read on the blocking connection (so a success proves it works), with the
   * ids the stream holds at positions `from..to` (none when `from` is 0).
   */
  meta(from: number, to: number): Promise<CheckedMeta>;
  /** Begins a new epoch if the current one is still `epoch` (see ROTATE_LUA). */
  rotate(epoch: string): Promise<StoreMeta>;
  /** Stream entries with `from <= position <= to`, at most `count`, on the command connection. */
  range(from: number, to: number, count: number): Promise<RawEntry[]>;
  /** Reports feed errors (once per outage, not once per retry). */
  onError(err: unknown): void;
}

const MAX_BACKOFF_MS = 2000;

/**
 * The live reader of one transport: delivers every stream entry to this process's listeners once,
 * in position order, whichever way it arrives first — a publish reply on this node (`offer`) or
 * the blocking XREAD loop. All delivery goes through one serial queue, so the two never
 * interleave, and anything at or below the last delivered position is skipped.
 *
 * Gaps: an entry past `last + 1` means entries were trimmed before this node read them
 * (`lagged`). A store whose epoch changed, whose newest position went below what this node
 * already delivered, or that holds another update id at a position this node delivered (a
 * failover that lost writes, whose positions were handed out again), lost data (`lost`; in the
 * last two cases the feed begins a new epoch): the feed goes on after the new epoch's start. The
 * ids are checked on every meta check (on reconnecting, and every `blockMs` when idle) for the
 * last RECENT positions, and on every own publish that lands at a position already delivered.
 */
export class Feed {
  readonly #o: FeedOptions;
  #last: number;
  #epoch: string;
  // Update id delivered at each of the last RECENT positions (insertion order = position order).
  readonly #recent = new Map<number, string>();
  // Epochs this feed has left: a late reply from one of them must not switch back.
  readonly #retired = new Set<string>();
  #gapListeners: readonly GapListener[] = [];
  #queue: Promise<void> = Promise.resolve();
  #pause: { promise: Promise<void>; resume: () => void } | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: () => void = () => {};

  constructor(options: FeedOptions, initial: StoreMeta) {
    this.#o = options;
    this.#epoch = initial.epoch;
    // A node delivers what is published after it started; history is read by position.
    this.#last = initial.newest;
  }

  get epoch(): string {
    return this.#epoch;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  onGap(listener: GapListener): () => void {
    this.#gapListeners = [...this.#gapListeners, listener];
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.#gapListeners = this.#gapListeners.filter((l) => l !== listener);
    };
  }

  /**
   * A publish on this node stored `stored`: deliver it, after anything before it this node has
   * not delivered yet. Resolves once delivered (or left to the loop when Redis failed meanwhile,
   * or the feed is paused). Never rejects: the update is stored either way.
   */
  offer(meta: Omit<StoreMeta, 'newest'>, stored: StoredUpdate): Promise<void> {
    return this.#serial(async () => {
      if (this.#pause !== undefined || this.#stopped) return;
      this.#switchIfNew(meta.epoch, meta.start);
      if (meta.epoch !== this.#epoch) return;
      if (stored.position <= this.#last) {
        // Normally the loop delivered it first. Another id there: the store lost what this node
        // delivered at that position and handed the position out again.
        const delivered = this.#recent.get(stored.position);
        if (delivered !== undefined && delivered !== stored.update.id) {
          try {
            await this.#lost();
          } catch {
            // the loop's next meta check finds the loss once Redis answers
          }
        }
        return;
      }
      if (stored.position > this.#last + 1) {
        try {
          await this.#catchUp(stored.position - 1);
        } catch {
          return; // the loop reads it again once Redis answers
        }
      }
      this.#deliver([stored]);
    });
  }

  /** A read saw the store's epoch; a new one means the store lost data. */
  notice(epoch: string, start: number): void {
    if (epoch === this.#epoch || this.#retired.has(epoch)) return;
    void this.#serial(async () => this.#switchIfNew(epoch, start));
  }

  /**
   * Stops reading the store until the returned function is called (tests use it to stand in for
   * a stalled node). An XREAD already waiting is not cut short; what it returns is dropped and
   * read again after resuming, so nothing is delivered while paused.
   * @internal
   */
  pause(): () => void {
    if (this.#pause === undefined) {
      let resume = (): void => {};
      const promise = new Promise<void>((r) => {
        resume = r;
      });
      this.#pause = { promise, resume };
    }
    const pause = this.#pause;
    return () => {
      if (this.#pause !== pause) return;
      this.#pause = undefined;
      pause.resume();
    };
  }

  /** Ends the loop; the caller disconnects the blocking connection to cut a waiting XREAD. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pause?.resume();
    this.#wake();
    this.#gapListeners = [];
    await this.#loop;
    await this.#queue;
  }

  async #run(): Promise<void> {
    let backoff = 0;
    let checkMeta = true;
    let failing = false;
    while (!this.#stopped) {
      if (this.#pause !== undefined) {
        await this.#pause.promise;
        checkMeta = true;
        continue;
      }
      try {
        if (checkMeta) {
          // Everything delivered so far was stored before this read: a store with fewer lost it.
          const delivered = this.#last;
          const epoch = this.#epoch;
          const from = delivered > 0 ? Math.max(1, delivered - RECENT + 1) : 0;
          const meta = await this.#o.meta(from, delivered);
          await this.#serial(() => this.#applyMeta(meta, epoch, delivered, from));
          checkMeta = false;
        }
        const reply = (await this.#o.blocking.xread(
          'COUNT',
          this.#o.readCount,
          'BLOCK',
          this.#o.blockMs,
          'STREAMS',
          this.#o.stream,
          `${this.#last}-0`,
        )) as [string, RawEntry[]][] | null;
        backoff = 0;
        failing = false;
        if (this.#stopped) break;
        if (this.#pause !== undefined) continue; // read while paused: dropped, read again later
        if (reply === null) {
          // Nothing new for a while: a good moment to check the store has not lost data.
          checkMeta = true;
          continue;
        }
        const raw = reply[0]![1];
        await this.#serial(async () => this.#deliver(this.#unseen(raw)));
      } catch (err) {
        if (this.#stopped) break;
        checkMeta = true;
        if (!failing) this.#o.onError(err);
        failing = true;
        backoff = Math.min(MAX_BACKOFF_MS, Math.max(50, backoff * 2));
        await this.#sleep(backoff);
      }
    }
  }

  async #applyMeta(
    meta: CheckedMeta,
    epoch: string,
    delivered: number,
    from: number,
  ): Promise<void> {
    if (this.#retired.has(meta.epoch)) return;
    if (meta.epoch !== this.#epoch) {
      this.#switchIfNew(meta.epoch, meta.start);
      return;
    }
    if (epoch !== this.#epoch) return;
    // Compared with what was delivered when the meta was asked for, not now: updates delivered
    // since were stored after the store answered.
    if (meta.newest < delivered || this.#differs(meta, delivered, from)) {
      // Same epoch, but positions this node delivered are gone or hold other updates: writes
      // were lost (a failover to a replica that missed them). Positions will be (or were) handed
      // out again, so a new epoch begins.
      await this.#lost();
    }
  }

  /** Whether the store holds another id, or none, at a position in `from..delivered` it had. */
  #differs(meta: CheckedMeta, delivered: number, from: number): boolean {
    const held = meta.held;
    if (held === undefined || from === 0) return false;
    for (const [position, id] of this.#recent) {
      if (position < from || position > delivered) continue;
      // Before the oldest entry: trimmed since, which says nothing.
      if (held.oldest === -1 || position < held.oldest) continue;
      if (held.ids.get(position) !== id) return true;
    }
    // The position the feed started (or resumed) at: remember what is there, to check later.
    if (!this.#recent.has(delivered) && delivered === this.#last) {
      const id = held.ids.get(delivered);
      if (id !== undefined) this.#remember(delivered, id);
    }
    return false;
  }

  /** Begins a new epoch (compare-and-set) and moves to it, reporting `lost`. */
  async #lost(): Promise<void> {
    const rotated = await this.#o.rotate(this.#epoch);
    this.#switchIfNew(rotated.epoch, rotated.start);
  }

  #remember(position: number, id: string): void {
    this.#recent.set(position, id);
    if (this.#recent.size > RECENT) {
      this.#recent.delete(this.#recent.keys().next().value as number);
    }
  }

  #switchIfNew(epoch: string, start: number): void {
    if (epoch === this.#epoch || this.#retired.has(epoch)) return;
    this.#retired.add(this.#epoch);
    this.#epoch = epoch;
    this.#last = start;
    this.#recent.clear();
    this.#emitGap({ reason: 'lost', resumeAfter: start, epoch });
  }

  /** Delivers what the stream holds up to `to`, reporting a gap for anything trimmed. */
  async #catchUp(to: number): Promise<void> {
    while (this.#last < to) {
      const from = this.#last + 1;
      const entries = (await this.#o.range(from, to, this.#o.readCount)).map(decodeEntry);
      if (entries.length === 0) {
        this.#emitGap({ reason: 'lagged', resumeAfter: to, epoch: this.#epoch });
        this.#last = to;
        return;
      }
      this.#deliver(entries);
    }
  }

  /**
   * The entries past what this node delivered, decoded. This node's own publishes were delivered
   * from their replies already; the loop reads them again, and skips them before parsing them.
   */
  #unseen(raw: readonly RawEntry[]): StoredUpdate[] {
    const out: StoredUpdate[] = [];
    for (const entry of raw) if (entryPosition(entry[0]) > this.#last) out.push(decodeEntry(entry));
    return out;
  }

  #deliver(entries: readonly StoredUpdate[]): void {
    for (const { position, update } of entries) {
      if (this.#stopped) return;
      if (position <= this.#last) continue;
      if (position > this.#last + 1) {
        this.#emitGap({ reason: 'lagged', resumeAfter: position - 1, epoch: this.#epoch });
      }
      this.#last = position;
      this.#remember(position, update.id);
      this.#o.fanout.emit(update, position);
    }
  }

  #emitGap(gap: FeedGap): void {
    for (const listener of this.#gapListeners) {
      try {
        listener(gap);
      } catch (err) {
        this.#o.onError(err);
      }
    }
  }

  #serial<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  /** Waits `ms`, or less when the feed stops meanwhile (so close() never waits for a back-off). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.#wake = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
