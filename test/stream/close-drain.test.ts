import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createEventStream } from '../../src/stream/adapters/node.js';
import type { EventStream } from '../../src/stream/event-stream.js';
import { CLOSE_DRAIN_TIMEOUT_MS } from '../../src/stream/options.js';

// More than the loopback send and receive buffers can absorb (Linux autotunes them up to a few
// tens of MiB), so the tail can only go out if the client reads.
const FRAME = Buffer.alloc(64 * 1024, 97);
FRAME.write('data: ', 0);
FRAME.write('\n\n', FRAME.length - 2);
const FRAMES = 1000;

describe('graceful close of a stream whose client stopped reading', () => {
  it('drops the connection once the close drain time is up', { timeout: 60_000 }, async (t) => {
    let opened: (value: { stream: EventStream; socket: Socket }) => void;
    const ready = new Promise<{ stream: EventStream; socket: Socket }>((resolve) => {
      opened = resolve;
    });
    const server = createServer((req, res) => {
      const stream = createEventStream(req, res, {
        maxQueueBytes: (FRAMES + 10) * FRAME.length,
        heartbeatMs: 0,
      });
      opened({ stream, socket: req.socket });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // A client that sends its request and never reads a byte, but stays connected.
    const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.pause();
    t.after(() => {
      client.destroy();
      server.closeAllConnections();
      server.close();
    });
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { stream, socket } = await ready;

    for (let i = 0; i < FRAMES; i++) stream.write(FRAME);
    assert.equal(stream.needsDrain, true, 'the stream is blocked');
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    stream.close();
    assert.equal(stream.closeReason, 'server');

    // Without the bound this never happens: `end()` waits for a reader that never comes.
    await socketClosed;
    assert.equal(socket.destroyed, true);
    // The client now reads what reached it: less than the whole response, so it was dropped
    // (after CLOSE_DRAIN_TIMEOUT_MS), not finished.
    let received = 0;
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    await new Promise<void>((resolve) => {
      client.once('close', () => resolve());
      client.resume();
    });
    assert.ok(
      received < FRAMES * FRAME.length,
      `received ${received} bytes; dropped after ${CLOSE_DRAIN_TIMEOUT_MS} ms`,
    );
  });
});
