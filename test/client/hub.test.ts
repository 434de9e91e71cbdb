import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  discoverHub,
  type HistoryLostInfo,
  mercureEventSource,
  publish,
  type SseEvent,
  subscribeTopics,
} from '../../src/client/index.js';
import { setDiscoveryLink } from '../../src/hub/http/discovery.js';
import { mintTestToken, type RunningHub, startHub } from '../helpers/hub-server.js';
import { listen } from '../helpers/sse-client.js';
import { nextEvent, within } from './support.js';

// The client against the real hub (createHub behind node:http), not a scripted server.
describe('client against the ssehub hub', () => {
  let h: RunningHub;
  let publisher: string;
  let subscriber: string;
  before(async () => {
    // Streams live 100 ms, so the hub itself forces reconnects during the test.
    h = await startHub({ maxStreamLifetimeMs: 100, lifetimeJitter: 0 });
    publisher = await mintTestToken({ publish: ['*'] });
    subscriber = await mintTestToken({ subscribe: ['*'] });
  });
  after(() => h.close());

  it('publish() resolves with the id subscribers see', async () => {
    const topic = 'https://example.com/books/1';
    // From `earliest`: a stream the short lifetime ends before the publish arrives resumes with
    // it instead of opening fresh after it (this machine may be slower than 100 ms per round).
    const es = mercureEventSource(h.url, {
      topics: [topic],
      token: subscriber,
      initialDelayMs: 1,
      lastEventId: 'earliest',
    });
    try {
      await nextEvent(es, 'open');
      const message = nextEvent<MessageEvent>(es, 'book');
      const id = await publish(h.url, { topics: topic, data: '{"t":1}', type: 'book' }, publisher);
      const ev = await message;
      assert.equal(ev.lastEventId, id);
      assert.equal(ev.data, '{"t":1}');
      assert.match(id, /^urn:uuid:/);
    } finally {
      es.close();
    }
  });

  it('resumes across hub-forced reconnects without gaps or duplicates', async () => {
    const topic = '/feed';
    const published: Promise<string>[] = [];
    const send = () => {
      published.push(publish(h.url, { topics: topic, data: `n${published.length}` }, publisher));
    };
    const received: SseEvent[] = [];
    let reconnects = 0;
    const run = async () => {
      for await (const event of subscribeTopics(h.url, {
        topics: [topic],
        token: subscriber,
        initialDelayMs: 1,
        onOpen: () => {
          if (published.length === 0) send();
        },
        // Publishes while the client is between connections: only history replay can bring it.
        onReconnecting: () => {
          reconnects++;
          send();
        },
      })) {
        received.push(event);
        if (received.length === 5) break;
      }
    };
    await within(run(), 'five events across reconnects');
    const ids = await Promise.all(published);
    assert.ok(reconnects >= 4, `${reconnects} reconnects`);
    assert.deepEqual(
      received.map((e) => [e.lastEventId, e.data]),
      ids.slice(0, 5).map((id, i) => [id, `n${i}`]),
    );
  });

  it('reports history-lost when the hub does not know the requested id', async () => {
    const requested = 'urn:uuid:00000000-0000-0000-0000-000000000000';
    let reported: (info: HistoryLostInfo) => void = () => {};
    const lost = new Promise<HistoryLostInfo>((resolve) => {
      reported = resolve;
    });
    const sub = subscribeTopics(h.url, {
      topics: ['/x'],
      token: subscriber,
      lastEventId: requested,
      onHistoryLost: (info) => reported(info),
    });
    const first = sub.next();
    try {
      assert.deepEqual(await within(lost, 'history-lost'), { requested, returned: 'earliest' });
    } finally {
      sub.close();
      await first;
    }
  });

  it('discoverHub() reads the Link header the hub helper sets', async () => {
    const resource = createServer((_req, res) => {
      res.setHeader('Link', '</books/1>; rel=self');
      setDiscoveryLink(res, h.url, { lastEventId: 'urn:uuid:rendered-at' });
      res.end('{}');
    });
    const origin = await listen(resource);
    try {
      const found = await discoverHub(`${origin}/books/1`);
      assert.equal(found.hubUrl, h.url);
      assert.equal(found.lastEventId, 'urn:uuid:rendered-at');
      assert.equal(found.topic, `${origin}/books/1`);
    } finally {
      resource.closeAllConnections();
      await new Promise((resolve) => resource.close(resolve));
    }
  });
});
