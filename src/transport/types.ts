/** One Mercure update as stored and fanned out. */
export interface Update {
  /** Unique id; the hub assigns `urn:uuid:<uuidv7>` when the publisher gave none. */
  id: string;
  /** The canonical topic first, then alternates. Never empty. */
  topics: string[];
  data: string;
  private: boolean;
  /** SSE event type (`event:` field). */
  type?: string;
  /** SSE `retry:` field in ms. */
  retry?: number;
}

/**
 * A stored update and its position in the transport's one total order: positions increase with
 * every stored update and are never reused while the store lives (a sequence for memory and
 * SQLite). The hub reads history by position, in pages, and drops a live update whose position a
 * history read already covered.
 */
export interface StoredUpdate {
  readonly position: number;
  readonly update: Update;
}

/** The retained history's extent: positions `oldest..newest`; empty when `oldest > newest`. */
export interface HistoryBounds {
  /** Position of the oldest retained update (`newest + 1` when history is empty). */
  oldest: number;
  /** Position of the newest stored update; 0 before the first. */
  newest: number;
}

/** Receives each live update once, with its position. */
export type UpdateListener = (update: Update, position: number) => void;

export interface ReplayResult {
  /** False when `afterId` is not (or no longer) in the retained history. */
  found: boolean;
  /** Updates after `afterId` (all retained ones for `earliest` or an unknown id), oldest first. */
  updates: Update[];
}

export interface ReplayOptions {
  /** Keep only updates this accepts (e.g. the subscriber's topic selectors); applied before limit. */
  filter?: (update: Update) => boolean;
  /** At most this many updates, the newest ones when trimming. */
  limit?: number;
}

/**
 * The plug-in point for history and cross-node fan-out. The in-memory transport is the reference;
 * every implementation passes the shared conformance suite in test/transport/.
 */
export interface Transport {
  /**
   * Stores the update (durably, where the transport is durable) and fans it out to every node's
   * listeners. Resolves once it is safe to acknowledge the publish; rejects with
   * TRANSPORT_FAILURE / TRANSPORT_CLOSED / DUPLICATE_ID (an id already in the retained history).
   */
  publish(update: Update): Promise<void>;
  /**
   * Live updates from every node, each exactly once, in the order the transport stored them.
   * Returns the function that unsubscribes.
   */
  subscribe(listener: UpdateListener): () => void;
  /** History after `afterId`; `earliest` means all retained history. */
  replay(afterId: string, options?: ReplayOptions): Promise<ReplayResult>;
  /** Position of the retained update `id`, or undefined when it is not (or no longer) retained. */
  positionOf(id: string): Promise<number | undefined>;
  /** The extent of the retained history now. */
  bounds(): Promise<HistoryBounds>;
  /**
   * At most `limit` retained updates with `after < position <= until`, oldest first: one page of a
   * paged history read. Costs O(updates returned), so a reader can bound the work of one call.
   */
  read(after: number, until: number, limit: number): Promise<StoredUpdate[]>;
  /** The id of the newest retained update, or undefined when history is empty. */
  lastId(): Promise<string | undefined>;
  /** Flushes and releases resources; later publishes reject with TRANSPORT_CLOSED. */
  close(): Promise<void>;
}
