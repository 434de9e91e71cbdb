// The durability promise: every update the hub acknowledged survives a crash of the hub
// (SIGKILL, no shutdown code runs), and a subscriber that resumes with Last-Event-ID after the
// restart gets all of them, in order, with nothing lost.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { mintToken } from '../../src/hub/auth/token.js';
import { cliEnv, type ServeProcess, startServe } from '../helpers/cli-process.js';
import { publishOk } from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

const SECRET = 'sqlite-restart-test-secret-0123456789';
const TOPIC = 'https://example.com/orders/42';

/** Publishes `data` on TOPIC through the hub at `base`; resolves with the acknowledged id. */
const publishTo = (base: string, token: string, data: string) =>
  publishOk(`${base}/.well-known/mercure`, { topic: TOPIC, data }, token);

const dir = mkdtempSync(join(tmpdir(), 'ssehub-sqlite-'));
const dbFile = join(dir, 'hub.db');
const procs: ServeProcess[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.dispose()));
  rmSync(dir, { recursive: true, force: true });
});

async function serve(): Promise<ServeProcess> {
  const proc = await startServe(
    ['--transport', `sqlite:${dbFile}`, '--no-demo', '--anonymous'],
    cliEnv({ SSEHUB_JWT_KEY: SECRET }),
  );
  procs.push(proc);
  return proc;
}

function subscribe(base: string, lastEventId?: string): Promise<SseConnection> {
  return openSse(`${base}/.well-known/mercure?topic=${encodeURIComponent(TOPIC)}`, {
    headers: lastEventId ? { 'last-event-id': lastEventId } : {},
  });
}

it('SIGKILL mid-stream, restart on the same file: a resuming subscriber loses nothing', async () => {
  const token = await mintToken({ publish: [TOPIC] }, { secret: SECRET });
  const first = await serve();

  // A subscriber reads the first updates, then is cut off with the hub.
  const early = await subscribe(first.url);
  const acknowledged: string[] = [];
  for (let i = 1; i <= 3; i++) acknowledged.push(await publishTo(first.url, token, `update ${i}`));
  await early.waitForEvents(3);
  const resumeFrom = early.events[2]?.lastEventId as string;
  assert.equal(resumeFrom, acknowledged[2]);

  // More updates, acknowledged while the subscriber stream is still open; then the crash.
  for (let i = 4; i <= 8; i++) acknowledged.push(await publishTo(first.url, token, `update ${i}`));
  first.kill('SIGKILL');
  assert.equal((await first.waitForExit()).signal, 'SIGKILL');
  await early.waitForEnd();

  const second = await serve();
  const resumed = await subscribe(second.url, resumeFrom);
  try {
    assert.equal(resumed.status, 200);
    await resumed.waitForEvents(5);
    assert.deepEqual(
      resumed.events.map((e) => [e.lastEventId, e.data]),
      acknowledged.slice(3).map((id, i) => [id, `update ${i + 4}`]),
    );
    // And the restarted hub keeps going: live updates follow the replay.
    const next = await publishTo(second.url, token, 'update 9');
    await resumed.waitForEvents(6);
    assert.equal(resumed.events[5]?.lastEventId, next);
  } finally {
    resumed.close();
  }

  // Everything acknowledged is in the history, in order.
  const all = await subscribe(second.url, 'earliest');
  try {
    await all.waitForEvents(9);
    assert.deepEqual(
      all.events.map((e) => e.data),
      Array.from({ length: 9 }, (_, i) => `update ${i + 1}`),
    );
  } finally {
    all.close();
  }
});
