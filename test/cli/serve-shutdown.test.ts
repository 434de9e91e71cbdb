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
    // Ten minutes of grace and keep-alive: only a forced exit can end this within the test.
    const proc = await startServe([
      '--no-demo',
      '--shutdown-grace',
      '10m',
      '--keep-alive-timeout',
      '10m',
    ]);
    procs.push(proc);
    // A subscriber that never hangs up: it keeps its side open when the server ends its own.
    const socket = net.connect({ port: proc.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.write(
      'GET /.well-known/mercure?topic=x HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n',
    );
    await eventually(() => received.startsWith('HTTP/1.1 200'), 'the stream to open');
    proc.kill('SIGTERM');
    // The graceful shutdown ended the stream but waits for the connection to close.
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
