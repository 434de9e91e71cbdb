/** One Mercure update as stored and fanned out. */
export interface Update {
  /**
   * The id; the hub assigns `urn:uuid:<uuidv7>` when the publisher gave none. A publisher-given id
   * should be unique but may repeat one still in history (see `Transport.positionOf`).
   */
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
  /** The store's epoch these positions belong to (see `FeedGap`). */
  epoch: string;
}

/** Receives each live update once, with its position. */
export type UpdateListener = (update: Update, position: number) => void;

/**
 * The live feed skipped updates it cannot deliver. Updates after the gap keep coming; what was
 * skipped is gone for this node's listeners, so the hub ends the streams that may have missed
 * something and their clients resume, getting history or the loss signal.
 *
 * - `lagged`: this node's reader fell behind retention; updates it never read were trimmed. The
 *   epoch is unchanged: ids still mean the same positions.
 * - `lost`: the store lost data (restarted without persistence, failed over to a replica that
 *   missed writes). Positions up to `resumeAfter` may be reused by other updates, so a new epoch
 *   begins, and `positionOf` no longer finds ids stored before it: a resume across the boundary
 *   is answered as history lost, never as a silent skip.
 */
export interface FeedGap {
  reason: 'lagged' | 'lost';
  /** The feed goes on with updates at positions above this one. */
  resumeAfter: number;
  /** The store's epoch from now on. */
  epoch: string;
}

export type GapListener = (gap: FeedGap) => void;

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
   * TRANSPORT_FAILURE / TRANSPORT_CLOSED. An id already in the retained history is stored again
   * (ids are unique only by recommendation); `positionOf` and `replay` resolve an id to its
   * earliest retained occurrence.
   */
  publish(update: Update): Promise<void>;
  /**
   * Live updates from every node, each exactly once, in the order the transport stored them;
   * `onGap` learns when the feed skipped some (see `FeedGap`). A transport whose feed cannot have
   * gaps (one process owns store and feed) never calls it. Returns the function that unsubscribes.
   */
  subscribe(listener: UpdateListener, onGap?: GapListener): () => void;
  /** History after `afterId`; `earliest` means all retained history. */
  replay(afterId: string, options?: ReplayOptions): Promise<ReplayResult>;
  /**
   * Position of the retained update `id` — of its earliest retained occurrence when the id was
   * reused — or undefined when it is not (or no longer) retained, or was stored before the
   * current epoch began. Once the earliest occurrence leaves the history, the next one still
   * retained answers: Mercure resolves a cursor to "the earliest such update in the hub's
   * history", which is the retained history.
   */
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

/** What a transport says of its store when asked for readiness (`TransportHealth`). */
export interface HealthReport {
  ok: boolean;
  /** Why not, for an operator: a short phrase such as "redis unreachable". Never a secret. */
  reason?: string;
}

/**
 * Optional capability: a transport whose store lives elsewhere (another process, Redis) tells
 * whether it can serve now. Readiness uses it when present; otherwise a cheap read stands in.
 */
export interface TransportHealth {
  health(): Promise<HealthReport>;
}

/** One entry of cluster-wide presence: an active subscription, opaque to the transport. */
export interface PresenceEntry {
  /** Unique key (the subscription's id). */
  key: string;
  /** What listings filter on (the subscription's topic selector). */
  group: string;
  /** The entry itself, as the hub serialised it. */
  value: string;
}

/**
 * Optional capability: presence shared by every node on one store, so the subscriptions API on
 * any node lists subscribers on all of them. Entries of a node that dies expire on their own
 * (the transport refreshes its own while it lives).
 */
export interface Presence {
  addPresence(entries: readonly PresenceEntry[]): Promise<void>;
  removePresence(keys: readonly string[]): Promise<void>;
  /** Every live node's entries, or only those of one group; in no promised order. */
  listPresence(group?: string): Promise<PresenceEntry[]>;
  getPresence(key: string): Promise<PresenceEntry | undefined>;
}
