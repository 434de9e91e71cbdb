// `ssehub serve` always ends: with a stdout nobody reads (a stalled log collector), with a stdout
// whose reader went away (`| head`), and at once on a second signal while a connection holds the
// graceful shutdown open.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { type CliProcess, DEFAULT_WAIT_MS, startServe } from '../helpers/cli-process.js';
import { eventually } from '../helpers/sse-client.js';

/** Upper bound for an exit after SIGTERM: the grace time below plus a generous margin. */
const GRACE_MS = 2_000;
const EXIT_BOUND_MS = GRACE_MS + 20_000;

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** GETs `path` `n` times, eight at a time; every answer must be a 200. */
async function hammer(url: string, path: string, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next += 1;
      const res = await fetch(`${url}${path}`);
      assert.equal(res.status, 200);
      await res.text();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Requests until `/metrics` reports dropped log lines: proof the log sink is full or broken. */
async function requestUntilLogsDrop(url: string): Promise<number> {
  for (let round = 0; round < 200; round++) {
    const res = await fetch(`${url}/metrics`);
    const dropped = metric(await res.text(), 'ssehub_log_lines_dropped_total');
    if (dropped > 0) return dropped;
    // About 25 KiB of request log lines per round.
    await hammer(url, '/healthz', 100);
  }
  throw new Error('no log line was ever dropped: the pipe never filled');
}

describe('ssehub serve shutdown', () => {
  const procs: CliProcess[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => p.dispose()));
  });

  const args = ['--no-demo', '--metrics', '--shutdown-grace', `${GRACE_MS}ms`];

  it('exits on SIGTERM while nobody reads its stdout', async () => {
    const proc = await startServe([...args, '--max-log-buffer', '16kb']);
    procs.push(proc);
    proc.stallStdout();
    // Far more than a pipe holds (64 KiB, or a few hundred KiB for a socket pair).
    const dropped = await requestUntilLogsDrop(proc.url);
    assert.ok(dropped > 0);
    proc.kill('SIGTERM');
    const exit = await proc.waitForProcessExit(EXIT_BOUND_MS);
    assert.deepEqual(exit, { code: 0, signal: null }, 'a graceful exit, not the backstop');
  });

  it('keeps serving after its stdout reader went away, and exits on SIGTERM', async () => {
    const proc = await startServe(args);
    procs.push(proc);
    proc.closeStdout();
    // Each request logs a line; once one hits the closed pipe the log sink is broken, and the
    // server must not have crashed or exited over it: every request gets its 200.
    await requestUntilLogsDrop(proc.url);
    await hammer(proc.url, '/healthz', 50);
    assert.equal(proc.processExit, undefined, 'still running');
    proc.kill('SIGTERM');
    const exit = await proc.waitForProcessExit(EXIT_BOUND_MS);
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  it('exits at once with status 1 on a second SIGTERM while a connection holds the shutdown', async () => {
    // Ten minutes of grace and of time to send a request: only a forced exit ends this in time.
    const proc = await startServe([
      '--no-demo',
      '--metrics',
      '--shutdown-grace',
      '10m',
      '--headers-timeout',
      '10m',
      '--request-timeout',
      '10m',
    ]);
    procs.push(proc);
    // A client that sent half a request head and stays: the server waits for the rest, so the
    // connection holds the shutdown. (A stream does not: ending it closes its connection, the
    // body being close-delimited.)
    const socket = net.connect({ port: proc.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // Admitted by the server (this check's own keep-alive connection is the other one).
    await eventually(async () => {
      const res = await fetch(`${proc.url}/metrics`);
      return metric(await res.text(), 'ssehub_connections') >= 2;
    }, 'the server to hold the connection');
    proc.kill('SIGTERM');
    // The graceful shutdown stopped the hub but waits for the connection to close.
    await proc.waitFor(() => proc.logs.some((r) => r.msg === 'hub shut down'), 'hub shut down');
    assert.equal(proc.processExit, undefined, 'the first signal alone does not end it');
    proc.kill('SIGTERM');
    const exit = await proc.waitForExit(DEFAULT_WAIT_MS * 2);
    assert.deepEqual(exit, { code: 1, signal: null });
    assert.ok(proc.logs.some((r) => r.msg === 'second signal: exiting now'));
    assert.ok(!proc.logs.some((r) => r.msg === 'stopped'), 'not a graceful stop');
    socket.destroy();
  });
});
