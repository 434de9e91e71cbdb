import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
 * Default count bound of the SQLite transport. History is on disk, so it can be longer than in
 * memory and let subscribers resume after longer outages; 10 000 rows stay around 10 MB at a
 * typical 1 KB per update. Raise it when disk allows.
 */
export const DEFAULT_SQLITE_MAX_HISTORY = 10_000;
/**
 * Rows past `maxHistory` are deleted in batches of at least this many, so a publish pays for a
 * DELETE only once per batch. The file holds at most `maxHistory + trimBatchSize` rows; reads
 * never see more than `maxHistory` because they trim first.
 */
export const DEFAULT_TRIM_BATCH_SIZE = 100;
/**
 * How often expired rows are deleted in the background when `maxHistoryAgeMs` is set, so data
 * past its age leaves the disk even when nobody publishes or reads. Reads trim first anyway.
 */
export const DEFAULT_TRIM_INTERVAL_MS = 30_000;
/** Waits this long for a lock held by another connection before failing. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Schema versions: 1 the updates table; 2 adds the `meta` table with the epoch; 3 drops the
 * UNIQUE constraint on `id` (Mercure lets a publisher reuse an id; a cursor resolves to its
 * earliest retained occurrence) for a plain `(id, sequence)` index.
 */
const SCHEMA_VERSION = 3;
/** Rows read per step when looking for the end of the expired prefix. */
const AGE_SCAN_STEP = 256;

export interface SqliteTransportOptions extends RetentionOptions {
  /** The database file (created with its directory when missing), or `:memory:`. */
  path: string;
  /**
   * What an acknowledged publish survives. Both use WAL journaling.
   * - `process` (default): `synchronous=NORMAL`. A commit has reached the OS when publish
   *   resolves, so it survives a crash or SIGKILL of this process, but not a power loss or kernel
   *   crash. No fsync per publish, so publishing stays fast; hub history is a resume aid that
   *   publishers can replay, not a system of record.
   * - `power`: `synchronous=FULL`. The WAL is fsynced on every commit; publish resolves only
   *   once the update is on stable storage. Costs one fsync per publish.
   */
  durability?: 'process' | 'power';
  /** See {@link DEFAULT_TRIM_BATCH_SIZE}. */
  trimBatchSize?: number;
  /** See {@link DEFAULT_TRIM_INTERVAL_MS}. Only used when `maxHistoryAgeMs` is set. */
  trimIntervalMs?: number;
  /** See {@link DEFAULT_BUSY_TIMEOUT_MS}. */
  busyTimeoutMs?: number;
  /** Receives what a listener (or the background trim) threw. Default: `process.emitWarning`. */
  onError?: (err: unknown) => void;
}

interface Row {
  id: string;
  topics: string;
  data: string;
  private: number;
  type: string | null;
  retry: number | null;
}

type InsertParams = [string, string, string, number, string | null, number | null, number];

const COLUMNS = 'id, topics, data, private, type, retry';

/**
 * Durable history in one SQLite file (WAL mode), fan-out to this process's listeners after the
 * row is committed. For a single machine: there is no cross-process or cross-node fan-out, and
 * the file is opened with an exclusive lock, so a second hub on the same file fails at startup
 * instead of silently missing the first one's updates. Several nodes need a shared transport (`redis://`, see docs/redis.md).
 * Each publish is one prepared INSERT in its own transaction.
 */
export class SqliteTransport implements Transport {
  readonly #db: Database.Database;
  readonly #retention: ResolvedRetention;
  readonly #fanout: Fanout;
  readonly #onError: (err: unknown) => void;
  readonly #trimBatchSize: number;
  readonly #timer: NodeJS.Timeout | undefined;
  #closed = false;
  // Tracked here so deciding whether to trim costs nothing; this connection is the only writer.
  #rowCount: number;
  #oldestCreatedAt: number | undefined;

  readonly #insert: Database.Statement<InsertParams>;
  readonly #seqById: Database.Statement<[string], number>;
  readonly #after: Database.Statement<[number], Row>;
  readonly #afterDesc: Database.Statement<[number], Row>;
  readonly #afterDescLimit: Database.Statement<[number, number], Row>;
  readonly #newestId: Database.Statement<[], string>;
  readonly #oldest: Database.Statement<[], { sequence: number; created_at: number }>;
  readonly #epoch: string;
  readonly #seqAtOffset: Database.Statement<[number], number>;
  readonly #ageScan: Database.Statement<[number, number], { sequence: number; created_at: number }>;
  readonly #deleteUpTo: Database.Statement<[number]>;
  readonly #range: Database.Statement<[number, number, number], Row & { sequence: number }>;
  readonly #lastSequence: Database.Statement<[], number>;

