import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isSseHubError } from '../../src/errors.js';
import {
  createSqliteTransport,
  DEFAULT_TRIM_BATCH_SIZE,
  type SqliteTransportOptions,
} from '../../src/transport/sqlite.js';
import type { Update } from '../../src/transport/types.js';
import { cliEnv, runCli, startServe } from '../helpers/cli-process.js';
import { transportConformance } from './conformance.js';

type TestContext = { after(fn: () => unknown): void };

/** STORE_LOCKED whose message names `path` and says another hub may hold it. */
function isLockedError(path: string): (err: unknown) => boolean {
  return (err: unknown) =>
    isSseHubError(err, 'STORE_LOCKED') &&
    err.message.includes(path) &&
    /another hub/.test(err.message) &&
    (err.cause as { code?: string } | undefined)?.code === 'SQLITE_BUSY';
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-sqlite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function update(id: string, extra: Partial<Update> = {}): Update {
  return { id, topics: ['https://example.com/t'], data: `data ${id}`, private: false, ...extra };
}

function ids(updates: readonly Update[]): string[] {
  return updates.map((u) => u.id);
}

function range(n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `u${from + i}`);
}

function rowsOnDisk(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM updates').pluck().get() as number;
  } finally {
    db.close();
  }
}

for (const durability of ['process', 'power'] as const) {
  transportConformance(`sqlite (durability ${durability})`, async (options) => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-sqlite-'));
    const cleanup = async (): Promise<void> => rmSync(dir, { recursive: true, force: true });
    try {
      const transport = createSqliteTransport({
        ...options,
        path: join(dir, 'hub.db'),
        durability,
      });
      return {
        transport,
        async cleanup() {
          await transport.close();
          await cleanup();
        },
      };
    } catch (err) {
      await cleanup();
      throw err;
    }
  });
}

