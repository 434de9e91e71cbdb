import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mintToken } from '../../src/hub/auth/token.js';
import { CliProcess, cliEnv, startServe } from '../helpers/cli-process.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';
import { subscribersOnBothWorkers } from '../helpers/workers.js';

// `ssehub serve --workers 2` as real processes: a primary and two workers sharing the port. One
// cluster serves the tests below in order (starting one costs two process start-ups).

const SECRET = 'cli-workers-test-secret-0123456789';
const TOPIC = 'https://example.com/workers';
const HUB = '/.well-known/mercure';

async function publisherToken(): Promise<string> {
  return mintToken({ publish: ['*'] }, { secret: SECRET });
}

async function publish(base: string, token: string, data: string): Promise<string> {
  const res = await fetch(`${base}${HUB}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ topic: TOPIC, data }).toString(),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `publish answered ${res.status}: ${text}`);
  return text;
}

describe('ssehub serve --workers 2', () => {
  let proc: CliProcess & { url: string };
  let token: string;
  const open: SseConnection[] = [];
  after(async () => {
    for (const conn of open) conn.close();
    await proc?.dispose();
  });

  it('starts two workers; readiness and metrics speak for the cluster', async () => {
    token = await publisherToken();
    proc = await startServe(
      ['--workers', '2', '--no-demo', '--metrics', '--anonymous'],
      cliEnv({ SSEHUB_JWT_KEY: SECRET }),
    );
    await proc.waitForLine(/all 2 workers listening/);
    const ready = await fetch(`${proc.url}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    const conns = await subscribersOnBothWorkers(proc.url, TOPIC);
    open.push(...conns);
    const res = await fetch(`${proc.url}/metrics`);
    const body = await res.text();
    assert.equal(res.status, 200);
    // Summed over both workers: every subscriber counted, whichever worker serves it.
    assert.match(body, new RegExp(`^ssehub_subscribers ${conns.length}$`, 'm'));
    assert.match(body, /^ssehub_cluster_workers 2$/m);
    for (const conn of conns) conn.close();
  });

  it('delivers every publish, on either worker, to subscribers on both, in order', async () => {
    const conns = await subscribersOnBothWorkers(proc.url, TOPIC);
    open.push(...conns);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await publish(proc.url, token, `m${i}`));
    for (const conn of conns) {
      const events = await conn.waitForEvents(10);
      assert.deepEqual(
        events.map((e) => e.data),
        Array.from({ length: 10 }, (_, i) => `m${i}`),
      );
      assert.deepEqual(
        events.map((e) => e.lastEventId),
        ids,
      );
    }
    // Resume on a new connection, wherever it lands: exactly what came after the id.
    for (let i = 0; i < 2; i++) {
      const resumed = await openSse(`${proc.url}${HUB}?topic=${encodeURIComponent(TOPIC)}`, {
        headers: { 'last-event-id': ids[6]! },
      });
      open.push(resumed);
      const events = await resumed.waitForEvents(3);
      assert.deepEqual(
        events.map((e) => e.data),
        ['m7', 'm8', 'm9'],
      );
      resumed.close();
    }
    for (const conn of conns) conn.close();
  });

  it('restarts a worker killed with SIGKILL; the hub keeps serving', async () => {
    const started = proc.logs.filter((r) => r.msg === 'worker started');
    const victim = started[0]!;
    process.kill(Number(victim.pid), 'SIGKILL');
    await proc.waitFor(
      () => proc.logs.some((r) => r.msg === 'worker exited: restarting it' && r.pid === victim.pid),
      'the restart',
    );
    await proc.waitFor(
      () => proc.logs.filter((r) => r.msg === 'worker started').length === started.length + 1,
      'a new worker',
    );
    // Ready again once the new worker listens (polled: readiness has no event to wait on).
    let status = 0;
    const deadline = Date.now() + 10_000;
    while (status !== 200 && Date.now() < deadline) {
      const res = await fetch(`${proc.url}/readyz`);
      status = res.status;
      await res.text();
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(status, 200, 'ready again');
    const conns = await subscribersOnBothWorkers(proc.url, TOPIC);
    open.push(...conns);
    await publish(proc.url, token, 'after-restart');
    for (const conn of conns) {
      await conn.waitFor(() => conn.events.some((e) => e.data === 'after-restart'), 'the update');
    }
    const metrics = await (await fetch(`${proc.url}/metrics`)).text();
    assert.match(metrics, /^ssehub_cluster_worker_restarts_total 1$/m);
    for (const conn of conns) conn.close();
  });

  it('on SIGTERM drains every worker and exits 0', async () => {
    const conns = await subscribersOnBothWorkers(proc.url, TOPIC);
    open.push(...conns);
    proc.kill('SIGTERM');
    for (const conn of conns) await conn.waitForEnd();
    assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null });
    const stopped = proc.logs.filter((r) => r.msg === 'worker stopped');
    assert.equal(stopped.length, 2);
    assert.ok(stopped.every((r) => r.code === 0));
    assert.equal(proc.logs.filter((r) => r.msg === 'worker exited: restarting it').length, 1);
    // Nothing is left running: every worker pid is gone.
    for (const r of proc.logs.filter((l) => l.msg === 'worker started')) {
      assert.throws(() => process.kill(Number(r.pid), 0), /ESRCH/);
    }
  });
});

describe('ssehub serve --workers 2, stopped while its workers start', () => {
  it('drains and exits 0 on a SIGTERM sent before any worker listens', async () => {
    const proc = new CliProcess(
      ['serve', '--workers', '2', '--port', '0', '--host', '127.0.0.1', '--no-demo', '--anonymous'],
      cliEnv({ SSEHUB_JWT_KEY: SECRET }),
    );
    try {
      // Forked, still loading: the shutdown message reaches a worker before it can listen.
      await proc.waitForLine(/worker started/);
      proc.kill('SIGTERM');
      assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null });
      assert.equal(
        proc.logs.filter((r) => r.msg === 'workers did not stop in time: killing them').length,
        0,
      );
    } finally {
      await proc.dispose();
    }
  });
});
