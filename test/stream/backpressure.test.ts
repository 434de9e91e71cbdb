import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeEvent } from '../../src/protocol/encoder.js';
import { createEventStream } from '../../src/stream/adapters/node.js';
import type { EventStream } from '../../src/stream/event-stream.js';
import { listen, openSse } from '../helpers/sse-client.js';
import { StreamLog } from './fixtures/scenario.js';

const MAX_QUEUE = 512 * 1024;
const EVENT_BYTES = 64 * 1024;
// Loopback socket buffers hold some tens of MB at most; far past that, the bound did not apply.
const MAX_EVENTS = 2000;

describe('back-pressure: a client that stops reading', () => {
  const log = new StreamLog();
  const byName = new Map<string, { stream: EventStream; res: http.ServerResponse }>();
  const server = http.createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? '';
    const stream = createEventStream(req, res, { heartbeatMs: 0, maxQueueBytes: MAX_QUEUE });
    byName.set(name, { stream, res });
    log.add(stream);
  });
  const sockets: net.Socket[] = [];
  let base = '';
  before(async () => {
    base = await listen(server);
  });
  after(() => {
    for (const s of sockets) s.destroy();
    log.closeAll();
    server.closeAllConnections();
    server.close();
  });

  it('is dropped with overflow, stays bounded, and the healthy client keeps receiving', async () => {
    // The stuck client: a raw socket that sends a request and then never reads a byte.
    const { port } = new URL(base);
    const stuck = net.connect(Number(port), '127.0.0.1');
    sockets.push(stuck);
    stuck.pause();
    stuck.on('error', () => {});
    stuck.write('GET /?name=stuck HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    const healthy = await openSse(`${base}/?name=healthy`);
    await log.waitFor(() => byName.has('stuck') && byName.has('healthy'), 'both streams');
    const stuckSide = byName.get('stuck');
    const healthySide = byName.get('healthy');
    assert.ok(stuckSide && healthySide);

    const payload = 'p'.repeat(EVENT_BYTES);
    let maxQueued = 0;
    let maxBuffered = 0;
    let sent = 0;
    // Publish one shared frame to both, in lock-step with the healthy reader, until the stuck
    // stream is dropped.
    while (!stuckSide.stream.closed) {
      assert.ok(sent < MAX_EVENTS, `the stuck stream was never dropped (queued ${maxQueued})`);
      const frame = encodeEvent({ id: String(sent), data: payload });
      stuckSide.stream.write(frame);
      healthySide.stream.write(frame);
      sent++;
      maxQueued = Math.max(maxQueued, stuckSide.stream.queuedBytes);
      maxBuffered = Math.max(maxBuffered, stuckSide.res.writableLength);
      await healthy.waitForEvents(sent);
    }
    assert.equal(stuckSide.stream.closeReason, 'overflow');
    assert.equal(stuckSide.stream.queuedBytes, 0, 'the queue is released');
    assert.ok(maxQueued > MAX_QUEUE / 2, `the stuck stream filled its queue (${maxQueued})`);
    assert.ok(maxQueued <= MAX_QUEUE, `queue stayed within its bound (${maxQueued})`);
    // Node's own buffer below the queue holds at most about one frame past its high-water mark.
    assert.ok(
      maxBuffered <= 2 * (EVENT_BYTES + 1024),
      `socket buffer stayed small (${maxBuffered})`,
    );
    assert.equal(stuckSide.stream.write(encodeEvent({ data: 'late' })), false);

    // The healthy client got every event in order and keeps receiving after the drop.
    for (let i = 0; i < 3; i++) {
      healthySide.stream.send({ id: `after-${i}`, data: 'still here' });
    }
    const events = await healthy.waitForEvents(sent + 3);
    assert.equal(healthySide.stream.closed, false);
    assert.deepEqual(
      events.map((e) => e.lastEventId),
      [...Array.from({ length: sent }, (_, i) => String(i)), 'after-0', 'after-1', 'after-2'],
    );
    healthy.close();
    assert.equal(await log.closedReason(2), 'client');
  });
});
