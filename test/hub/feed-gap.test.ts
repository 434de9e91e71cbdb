// What the hub does when its transport's live feed reports a gap (FeedGap): every stream ends so
// that clients resume, even one whose history was being planned when the gap came. The store is
// the real memory transport; the wrapper below only lets a test say when the gap happens (the
// Redis and IPC suites produce real ones: test/transport/*, test/cluster/*).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createHub } from '../../src/hub/create-hub.js';
import type { Hub } from '../../src/hub/types.js';
import { createMemoryTransport, type MemoryTransport } from '../../src/transport/memory.js';
import type { FeedGap, GapListener, Transport } from '../../src/transport/types.js';
import { silentLogger } from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

const TOPIC = 'https://example.com/gaps';

/** The memory transport, with a handle on the hub's gap listener and on `positionOf`. */
class GapControl {
  readonly inner: MemoryTransport = createMemoryTransport();
  onGap: GapListener | undefined;
  /** While set, `positionOf` waits for it: a resume's history plan is then under way. */
  hold: Promise<void> | undefined;
  planning: (() => void) | undefined;

  readonly transport: Transport = {
    publish: (u) => this.inner.publish(u),
    subscribe: (listener, onGap) => {
      this.onGap = onGap;
      return this.inner.subscribe(listener);
    },
    replay: (id, o) => this.inner.replay(id, o),
    positionOf: async (id) => {
      this.planning?.();
      if (this.hold) await this.hold;
      return this.inner.positionOf(id);
    },
    bounds: () => this.inner.bounds(),
    read: (a, u, l) => this.inner.read(a, u, l),
    lastId: () => this.inner.lastId(),
    close: () => this.inner.close(),
  };

  async gap(reason: FeedGap['reason']): Promise<void> {
    const { newest, epoch } = await this.inner.bounds();
    assert.ok(this.onGap, 'the hub listens for gaps');
    this.onGap({ reason, resumeAfter: newest, epoch });
  }
}

describe('a gap in the live feed', () => {
  let control: GapControl;
  let hub: Hub;
  let url: string;
  const server = createServer((req, res) => hub.handler(req, res));
  const open: SseConnection[] = [];
  before(async () => {
    control = new GapControl();
    hub = createHub({ transport: control.transport, anonymous: true, logger: silentLogger() });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/mercure`;
  });
  after(async () => {
    for (const conn of open) conn.close();
    await hub.shutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function subscribe(headers: Record<string, string> = {}): Promise<SseConnection> {
    const conn = await openSse(`${url}?topic=${encodeURIComponent(TOPIC)}`, { headers });
    open.push(conn);
    return conn;
  }

  it('ends every stream, counts the gap, and a resume then gets its history', async () => {
    const first = await hub.publish({ topics: [TOPIC], data: 'one' });
    const a = await subscribe();
    const b = await subscribe({ 'last-event-id': first });
    await control.gap('lagged');
    await a.waitForEnd();
    await b.waitForEnd();
    assert.equal(hub.subscriberCount, 0);
    assert.deepEqual(hub.stats.feedGaps, { lagged: 1, lost: 0 });

    const second = await hub.publish({ topics: [TOPIC], data: 'two' });
    const resumed = await subscribe({ 'last-event-id': first });
    const events = await resumed.waitForEvents(1);
    assert.deepEqual(
      events.map((e) => [e.lastEventId, e.data]),
      [[second, 'two']],
    );
  });

  it('answers a resume whose history was being planned with a stream that ends, not silence', async () => {
    const last = await hub.publish({ topics: [TOPIC], data: 'before' });
    let release: () => void = () => {};
    control.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const planning = new Promise<void>((resolve) => {
      control.planning = resolve;
    });
    const pending = subscribe({ 'last-event-id': last });
    await planning;
    await control.gap('lost');
    control.hold = undefined;
    control.planning = undefined;
    release();
    const conn = await pending;
    assert.equal(conn.status, 200);
    await conn.waitForEnd();
    assert.deepEqual(conn.events, []);
    assert.equal(hub.subscriberCount, 0);
    assert.equal(hub.stats.feedGaps.lost, 1);
  });
});