  constructor(options: SqliteTransportOptions) {
    this.#retention = resolveRetention(options, DEFAULT_SQLITE_MAX_HISTORY);
    this.#onError = options.onError ?? warnListenerError;
    this.#fanout = new Fanout(this.#onError);
    const durability = options.durability ?? 'process';
    if (durability !== 'process' && durability !== 'power') {
      throw new SseHubError('INVALID_OPTION', `durability must be process or power`);
    }
    this.#trimBatchSize = positiveInteger(
      'trimBatchSize',
      options.trimBatchSize,
      DEFAULT_TRIM_BATCH_SIZE,
    );
    const trimIntervalMs = positiveInteger(
      'trimIntervalMs',
      options.trimIntervalMs,
      DEFAULT_TRIM_INTERVAL_MS,
    );
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!(Number.isInteger(busyTimeoutMs) && busyTimeoutMs >= 0)) {
      throw new SseHubError('INVALID_OPTION', 'busyTimeoutMs must be an integer >= 0');
    }
    if (typeof options.path !== 'string' || options.path === '') {
      throw new SseHubError('INVALID_OPTION', 'path must be a non-empty string');
    }

    let db: Database.Database | undefined;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      db = new Database(options.path, { timeout: busyTimeoutMs });
      // Exclusive before WAL: the lock is then held for the connection's life and SQLite keeps
      // the WAL index in heap memory instead of a shared -shm file. WAL would let a second
      // process share the file, but a second hub would have its own fan-out and never see the
      // first one's updates live (nor keep count of its rows): entering WAL takes the exclusive
      // lock now, so a second hub fails here at start-up with STORE_LOCKED, not at a publish.
      // The wait (busyTimeoutMs) covers a predecessor that is still closing during a restart.
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal' && options.path !== ':memory:') {
        throw new Error(`the file system does not support WAL (journal_mode is ${String(mode)})`);
      }
      db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
      migrate(db);
    } catch (err) {
      db?.close();
      if (isLocked(err)) throw lockedError(options.path, busyTimeoutMs, err);
      throw toFailure(err, `cannot open ${options.path}`);
    }
    this.#db = db;

    this.#insert = db.prepare(
      `INSERT INTO updates (${COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    // The earliest retained occurrence of a reused id (index updates_id covers id, sequence).
    this.#seqById = db
      .prepare<[string], number>(
        'SELECT sequence FROM updates WHERE id = ? ORDER BY sequence LIMIT 1',
      )
      .pluck();
    this.#after = db.prepare(`SELECT ${COLUMNS} FROM updates WHERE sequence > ? ORDER BY sequence`);
    this.#afterDesc = db.prepare(
      `SELECT ${COLUMNS} FROM updates WHERE sequence > ? ORDER BY sequence DESC`,
    );
    this.#afterDescLimit = db.prepare(
      `SELECT ${COLUMNS} FROM updates WHERE sequence > ? ORDER BY sequence DESC LIMIT ?`,
    );
    this.#newestId = db
      .prepare<[], string>('SELECT id FROM updates ORDER BY sequence DESC LIMIT 1')
      .pluck();
    this.#oldest = db.prepare('SELECT sequence, created_at FROM updates ORDER BY sequence LIMIT 1');
    this.#seqAtOffset = db
      .prepare<[number], number>('SELECT sequence FROM updates ORDER BY sequence LIMIT 1 OFFSET ?')
      .pluck();
    this.#ageScan = db.prepare(
      'SELECT sequence, created_at FROM updates WHERE sequence > ? ORDER BY sequence LIMIT ?',
    );
    this.#deleteUpTo = db.prepare('DELETE FROM updates WHERE sequence <= ?');
    this.#range = db.prepare(
      `SELECT sequence, ${COLUMNS} FROM updates WHERE sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?`,
    );
    // AUTOINCREMENT keeps the last issued sequence here, even once its row has been trimmed.
    this.#lastSequence = db
      .prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'updates'")
      .pluck();

    // One full count at startup; from then on the count is kept here.
    this.#rowCount = db.prepare<[], number>('SELECT count(*) FROM updates').pluck().get() ?? 0;
    this.#oldestCreatedAt = this.#oldest.get()?.created_at;
    this.#epoch = db
      .prepare<[], string>("SELECT value FROM meta WHERE key = 'epoch'")
      .pluck()
      .get() as string;
    try {
      this.#trim(true);
    } catch (err) {
      db.close();
      throw toFailure(err, 'cannot trim history');
    }

    if (this.#retention.maxHistoryAgeMs !== Number.POSITIVE_INFINITY) {
      this.#timer = setInterval(() => {
        try {
          this.#trim(true);
        } catch (err) {
          this.#onError(toFailure(err, 'background trim failed'));
        }
      }, trimIntervalMs);
      // History hygiene must never keep the process alive.
      this.#timer.unref();
    }
  }

  async publish(update: Update): Promise<void> {
    this.#assertOpen();
    const stored = freezeUpdate(update);
    const now = this.#retention.now();
    const params: InsertParams = [
      stored.id,
      JSON.stringify(stored.topics),
      stored.data,
      stored.private ? 1 : 0,
      stored.type ?? null,
      stored.retry ?? null,
      now,
    ];
    let result: Database.RunResult;
    try {
      this.#trim(false);
      result = this.#insert.run(...params);
    } catch (err) {
      throw toFailure(err, 'insert failed');
    }
    this.#rowCount++;
    this.#oldestCreatedAt ??= now;
    // The row is committed (autocommit), so listeners never see an update that could be lost.
    this.#fanout.emit(stored, Number(result.lastInsertRowid));
  }

  subscribe(listener: UpdateListener): () => void {
    return this.#fanout.subscribe(listener);
  }

  async replay(afterId: string, options?: ReplayOptions): Promise<ReplayResult> {
    this.#assertOpen();
    const limit = replayLimit(options);
    const filter = options?.filter;
    this.#trimOrFail();
    let afterSeq = 0;
    let found = true;
    if (afterId !== 'earliest') {
      const seq = this.#seqById.get(afterId);
      if (seq === undefined) found = false;
      else afterSeq = seq;
    }
    const updates: Update[] = [];
    if (limit === 0) return { found, updates };
    if (limit === Number.POSITIVE_INFINITY) {
      for (const row of this.#after.iterate(afterSeq)) {
        const update = toUpdate(row);
        if (!filter || filter(update)) updates.push(update);
      }
    } else if (!filter) {
      for (const row of this.#afterDescLimit.all(afterSeq, limit)) updates.push(toUpdate(row));
      updates.reverse();
    } else {
      // Newest first, stopping (and closing the cursor) once the limit is reached.
      for (const row of this.#afterDesc.iterate(afterSeq)) {
        const update = toUpdate(row);
        if (filter(update)) updates.push(update);
        if (updates.length >= limit) break;
      }
      updates.reverse();
    }
    return { found, updates };
  }

  async positionOf(id: string): Promise<number | undefined> {
    this.#assertOpen();
    this.#trimOrFail();
    return this.#seqById.get(id);
  }

  async bounds(): Promise<HistoryBounds> {
    this.#assertOpen();
    this.#trimOrFail();
    const newest = this.#lastSequence.get() ?? 0;
    const oldest = this.#oldest.get()?.sequence ?? newest + 1;
    return { oldest, newest, epoch: this.#epoch };
  }

  async read(after: number, until: number, limit: number): Promise<StoredUpdate[]> {
    this.#assertOpen();
    this.#trimOrFail();
    const out: StoredUpdate[] = [];
    if (limit <= 0 || until <= after) return out;
    for (const row of this.#range.all(after, until, limit)) {
      out.push({ position: row.sequence, update: toUpdate(row) });
    }
    return out;
  }

  async lastId(): Promise<string | undefined> {
    this.#assertOpen();
    this.#trimOrFail();
    return this.#newestId.get();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#fanout.close();
    // Closing the last connection checkpoints the WAL into the main file.
    this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new SseHubError('TRANSPORT_CLOSED');
  }

  #trimOrFail(): void {
    try {
      this.#trim(true);
    } catch (err) {
      throw toFailure(err, 'trim failed');
    }
  }

  /**
   * Deletes rows past the count bound (only once a batch has piled up, unless `force`) and the
   * expired prefix. Costs O(rows deleted) plus an index lookup or two; never a table scan.
   */
  #trim(force: boolean): void {
    const excess = this.#rowCount - this.#retention.maxHistory;
    if (excess > 0 && (force || excess >= this.#trimBatchSize)) {
      const lastDropped = this.#seqAtOffset.get(excess - 1);
      if (lastDropped !== undefined) this.#deleteThrough(lastDropped);
    }
    const { maxHistoryAgeMs, now } = this.#retention;
    if (!force || maxHistoryAgeMs === Number.POSITIVE_INFINITY) return;
    const cutoff = now() - maxHistoryAgeMs;
    if (this.#oldestCreatedAt === undefined || this.#oldestCreatedAt >= cutoff) return;
    // Updates leave from the oldest end only: find where the expired prefix stops.
    let lastExpired: number | undefined;
    let from = 0;
    for (;;) {
      const rows = this.#ageScan.all(from, AGE_SCAN_STEP);
      let reachedFresh = rows.length < AGE_SCAN_STEP;
      for (const row of rows) {
        if (row.created_at >= cutoff) {
          reachedFresh = true;
          break;
        }
        lastExpired = row.sequence;
      }
      if (reachedFresh) break;
      from = rows[rows.length - 1]!.sequence;
    }
    if (lastExpired !== undefined) this.#deleteThrough(lastExpired);
  }

  #deleteThrough(sequence: number): void {
    this.#rowCount -= this.#deleteUpTo.run(sequence).changes;
    this.#oldestCreatedAt = this.#oldest.get()?.created_at;
  }
}

/**
 * Opens (or creates) a SQLite transport. Throws STORE_LOCKED when another process holds the file,
 * TRANSPORT_FAILURE when it cannot be used otherwise.
 */
export function createSqliteTransport(options: SqliteTransportOptions): SqliteTransport {
  return new SqliteTransport(options);
}

const UPDATES_TABLE = (name: string): string => `
    CREATE TABLE IF NOT EXISTS ${name} (
      sequence INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL,
      topics TEXT NOT NULL,
      data TEXT NOT NULL,
      private INTEGER NOT NULL,
      type TEXT,
      retry INTEGER,
      created_at INTEGER NOT NULL
    );`;

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`schema version ${version} is newer than this ssehub (${SCHEMA_VERSION})`);
  }
  if (version === SCHEMA_VERSION) return;
  const hasUpdates =
    db
      .prepare<[], number>(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'updates'",
      )
      .pluck()
      .get() === 1;
  // AUTOINCREMENT: a sequence is never reused, even after the newest rows were deleted.
  // The epoch names this file's sequence: a new file (or a restored older copy's successor) is a
  // new epoch, so no id from another file's history is taken for a position in this one.
  // Versions 1 and 2 declared `id` UNIQUE, an inline constraint SQLite cannot drop: the table is
  // rebuilt in the same transaction, rows and sequences as they were, and the last issued
  // sequence (kept in sqlite_sequence even when its row was trimmed) carried over, so no position
  // is ever handed out twice. The epoch stays: positions and ids keep their meaning.
  const rebuild = hasUpdates
    ? `
    ${UPDATES_TABLE('updates_v3')}
    INSERT INTO updates_v3 (sequence, ${COLUMNS}, created_at)
      SELECT sequence, ${COLUMNS}, created_at FROM updates ORDER BY sequence;
    CREATE TEMP TABLE last_sequence AS
      SELECT seq FROM sqlite_sequence WHERE name = 'updates';
    DROP TABLE updates;
    ALTER TABLE updates_v3 RENAME TO updates;
    DELETE FROM sqlite_sequence WHERE name IN ('updates', 'updates_v3');
    INSERT INTO sqlite_sequence (name, seq) SELECT 'updates', seq FROM temp.last_sequence;
    DROP TABLE temp.last_sequence;`
    : UPDATES_TABLE('updates');
  db.exec(`
    BEGIN IMMEDIATE;
    ${rebuild}
    CREATE INDEX IF NOT EXISTS updates_id ON updates (id, sequence);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', '${randomUUID()}');
    PRAGMA user_version = ${SCHEMA_VERSION};
    COMMIT;
  `);
}

function toUpdate(row: Row): Update {
  const update: Update = {
    id: row.id,
    topics: JSON.parse(row.topics) as string[],
    data: row.data,
    private: row.private === 1,
  };
  if (row.type !== null) update.type = row.type;
  if (row.retry !== null) update.retry = row.retry;
  Object.freeze(update.topics);
  return Object.freeze(update);
}

/** SQLITE_BUSY or SQLITE_LOCKED (and their extended codes): another connection holds a lock. */
function isLocked(err: unknown): boolean {
  return (
    err instanceof Database.SqliteError &&
    (err.code.startsWith('SQLITE_BUSY') || err.code.startsWith('SQLITE_LOCKED'))
  );
}

function lockedError(path: string, waitedMs: number, cause: unknown): SseHubError {
  return new SseHubError(
    'STORE_LOCKED',
    `${path} is locked by another hub (or another program) using the same file` +
      `${waitedMs > 0 ? `, still after ${waitedMs} ms` : ''}; give each hub its own file, or ` +
      'stop the other one',
    { cause },
  );
}

function toFailure(err: unknown, detail: string): SseHubError {
  if (err instanceof SseHubError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new SseHubError('TRANSPORT_FAILURE', `${detail}: ${reason}`, { cause: err });
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!(Number.isInteger(result) && result > 0)) {
    throw new SseHubError('INVALID_OPTION', `${name} must be an integer > 0, got ${result}`);
  }
  return result;
}
