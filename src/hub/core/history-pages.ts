import type { StoredUpdate, Transport, Update } from '../../transport/types.js';
import { type LoopSlicer, yieldToLoop } from './loop-slicer.js';
import { encodeUpdate } from './update-frame.js';

/** One update of a history page, with its frame once some replay has encoded it. */
export interface HistoryEntry {
  readonly position: number;
  readonly update: Update;
  frame: Buffer | undefined;
}

/** The history's extent moved past a reader: updates it had not read yet were trimmed. */
export class HistoryGapError extends Error {
  constructor(after: number, oldest: number) {
    super(`history after position ${after} was trimmed (oldest retained is ${oldest})`);
    this.name = 'HistoryGapError';
  }
}

export interface HistoryPagesOptions {
  /** Updates per page: the unit of one store read and of work between two yields. */
  pageSize: number;
  /** Estimated bytes of pages (updates and their frames) kept for concurrent replays. */
  maxBytes: number;
}

interface CachedPage {
  readonly k: number;
  readonly entries: HistoryEntry[];
  /** Every update of the page with a position up to this one is in `entries`. */
  readonly upTo: number;
  bytes: number;
}

/**
 * History read in pages, shared by every replay of one hub. A page covers a fixed range of
 * positions, `(k × pageSize, (k + 1) × pageSize]`, so resumers that start at different ids still
 * read the same pages. Positions are never reused, so what a page held once it still holds; the
 * newest page, still being written, is extended by later reads rather than read again. Pages are
 * kept, with the frames replays encoded, in a byte-bounded LRU: a reconnect storm reads and
 * encodes each update once instead of once per client, and a resumer that stops reading pins a
 * shared page, not a copy of its own.
 *
 * Every page read is one bounded store call, and the reader yields the loop between pages when
 * the slice is up, so many concurrent replays never hold the event loop.
 */
export class HistoryPages {
  readonly #transport: Transport;
  readonly #slicer: LoopSlicer;
  readonly #pageSize: number;
  readonly #maxBytes: number;
  readonly #cache = new Map<number, CachedPage>();
  readonly #loading = new Map<number, Promise<CachedPage>>();
  // Which cached page an entry belongs to, so that encoding its frame is charged to the cache.
  readonly #owner = new WeakMap<HistoryEntry, CachedPage>();
  #bytes = 0;
  // Positions name updates only within one epoch of the store; pages of another are worthless.
  #epoch: string | undefined;
  #generation = 0;

  constructor(transport: Transport, slicer: LoopSlicer, options: HistoryPagesOptions) {
    this.#transport = transport;
    this.#slicer = slicer;
    this.#pageSize = options.pageSize;
    this.#maxBytes = options.maxBytes;
  }

  /** Estimated bytes held by the cache, for metrics and tests. */
  get cachedBytes(): number {
    return this.#bytes;
  }

