import type { StoredUpdate, Transport, Update } from '../transport/types.js';
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
  readonly entries: HistoryEntry[];
  readonly bytes: number;
}

/**
 * History read in pages, shared by every replay of one hub. A page covers a fixed range of
 * positions, `(k × pageSize, (k + 1) × pageSize]`, so resumers that start at different ids still
 * read the same pages; a full page never changes (positions are never reused), so it is kept in a
 * byte-bounded LRU, with the frames replays encoded, and a reconnect storm reads and encodes each
 * update once instead of once per client. Pages still being written (past the newest full one)
 * are read directly, each time.
 *
 * Every page read is one bounded store call, and the reader yields the loop between pages when
 * its slice is up, so many concurrent replays never hold the event loop.
 */
export class HistoryPages {
  readonly #transport: Transport;
  readonly #slicer: LoopSlicer;
  readonly #pageSize: number;
  readonly #maxBytes: number;
  readonly #cache = new Map<number, CachedPage>();
  readonly #loading = new Map<number, Promise<CachedPage>>();
  #bytes = 0;

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
   * The entries with `after < position <= until`, oldest first, one page at a time. Throws
   * HistoryGapError when the store trimmed updates in the range before they were read, unless
   * `lossless` is false for the first page (a replay of "whatever is retained" may start later).
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
      const pageEnd = (k + 1) * size;
      let entries: readonly HistoryEntry[];
      if (pageEnd <= until) {
        entries = await this.#page(k, cursor, strict);
      } else {
        entries = await this.#readChecked(cursor, until, strict);
      }
      strict = true;
      const end = Math.min(pageEnd, until);
      // Only the part of the page inside (cursor, end]: aligned pages may start before `after`.
      let from = 0;
      while (from < entries.length && entries[from]!.position <= cursor) from++;
      let to = entries.length;
      while (to > from && entries[to - 1]!.position > end) to--;
      cursor = end;
      if (to > from) yield from === 0 && to === entries.length ? entries : entries.slice(from, to);
    }
  }

  /** The frame of `entry`, encoded once for every replay that shares its page. */
  frame(entry: HistoryEntry): Buffer {
    if (entry.frame === undefined) entry.frame = encodeUpdate(entry.update);
    return entry.frame;
  }

  async #page(k: number, cursor: number, strict: boolean): Promise<readonly HistoryEntry[]> {
    const cached = this.#cache.get(k);
    if (cached !== undefined) {
      // Most recently used last, so eviction takes the page no replay has touched for longest.
      this.#cache.delete(k);
      this.#cache.set(k, cached);
      return cached.entries;
    }
    let loading = this.#loading.get(k);
    if (loading === undefined) {
      const size = this.#pageSize;
      loading = this.#readChecked(k * size, (k + 1) * size, false).then((entries) => {
        const page = { entries, bytes: estimateBytes(entries) };
        this.#store(k, page);
        return page;
      });
      const done = (): void => {
        this.#loading.delete(k);
      };
      loading.then(done, done);
      this.#loading.set(k, loading);
    }
    const page = await loading;
    if (strict) await this.#checkNotTrimmed(cursor, page.entries);
    return page.entries;
  }

  async #readChecked(after: number, until: number, strict: boolean): Promise<HistoryEntry[]> {
    const stored = await this.#transport.read(after, until, this.#pageSize);
    const entries = stored.map(toEntry);
    if (strict) await this.#checkNotTrimmed(after, entries);
    return entries;
  }

  /**
   * Throws when updates after `cursor` were trimmed before this read saw them: the first entry
   * read lies past `cursor + 1` and the store's oldest retained update is past `cursor + 1` too.
   */
  async #checkNotTrimmed(cursor: number, entries: readonly HistoryEntry[]): Promise<void> {
    let first: HistoryEntry | undefined;
    for (const entry of entries) {
      if (entry.position > cursor) {
        first = entry;
        break;
      }
    }
    if (first !== undefined && first.position === cursor + 1) return;
    const { oldest, newest } = await this.#transport.bounds();
    if (oldest > cursor + 1 && newest > cursor) throw new HistoryGapError(cursor, oldest);
  }

  #store(k: number, page: CachedPage): void {
    if (page.bytes > this.#maxBytes) return;
    this.#cache.set(k, page);
    this.#bytes += page.bytes;
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

/**
 * Roughly what a page pins: each update's strings (UTF-16) and, once encoded, its frame of about
 * the same size in UTF-8, plus object overhead.
 */
function estimateBytes(entries: readonly HistoryEntry[]): number {
  let bytes = 0;
  for (const { update } of entries) {
    let chars = update.id.length + update.data.length + (update.type?.length ?? 0);
    for (const topic of update.topics) chars += topic.length;
    bytes += chars * 3 + 200;
  }
  return bytes;
}
