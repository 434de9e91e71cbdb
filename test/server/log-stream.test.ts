// BoundedLogStream over a real socket whose reader stalls, resumes, or goes away: memory stays
// bounded, drops are counted and reported, an EPIPE stops logging without an exception, and
// settle() never waits longer than asked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { BoundedLogStream, createLogger } from '../../src/server/logging.js';
import { Waiters } from '../helpers/waiters.js';

/**
 * A Unix-socket pair: `writer` is what the log stream writes to, `reader` the other end, which
 * starts paused (a stalled collector). Unix sockets have small kernel buffers, so they fill fast.
 */
async function socketPair(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-log-'));
  const path = join(dir, 'sock');
  let reader: net.Socket | undefined;
  const accepted = new Promise<net.Socket>((resolve) => {
    const server = net.createServer((socket) => {
      socket.pause();
      resolve(socket);
    });
    server.listen(path);
    t.after(() => {
      server.close();
      reader?.destroy();
      writer.destroy();
      rmSync(dir, { recursive: true, force: true });
    });
  });
  const writer = net.connect(path);
  await new Promise<void>((resolve) => writer.once('connect', () => resolve()));
  reader = await accepted;
  return { writer, reader };
}

const LINE = `${JSON.stringify({ level: 30, msg: 'x'.repeat(1000) })}\n`;

/** Writes lines, letting the event loop run now and then, until one is dropped. */
async function fillUntilDropped(stream: BoundedLogStream): Promise<number> {
  let written = 0;
  while (stream.dropped === 0) {
    assert.ok(written < 200_000, 'a line was dropped before 200 MB were written');
    for (let i = 0; i < 100; i++) stream.write(LINE);
    written += 100;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return written;
}

describe('BoundedLogStream', () => {
  it('drops and counts lines while the reader stalls; memory stays under the bound', async (t) => {
    const { writer, reader } = await socketPair(t);
    const max = 64 * 1024;
    const stream = new BoundedLogStream(writer, max);
    await fillUntilDropped(stream);
    for (let i = 0; i < 1000; i++) stream.write(LINE);
    assert.ok(stream.dropped >= 1000, `dropped ${stream.dropped}`);
    assert.ok(writer.writableLength <= max, `buffered ${writer.writableLength} <= ${max}`);

    // settle() gives up after its bound when nothing moves.
    await stream.settle(100);
    assert.ok(writer.writableLength > 0, 'still stalled: settle timed out, it did not flush');

    // The reader catches up: the next line that fits is preceded by a count of the drops.
    let text = '';
    const waiters = new Waiters();
    reader.setEncoding('utf8');
    reader.on('data', (chunk: string) => {
      text += chunk;
      waiters.notify();
    });
    reader.resume();
    // settle() resolves when what was buffered is written (its bound is far off here).
    await stream.settle(60_000);
    assert.equal(writer.writableLength, 0);
    const dropped = stream.dropped;
    stream.write(`${JSON.stringify({ level: 30, msg: 'after' })}\n`);
    await waiters.waitFor(() => text.includes('"msg":"after"'), 'the line after the stall');
    const report = text
      .split('\n')
      .filter((l) => l.includes('lines dropped'))
      .map((l) => JSON.parse(l) as { level: number; dropped: number });
    assert.deepEqual(report, [{ ...report[0], level: 40, dropped }]);
    assert.ok(text.indexOf('lines dropped') < text.indexOf('"msg":"after"'));
  });

  it('stops logging for good when the reader goes away (EPIPE), without throwing', async (t) => {
    const { writer, reader } = await socketPair(t);
    const stream = new BoundedLogStream(writer, 64 * 1024);
    reader.destroy();
    const failed = new Promise<void>((resolve) => writer.once('error', () => resolve()));
    // Writes until the kernel reports the broken pipe; each must be harmless.
    while (!stream.broken) {
      stream.write(LINE);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await failed;
    const before = stream.dropped;
    assert.doesNotThrow(() => stream.write(LINE));
    assert.equal(stream.dropped, before + 1);
    await stream.settle(60_000); // resolves at once: nothing more will be written
  });

  it('is what createLogger writes through', async (t) => {
    const { writer, reader } = await socketPair(t);
    const logger = createLogger('info', new BoundedLogStream(writer));
    let text = '';
    const waiters = new Waiters();
    reader.setEncoding('utf8');
    reader.on('data', (chunk: string) => {
      text += chunk;
      waiters.notify();
    });
    reader.resume();
    logger.info({ authorization: 'Bearer secret' }, 'hello');
    await waiters.waitFor(() => text.includes('\n'), 'one line');
    const record = JSON.parse(text) as Record<string, unknown>;
    assert.equal(record.msg, 'hello');
    assert.equal(record.authorization, '[redacted]');
  });

  it('refuses a bound that is not a positive integer', () => {
    assert.throws(() => new BoundedLogStream(process.stdout, 0), /maxLogBufferBytes/);
  });
});