  /**
   * Tells the cache which epoch of the store positions now belong to (from the store's bounds, or
   * a gap in the live feed). On a change every cached page is dropped, and reads in flight are
   * not cached.
   */
  useEpoch(epoch: string): void {
    if (epoch === this.#epoch) return;
    if (this.#epoch !== undefined) {
      this.#cache.clear();
      this.#loading.clear();
      this.#bytes = 0;
      this.#generation++;
    }
    this.#epoch = epoch;
  }

  /** Returns a promise to wait on when the loop slice is used up, so other work can run. */
  breather(): Promise<void> | undefined {
    return this.#slicer.shouldYield() ? yieldToLoop() : undefined;
  }

  /**
   * The entries with `after < position <= until`, oldest first, one page at a time. Throws
   * HistoryGapError when the store trimmed updates in the range before they were read. With
   * `trimmedStartIsLoss` false (a replay of "whatever is retained"), updates trimmed before the
   * first one found are no loss: the range just starts later.
   */
  async *range(
    after: number,
    until: number,
    options: { trimmedStartIsLoss: boolean } = { trimmedStartIsLoss: true },
  ): AsyncGenerator<readonly HistoryEntry[], void, undefined> {
    const size = this.#pageSize;
    let cursor = after;
    let strict = options.trimmedStartIsLoss;
    while (cursor < until) {
      if (this.#slicer.shouldYield()) await yieldToLoop();
      const k = Math.floor(cursor / size);
      const end = Math.min((k + 1) * size, until);
      const { entries } = await this.#page(k, end);
      // Only the part of the page inside (cursor, end]: pages are aligned, ranges are not.
      let from = 0;
      while (from < entries.length && entries[from]!.position <= cursor) from++;
      let to = from;
      while (to < entries.length && entries[to]!.position <= end) to++;
      if (strict && entries[from]?.position !== cursor + 1) await this.#checkNotTrimmed(cursor);
      cursor = end;
      if (to > from) {
        strict = true;
        yield from === 0 && to === entries.length ? entries : entries.slice(from, to);
      }
    }
  }

  /** The frame of `entry`, encoded once for every replay that shares its page. */
  frame(entry: HistoryEntry): Buffer {
    if (entry.frame === undefined) {
      entry.frame = encodeUpdate(entry.update);
      const page = this.#owner.get(entry);
      if (page !== undefined) {
        page.bytes += entry.frame.byteLength;
        if (this.#cache.get(page.k) === page) this.#charge(entry.frame);
      }
    }
    return entry.frame;
  }

  /** Page `k`, read at least up to position `end`. */
  async #page(k: number, end: number): Promise<CachedPage> {
    for (;;) {
      const cached = this.#cache.get(k);
      if (cached !== undefined && cached.upTo >= end) {
        // Most recently used last, so eviction takes the page no replay has touched for longest.
        this.#cache.delete(k);
        this.#cache.set(k, cached);
        return cached;
      }
      const loading = this.#loading.get(k);
      if (loading !== undefined) {
        const page = await loading.catch(() => undefined);
        if (page !== undefined && page.upTo >= end) return page;
        continue;
      }
      const load = this.#extend(k, cached, end);
      this.#loading.set(k, load);
      try {
        const page = await load;
        if (page.upTo >= end) return page;
      } finally {
        if (this.#loading.get(k) === load) this.#loading.delete(k);
      }
    }
  }

  /** Reads what page `k` lacks (after what `cached` holds) up to the page's end. */
  async #extend(k: number, cached: CachedPage | undefined, end: number): Promise<CachedPage> {
    const size = this.#pageSize;
    const pageEnd = (k + 1) * size;
    const from = cached?.upTo ?? k * size;
    const generation = this.#generation;
    const fresh = (await this.#transport.read(from, pageEnd, pageEnd - from)).map(toEntry);
    const last = fresh.length > 0 ? fresh[fresh.length - 1]!.position : from;
    const page: CachedPage = {
      k,
      entries: cached === undefined ? fresh : cached.entries.concat(fresh),
      // The read saw every update stored up to `end` (the caller's snapshot) and up to `last`.
      upTo: Math.min(pageEnd, Math.max(end, last)),
      bytes: (cached?.bytes ?? 0) + estimateBytes(fresh),
    };
    for (const entry of page.entries) this.#owner.set(entry, page);
    if (generation === this.#generation) this.#store(k, page);
    return page;
  }

  /** Throws when updates after `cursor` are gone: the oldest retained one lies past it. */
  async #checkNotTrimmed(cursor: number): Promise<void> {
    const { oldest, newest, epoch } = await this.#transport.bounds();
    this.useEpoch(epoch);
    if (oldest > cursor + 1 && newest > cursor) throw new HistoryGapError(cursor, oldest);
  }

  #store(k: number, page: CachedPage): void {
    const old = this.#cache.get(k);
    if (old !== undefined) {
      this.#cache.delete(k);
      this.#bytes -= old.bytes;
    }
    if (page.bytes > this.#maxBytes) return;
    this.#cache.set(k, page);
    this.#bytes += page.bytes;
    this.#evict();
  }

  #charge(frame: Buffer): void {
    this.#bytes += frame.byteLength;
    this.#evict();
  }

  #evict(): void {
    for (const [key, old] of this.#cache) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#cache.delete(key);
      this.#bytes -= old.bytes;
    }
  }
}

function toEntry(stored: StoredUpdate): HistoryEntry {
  return { position: stored.position, update: stored.update, frame: undefined };
}

/** What an update's strings pin (UTF-16, plus object overhead); frames are counted when made. */
function estimateBytes(entries: readonly HistoryEntry[]): number {
  let bytes = 0;
  for (const { update } of entries) {
    let chars = update.id.length + update.data.length + (update.type?.length ?? 0);
    for (const topic of update.topics) chars += topic.length;
    bytes += chars * 2 + 200;
  }
  return bytes;
}
