// BoundedLogStream over a real socket whose reader stalls, resumes, or goes away: memory stays
// bounded, drops are counted and reported, an EPIPE stops logging without an exception, and
// settle() never waits longer than asked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
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

  it('reports the drops as soon as the reader catches up, with no line after them', async (t) => {
    const { writer, reader } = await socketPair(t);
    const stream = new BoundedLogStream(writer, 64 * 1024);
    await fillUntilDropped(stream);
    const dropped = stream.dropped;
    // Nothing is logged from here on: the burst was the last thing.
    let text = '';
    const waiters = new Waiters();
    reader.setEncoding('utf8');
    reader.on('data', (chunk: string) => {
      text += chunk;
      waiters.notify();
    });
    reader.resume();
    await waiters.waitFor(() => text.includes('lines dropped'), 'the drop warning');
    await waiters.waitFor(() => text.endsWith('\n'), 'the whole warning line');
    const report = text
      .split('\n')
      .filter((l) => l.includes('lines dropped'))
      .map((l) => JSON.parse(l) as { level: number; dropped: number });
    assert.deepEqual(report, [{ ...report[0], level: 40, dropped }]);
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

/** Runs log-burst-child.ts with its stdout on a pipe read promptly; returns the lines it wrote. */
function burst(lines: number, maxBufferBytes?: number): Promise<Record<string, unknown>[]> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('log-burst-child.ts', import.meta.url)),
      String(lines),
      ...(maxBufferBytes === undefined ? [] : [String(maxBufferBytes)]),
    ],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`log-burst-child did not exit: ${err}`));
    }, 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`log-burst-child exited ${code}: ${err}`));
      else
        resolve(
          out
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        );
    });
  });
}

describe('BoundedLogStream over a pipe, at exit', () => {
  it('a burst of 10 000 lines (3 MB) in one turn arrives whole with the default bound', async () => {
    // One turn, as a shutdown ending every stream: no reader, however prompt, drains it meanwhile.
    const records = await burst(10_000);
    assert.equal(records.filter((r) => r.msg === 'request').length, 10_000);
    assert.equal(records.filter((r) => r.dropped !== undefined).length, 0);
  });

  it('reports lines dropped from a burst that was the last thing logged before exit', async () => {
    const records = await burst(9_000, 16 * 1024);
    const written = records.filter((r) => r.msg === 'request').length;
    const reports = records.filter((r) => r.msg === 'log output was blocked: lines dropped');
    assert.ok(written < 9_000, `${written} lines fit a 16 KiB bound`);
    assert.equal(reports.length, 1, 'one warning');
    assert.equal(reports[0]?.level, 40);
    // Every line is accounted for: written, or counted in the warning.
    assert.equal(written + Number(reports[0]?.dropped), 9_000);
  });
});
