// Resuming subscribers that stop reading stay under the same memory bound as live ones: history
// is read in shared pages, not one copy per client, and a resumer that does not read is cut off
// once its live backlog passes the queue bound. Measured on the real `ssehub serve` process.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteTransport } from '../../src/transport/sqlite.js';
import { cliEnv, type ServeProcess, startServe } from '../helpers/cli-process.js';
import { mintTestToken, postForm, TEST_SECRET } from '../helpers/hub-server.js';
import { openSse } from '../helpers/sse-client.js';

const TOPIC = 'https://example.com/feed';
const HISTORY = 10_000;
const RESUMERS = 50;

/** Resident memory of a process, in bytes (Linux). */
function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

/**
 * A client that sends its resume request, takes the first chunk of the answer, and then never
 * reads again: its kernel buffers fill and the hub's writes to it block.
 */
function stalledResumer(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `GET /.well-known/mercure?topic=${encodeURIComponent(TOPIC)} HTTP/1.1\r\n` +
          'Host: 127.0.0.1\r\nAccept: text/event-stream\r\nLast-Event-ID: earliest\r\n\r\n',
      );
    });
    socket.once('data', () => {
      socket.pause();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

describe('replays that are not read', { skip: process.platform !== 'linux' }, () => {
  let dir: string;
  let serve: ServeProcess;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssehub-replay-memory-'));
    const path = join(dir, 'hub.db');
    const store = new SqliteTransport({ path });
    const data = 'x'.repeat(1000);
    for (let i = 0; i < HISTORY; i++) {
      await store.publish({ id: `h${i}`, topics: [TOPIC], data, private: false });
    }
    await store.close();
    serve = await startServe(
      // The resumers all come from 127.0.0.1 at once: past the default subscribe burst.
      [
        '--transport',
        `sqlite:${path}`,
        '--anonymous',
        '--no-demo',
        '--log-level',
        'info',
        '--max-subscribe-rate',
        '0',
      ],
      cliEnv({ SSEHUB_JWT_KEY: TEST_SECRET }),
    );
  });
  after(async () => {
    await serve?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps memory bounded with 50 stalled resumers and cuts them off as updates arrive', async () => {
    const pid = serve.child.pid!;
    const hub = `${serve.url}/.well-known/mercure`;
    // One full resume first, so the baseline includes warm caches (SQLite's and the hub's).
    const warm = await openSse(`${hub}?topic=${encodeURIComponent(TOPIC)}`, {
      headers: { 'last-event-id': 'earliest' },
    });
    await warm.waitForEvents(HISTORY, 60_000);
    warm.close();
    const baseline = rss(pid);

    const stalled = await Promise.all(
      Array.from({ length: RESUMERS }, () => stalledResumer(serve.port)),
    );
    let peak = rss(pid);
    const token = await mintTestToken({ publish: ['*'] });
    for (let i = 0; i < 500; i++) {
      const res = await postForm(
        hub,
        { topic: TOPIC, data: 'y'.repeat(1000) },
        { authorization: `Bearer ${token}` },
      );
      assert.equal(res.status, 200);
      if (i % 50 === 0) peak = Math.max(peak, rss(pid));
    }
    // Every stalled resumer is cut off (logged as an overflow), as a slow live client would be.
    await serve.waitFor(
      () =>
        serve.logs.filter((l) => l.event === 'stream_close' && l.reason === 'overflow').length >=
        RESUMERS,
      `${RESUMERS} overflow closes`,
      60_000,
    );
    peak = Math.max(peak, rss(pid));
    for (const socket of stalled) socket.destroy();
    const grew = peak - baseline;
    // 50 private copies of a 10 MB history would be about 500 MB; shared pages cost nothing per
    // client, and each client's queue is bounded (256 KiB by default).
    assert.ok(grew < 120 * 1024 * 1024, `RSS grew by ${Math.round(grew / 1048576)} MB`);
  });
});
