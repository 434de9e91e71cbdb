import { randomUUID } from 'node:crypto';
import { SseHubError } from '../errors.js';
import {
  freezeUpdate,
  type ResolvedRetention,
  type RetentionOptions,
  replayLimit,
  resolveRetention,
  warnListenerError,
} from './common.js';
import { Fanout } from './fanout.js';
import type {
  HistoryBounds,
  ReplayOptions,
  ReplayResult,
  StoredUpdate,
  Transport,
  Update,
  UpdateListener,
} from './types.js';

/**
 * Default count bound of the memory transport. History lives on the heap, so the bound is what
 * keeps memory flat; 1000 updates cover a reconnect after a network blip at a few hundred updates
 * per second while staying small (about 1 MB at a typical 1 KB per update).
 */
export const DEFAULT_MEMORY_MAX_HISTORY = 1000;

/**
 * Dropped entries are only cut out of the array once at least this many have piled up at its
 * front and they are at least half of it, so compaction is amortized O(1) per publish.
 */
const COMPACT_MIN = 1024;

export interface MemoryTransportOptions extends RetentionOptions {
  /** Receives what a listener threw. Default: `process.emitWarning`. */
  onError?: (err: unknown) => void;
}

interface Entry {
  readonly seq: number;
  readonly at: number;
  readonly update: Update;
}

/**
 * The reference transport: history in this process's memory, fan-out to this process's listeners.
 * Single node only — it shares nothing with other processes and history is lost on restart.
 * publish is O(1) (amortized); replay after an id costs O(updates returned).
 */
export class MemoryTransport implements Transport {
  readonly #retention: ResolvedRetention;
  readonly #fanout: Fanout;
  // Entries [#head, length) are retained, with consecutive sequence numbers; the slots before
  // #head are dropped ones waiting for compaction.
  #entries: (Entry | undefined)[] = [];
  #head = 0;
  #nextSeq = 1;
  // Every retained occurrence of an id, oldest first (a number while it is the only one, which is
  // the usual case). Ids are unique only by recommendation; a reused id resolves to its earliest
  // retained occurrence, so the entry's first sequence is the answer of positionOf and replay.
  readonly #seqById = new Map<string, number | number[]>();
  // History dies with the process, so every instance is an epoch of its own.
  readonly #epoch = randomUUID();
  #closed = false;

  constructor(options: MemoryTransportOptions = {}) {
    this.#retention = resolveRetention(options, DEFAULT_MEMORY_MAX_HISTORY);
    this.#fanout = new Fanout(options.onError ?? warnListenerError);
  }

  async publish(update: Update): Promise<void> {
    this.#assertOpen();
    const now = this.#retention.now();
    this.#expire(now);
    const stored = freezeUpdate(update);
    const seq = this.#nextSeq++;
    this.#entries.push({ seq, at: now, update: stored });
    const earlier = this.#seqById.get(stored.id);
    if (earlier === undefined) this.#seqById.set(stored.id, seq);
    else if (typeof earlier === 'number') this.#seqById.set(stored.id, [earlier, seq]);
    else earlier.push(seq);
    while (this.#entries.length - this.#head > this.#retention.maxHistory) this.#dropOldest();
    this.#fanout.emit(stored, seq);
  }

  subscribe(listener: UpdateListener): () => void {
    return this.#fanout.subscribe(listener);
  }

  async replay(afterId: string, options?: ReplayOptions): Promise<ReplayResult> {
    this.#assertOpen();
    const limit = replayLimit(options);
    this.#expire(this.#retention.now());
    let start = this.#head;
    let found = true;
    if (afterId !== 'earliest') {
      const seq = this.#earliest(afterId);
      if (seq === undefined) found = false;
      else start = this.#indexOf(seq) + 1;
    }
    return { found, updates: this.#collect(start, limit, options?.filter) };
  }

  async positionOf(id: string): Promise<number | undefined> {
    this.#assertOpen();
    this.#expire(this.#retention.now());
    return this.#earliest(id);
  }

  async bounds(): Promise<HistoryBounds> {
    this.#assertOpen();
    this.#expire(this.#retention.now());
    const newest = this.#nextSeq - 1;
    const oldest =
      this.#head === this.#entries.length ? newest + 1 : this.#entries[this.#head]!.seq;
    return { oldest, newest, epoch: this.#epoch };
  }

  async read(after: number, until: number, limit: number): Promise<StoredUpdate[]> {
    this.#assertOpen();
    this.#expire(this.#retention.now());
    const out: StoredUpdate[] = [];
    if (this.#head === this.#entries.length) return out;
    // Sequences are consecutive from #head, so the first wanted entry is found by arithmetic.
    const first = this.#entries[this.#head]!.seq;
    const end = this.#entries.length;
    for (let i = this.#head + Math.max(0, after + 1 - first); i < end && out.length < limit; i++) {
      const entry = this.#entries[i]!;
      if (entry.seq > until) break;
      out.push({ position: entry.seq, update: entry.update });
    }
    return out;
  }

  async lastId(): Promise<string | undefined> {
    this.#assertOpen();
    this.#expire(this.#retention.now());
    if (this.#head === this.#entries.length) return undefined;
    return this.#entries[this.#entries.length - 1]!.update.id;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fanout.close();
    this.#entries = [];
    this.#head = 0;
    this.#seqById.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new SseHubError('TRANSPORT_CLOSED');
  }

  #earliest(id: string): number | undefined {
    const seqs = this.#seqById.get(id);
    return typeof seqs === 'object' ? seqs[0] : seqs;
  }

  #indexOf(seq: number): number {
    return this.#head + (seq - this.#entries[this.#head]!.seq);
  }

  #collect(
    start: number,
    limit: number,
    filter: ((update: Update) => boolean) | undefined,
  ): Update[] {
    const out: Update[] = [];
    if (limit === 0) return out;
    const end = this.#entries.length;
    if (limit === Number.POSITIVE_INFINITY) {
      for (let i = start; i < end; i++) {
        const { update } = this.#entries[i]!;
        if (!filter || filter(update)) out.push(update);
      }
      return out;
    }
    // Walk back from the newest so a small limit on a long history stays cheap.
    for (let i = end - 1; i >= start && out.length < limit; i--) {
      const { update } = this.#entries[i]!;
      if (!filter || filter(update)) out.push(update);
    }
    return out.reverse();
  }

  #expire(now: number): void {
    const { maxHistoryAgeMs } = this.#retention;
    if (maxHistoryAgeMs === Number.POSITIVE_INFINITY) return;
    const cutoff = now - maxHistoryAgeMs;
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.at < cutoff) {
      this.#dropOldest();
    }
  }

  #dropOldest(): void {
    const entry = this.#entries[this.#head]!;
    // Entries leave oldest first, so this one is its id's earliest retained occurrence.
    const seqs = this.#seqById.get(entry.update.id);
    if (typeof seqs === 'object' && seqs.length > 1) {
      seqs.shift();
      if (seqs.length === 1) this.#seqById.set(entry.update.id, seqs[0]!);
    } else {
      this.#seqById.delete(entry.update.id);
    }
    this.#entries[this.#head] = undefined;
    this.#head++;
    if (this.#head >= COMPACT_MIN && this.#head * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** Creates the in-memory reference transport. */
export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  return new MemoryTransport(options);
}
