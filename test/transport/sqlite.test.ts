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
import { transportConformance } from './conformance.js';

type TestContext = { after(fn: () => unknown): void };

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-sqlite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function update(id: string): Update {
  return { id, topics: ['https://example.com/t'], data: `data ${id}`, private: false };
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

  it('keeps history, lastId and duplicate detection across a restart', async (t) => {
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
    await assert.rejects(second.publish(update('u1')), (err: unknown) =>
      isSseHubError(err, 'DUPLICATE_ID'),
    );
    const live: string[] = [];
    second.subscribe((u) => live.push(u.id));
    await second.publish(update('u5'));
    assert.deepEqual(live, ['u5']);
    assert.deepEqual(ids((await second.replay('earliest')).updates), range(6));
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

  it('stores the file in WAL mode and creates missing directories', async (t) => {
    const path = join(tempDir(t), 'a', 'b', 'hub.db');
    const transport = open(t, { path });
    await transport.publish(update('a'));
    await transport.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), 1);
    } finally {
      db.close();
    }
  });

  it('refuses a file another transport holds open, until it is closed', async (t) => {
    const path = join(tempDir(t), 'hub.db');
    const first = open(t, { path });
    await first.publish(update('a'));
    assert.throws(
      () => createSqliteTransport({ path, busyTimeoutMs: 0 }),
      (err: unknown) => isSseHubError(err, 'TRANSPORT_FAILURE') && /locked/.test(err.message),
    );
    await first.close();
    const second = open(t, { path, busyTimeoutMs: 0 });
    assert.equal(await second.lastId(), 'a');
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