describe('SqliteTransport', () => {
  function open(t: TestContext, options: SqliteTransportOptions) {
    const transport = createSqliteTransport(options);
    t.after(() => transport.close());
    return transport;
  }

  it('keeps history, lastId and the earliest occurrence of a reused id across a restart', async (t) => {
    const path = join(tempDir(t), 'hub.db');
    const first = open(t, { path });
    for (const id of range(5)) await first.publish(update(id));
    await first.close();

    const second = open(t, { path });
    assert.equal(await second.lastId(), 'u4');
    assert.deepEqual(await second.replay('u2'), {
      found: true,
      updates: [update('u3'), update('u4')],
    });
    const positionOfU1 = await second.positionOf('u1');
    const live: string[] = [];
    second.subscribe((u) => live.push(u.id));
    await second.publish(update('u1', { data: 'reused' }));
    await second.publish(update('u5'));
    assert.deepEqual(live, ['u1', 'u5']);
    assert.deepEqual(ids((await second.replay('earliest')).updates), [...range(5), 'u1', 'u5']);
    assert.equal(await second.positionOf('u1'), positionOfU1);
    assert.deepEqual(ids((await second.replay('u1')).updates), ['u2', 'u3', 'u4', 'u1', 'u5']);
  });

  it('trims to a lowered maxHistory when reopened', async (t) => {
    const path = join(tempDir(t), 'hub.db');
    const first = open(t, { path, maxHistory: 100 });
    for (const id of range(50)) await first.publish(update(id));
    await first.close();
    const second = open(t, { path, maxHistory: 10 });
    assert.deepEqual(ids((await second.replay('earliest')).updates), range(10, 40));
    await second.close();
    assert.equal(rowsOnDisk(path), 10);
  });

  it('keeps at most maxHistory + trimBatchSize rows on disk', async (t) => {
    const path = join(tempDir(t), 'hub.db');
    const transport = open(t, { path, maxHistory: 20, trimBatchSize: 7 });
    for (const id of range(500)) await transport.publish(update(id));
    await transport.close();
    const rows = rowsOnDisk(path);
    assert.ok(rows > 20 && rows <= 27, `rows on disk: ${rows}`);
    assert.ok(DEFAULT_TRIM_BATCH_SIZE > 0);
  });

  it('keeps its epoch across restarts; another file has another one', async (t) => {
    const dir = tempDir(t);
    const first = open(t, { path: join(dir, 'a.db') });
    const epoch = (await first.bounds()).epoch;
    await first.publish(update('a'));
    await first.close();
    const again = open(t, { path: join(dir, 'a.db') });
    assert.equal((await again.bounds()).epoch, epoch);
    const other = open(t, { path: join(dir, 'b.db') });
    assert.notEqual((await other.bounds()).epoch, epoch);
  });

  it('upgrades a version 1 file in place: its history stays, it gains an epoch', async (t) => {
    const path = join(tempDir(t), 'v1.db');
    const v1 = new Database(path);
    v1.exec(`
      CREATE TABLE updates (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, topics TEXT NOT NULL,
        data TEXT NOT NULL, private INTEGER NOT NULL, type TEXT, retry INTEGER,
        created_at INTEGER NOT NULL
      );
      INSERT INTO updates (id, topics, data, private, created_at)
        VALUES ('old', '["https://example.com/old"]', 'kept', 0, 1);
      PRAGMA user_version = 1;
    `);
    v1.close();
    const transport = open(t, { path });
    const { updates } = await transport.replay('earliest');
    assert.deepEqual(
      updates.map((u) => [u.id, u.data]),
      [['old', 'kept']],
    );
    assert.equal(await transport.positionOf('old'), 1);
    assert.ok((await transport.bounds()).epoch.length > 0);
  });

  it('upgrades a version 2 file in place: rows, positions, epoch and last sequence stay; ids may repeat', async (t) => {
    const path = join(tempDir(t), 'v2.db');
    const v2 = new Database(path);
    // The version 2 schema exactly as ssehub wrote it, with u0..u4 of which u0, u1 were trimmed.
    v2.exec(`
      CREATE TABLE updates (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        topics TEXT NOT NULL,
        data TEXT NOT NULL,
        private INTEGER NOT NULL,
        type TEXT,
        retry INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta (key, value) VALUES ('epoch', 'epoch-of-v2');
      PRAGMA user_version = 2;
    `);
    const insert = v2.prepare(
      'INSERT INTO updates (id, topics, data, private, type, retry, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < 7; i++) {
      insert.run(
        `u${i}`,
        '["https://example.com/t"]',
        `data ${i}`,
        i % 2,
        i === 3 ? 'x' : null,
        null,
        Date.now(),
      );
    }
    // u0, u1 trimmed; u6 (the newest) trimmed too, so sqlite_sequence (7) is above max(sequence).
    v2.exec("DELETE FROM updates WHERE id IN ('u0', 'u1', 'u6')");
    v2.close();

    const transport = open(t, { path });
    assert.equal((await transport.bounds()).epoch, 'epoch-of-v2');
    assert.deepEqual(await transport.bounds(), { oldest: 3, newest: 7, epoch: 'epoch-of-v2' });
    const { updates } = await transport.replay('earliest');
    assert.deepEqual(
      updates.map((u) => [u.id, u.data, u.private, u.type]),
      [
        ['u2', 'data 2', false, undefined],
        ['u3', 'data 3', true, 'x'],
        ['u4', 'data 4', false, undefined],
        ['u5', 'data 5', true, undefined],
      ],
    );
    assert.equal(await transport.positionOf('u3'), 4);
    // The next position continues after the last one issued (7), not after the newest row (6).
    await transport.publish(update('u3', { data: 'reused' }));
    const newest = await transport.read(5, 100, 10);
    assert.deepEqual(
      newest.map((s) => [s.position, s.update.id]),
      [
        [6, 'u5'],
        [8, 'u3'],
      ],
    );
    assert.equal(await transport.positionOf('u3'), 4);
    await transport.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), 3);
      const indexes = db
        .prepare<[], { name: string; unique: number }>("PRAGMA index_list('updates')")
        .all();
      assert.deepEqual(
        indexes.map((i) => [i.name, i.unique]),
        [['updates_id', 0]],
      );
    } finally {
      db.close();
    }
  });

  it('stores the file in WAL mode and creates missing directories', async (t) => {
    const path = join(tempDir(t), 'a', 'b', 'hub.db');
    const transport = open(t, { path });
    await transport.publish(update('a'));
    await transport.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), 3);
    } finally {
      db.close();
    }
  });

  it('refuses a file another transport holds open, until it is closed', async (t) => {
    const path = join(tempDir(t), 'hub.db');
    const first = open(t, { path });
    await first.publish(update('a'));
    assert.throws(() => createSqliteTransport({ path, busyTimeoutMs: 0 }), isLockedError(path));
    await first.close();
    const second = open(t, { path, busyTimeoutMs: 0 });
    assert.equal(await second.lastId(), 'a');
  });

  it('refuses an existing file even while its holder has only read it', async (t) => {
    const path = join(tempDir(t), 'hub.db');
    const writer = open(t, { path });
    await writer.publish(update('a'));
    await writer.close();
    // Reopening an existing file writes nothing (schema in place, nothing to trim): the lock
    // must come from opening, not from a first write.
    const reader = open(t, { path });
    assert.equal(await reader.lastId(), 'a');
    assert.throws(
      () => createSqliteTransport({ path, busyTimeoutMs: 50 }),
      (err: unknown) => isLockedError(path)(err) && /still after 50 ms/.test(String(err)),
    );
  });

  it('tells a second hub process that another hub holds the file', async (t) => {
    const path = join(tempDir(t), 'hub.db');
    const first = await startServe(['--transport', `sqlite:${path}`], cliEnv());
    t.after(() => first.dispose());
    // The first hub is a real separate process: its lock is an OS file lock, not shared state.
    assert.throws(() => createSqliteTransport({ path, busyTimeoutMs: 0 }), isLockedError(path));
    const second = await runCli(
      [
        'serve',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--transport',
        `sqlite:${path}?busyTimeoutMs=0`,
      ],
      cliEnv(),
    );
    assert.notEqual(second.code, 0);
    const output = second.stdout + second.stderr;
    assert.ok(output.includes(path), output);
    assert.match(output, /held by another process/);
    assert.match(output, /another hub/);
    assert.doesNotMatch(output, /could not be stored/);
  });

  it('refuses a database written by a newer schema version', async (t) => {
    const path = join(tempDir(t), 'hub.db');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(
      () => createSqliteTransport({ path }),
      (err: unknown) =>
        isSseHubError(err, 'TRANSPORT_FAILURE') && /schema version 99/.test(err.message),
    );
  });

  it('rejects invalid options', (t) => {
    const path = join(tempDir(t), 'hub.db');
    const bad: Partial<SqliteTransportOptions>[] = [
      { durability: 'sometimes' as 'power' },
      { trimBatchSize: 0 },
      { trimIntervalMs: -1 },
      { busyTimeoutMs: 1.5 },
      { path: '' },
      { maxHistoryAgeMs: 0 },
    ];
    for (const options of bad) {
      assert.throws(
        () => createSqliteTransport({ path, ...options }),
        (err: unknown) => isSseHubError(err, 'INVALID_OPTION'),
        JSON.stringify(options),
      );
    }
  });
});
