import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import { SignJWT } from 'jose';
import { createMemoryTransport, type MemoryTransport } from '../../src/transport/memory.js';
import {
  getText,
  mintTestToken,
  type RunningHub,
  startHub,
  TEST_SECRET,
} from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

// Active subscriptions in the current spec's shape (topic {hub}/subscriptions/{match_type}/{match}/
// {subscriber}, `type: subscription`, SSE `event: mercure`, API as JSON with the cursor in Link),
// and both shapes at once on one hub: draft 07 for `topic=` and JSON-LD requests.

const PREFIX = '/.well-known/mercure/subscriptions';
/** The spec's documented selector for every current-shape subscription event. */
const CURRENT_EVENTS = `${PREFIX}/:match_type/:match/:subscriber`;
/** Draft 07's documented selector (RFC 6570): two segments after the prefix. */
const DRAFT07_EVENTS = `${PREFIX}{/topic}{/subscriber}`;
/** The whole subscriptions namespace: the collections too. */
const ALL_SUBSCRIPTIONS = { match: `${PREFIX}{/*}?`, match_type: 'urlpattern' };
const DETAIL = 'https://mercure.rocks/authorization-detail';
const HUB_URL = 'https://localhost/.well-known/mercure';

interface Doc {
  '@context'?: string;
  id: string;
  type: string;
  match_type?: string;
  match?: string;
  topic?: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
}

/** A current-spec access token (RFC 9068 claims, `typ: at+jwt`) granting `subscribe` on `topics`. */
async function currentToken(
  topics: { match: string; match_type?: string }[],
  payload?: unknown,
): Promise<string> {
  const detail: Record<string, unknown> = { type: DETAIL, actions: ['subscribe'], topics };
  if (payload !== undefined) detail.payload = payload;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ authorization_details: [detail], client_id: 'test' })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer('https://localhost')
    .setAudience(HUB_URL)
    .setSubject('test')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(TEST_SECRET));
}

function url(hub: RunningHub, params: [string, string][]): string {
  const u = new URL(hub.url);
  for (const [name, value] of params) u.searchParams.append(name, value);
  return u.toString();
}

const enc = (s: string): string =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

const docsOf = (conn: SseConnection): { type: string; doc: Doc }[] =>
  conn.events.map((e) => ({ type: e.type, doc: JSON.parse(e.data) as Doc }));

describe('active subscriptions, current shape', () => {
  let h: RunningHub;
  let watcherToken: string;
  let watcher: SseConnection;
  const open: SseConnection[] = [];
  const transport: MemoryTransport = createMemoryTransport();
  before(async () => {
    h = await startHub({
      transport,
      anonymous: true,
      subscriptions: true,
      corsOrigins: ['https://app.example'],
    });
    watcherToken = await currentToken([
      { match: CURRENT_EVENTS, match_type: 'urlpattern' },
      ALL_SUBSCRIPTIONS,
    ]);
    watcher = await openSse(url(h, [['match_urlpattern', CURRENT_EVENTS]]), {
      headers: { authorization: `Bearer ${watcherToken}` },
    });
    assert.equal(watcher.status, 200);
  });
  after(async () => {
    watcher.close();
    for (const c of open) c.close();
    await h.close();
  });
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${watcherToken}` });

  it('publishes event: mercure updates with the spec document for match_urlpattern= and match=', async () => {
    const token = await mintTestToken({ subscribe: ['*'], payload: { foo: 'bar' } });
    const pattern = 'https://example.com/:selector';
    const sub = await openSse(url(h, [['match_urlpattern', pattern]]), {
      headers: { authorization: `Bearer ${token}` },
    });
    open.push(sub);
    await watcher.waitFor(
      () => docsOf(watcher).some((e) => e.doc.match === pattern),
      'the urlpattern event',
    );
    const event = docsOf(watcher).find((e) => e.doc.match === pattern)!;
    assert.equal(event.type, 'mercure');
    const doc = event.doc;
    assert.match(doc.subscriber, /^urn:uuid:/);
    assert.deepEqual(doc, {
      id: `${PREFIX}/urlpattern/https%3A%2F%2Fexample.com%2F%3Aselector/${enc(doc.subscriber)}`,
      type: 'subscription',
      match_type: 'urlpattern',
      match: pattern,
      subscriber: doc.subscriber,
      active: true,
      payload: { foo: 'bar' },
    });

    // `match=*`: match_type exact, `*` encoded as %2A (strict RFC 3986).
    const star = await openSse(url(h, [['match', '*']]));
    open.push(star);
    await watcher.waitFor(
      () => docsOf(watcher).some((e) => e.doc.match === '*'),
      'the * subscription event',
    );
    const starDoc = docsOf(watcher).find((e) => e.doc.match === '*')!.doc;
    assert.equal(starDoc.match_type, 'exact');
    assert.equal(starDoc.id, `${PREFIX}/exact/%2A/${enc(starDoc.subscriber)}`);
    assert.equal(starDoc.payload, undefined);
    // No draft-07 member leaks into the current shape.
    assert.ok(docsOf(watcher).every((e) => e.doc['@context'] === undefined && !('topic' in e.doc)));

    star.close();
    await watcher.waitFor(
      () => docsOf(watcher).some((e) => e.doc.match === '*' && !e.doc.active),
      'the * subscription end event',
    );
  });

  it('serves the API as JSON with the cursor in Link, an ETag, 304, and Link exposed to CORS', async () => {
    const res = await fetch(`${h.url}/subscriptions`, {
      headers: { ...auth(), origin: 'https://app.example' },
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const body = JSON.parse(text);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const lastId = await transport.lastId();
    assert.match(lastId!, /^urn:uuid:/);
    assert.equal(
      res.headers.get('link'),
      `<${HUB_URL}>; rel="mercure"; last-event-id="${lastId}"; type="mercure"; content-type="application/json"`,
    );
    assert.equal(res.headers.get('etag'), `"${lastId}"`);
    assert.equal(res.headers.get('cache-control'), 'must-revalidate');
    assert.match(res.headers.get('access-control-expose-headers')!, /(^|, )Link(,|$)/);
    assert.equal(body.id, PREFIX);
    assert.equal(body.type, 'subscriptions');
    assert.equal('lastEventID' in body || 'last_event_id' in body || '@context' in body, false);
    const matches = body.subscriptions.map((s: Doc) => `${s.match_type} ${s.match}`).sort();
    assert.deepEqual(matches, [
      `urlpattern ${CURRENT_EVENTS}`,
      'urlpattern https://example.com/:selector',
    ]);

    const again = await fetch(`${h.url}/subscriptions`, {
      headers: { ...auth(), 'if-none-match': res.headers.get('etag')! },
    });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get('etag'), res.headers.get('etag'));

    const pattern = 'https://example.com/:selector';
    const byMatcher = await getText(`${h.url}/subscriptions/urlpattern/${enc(pattern)}`, auth());
    assert.equal(byMatcher.status, 200);
    assert.equal(byMatcher.headers.get('content-type'), 'application/json');
    const collection = JSON.parse(byMatcher.body);
    assert.equal(collection.id, `${PREFIX}/urlpattern/${enc(pattern)}`);
    assert.equal(collection.subscriptions.length, 1);
    const event = docsOf(watcher).find((e) => e.doc.match === pattern)!.doc;
    assert.deepEqual(collection.subscriptions[0], event);

    // A single subscription is the event document, unchanged (the cursor is in Link only).
    const single = await getText(
      `${h.url}${event.id.slice('/.well-known/mercure'.length)}`,
      auth(),
    );
    assert.equal(single.status, 200);
    assert.deepEqual(JSON.parse(single.body), event);
    assert.match(single.headers.get('link')!, /; rel="mercure"; last-event-id="urn:uuid:/);

    // ssehub's extension: one matcher type's collection.
    const byType = JSON.parse((await getText(`${h.url}/subscriptions/urlpattern`, auth())).body);
    assert.equal(byType.type, 'subscriptions');
    assert.equal(byType.subscriptions.length, 2);
  });

  it('answers 404 for unknown subscriptions and matcher types, 403 outside the grants', async () => {
    const sub = 'urn:uuid:00000000-0000-4000-8000-000000000000';
    for (const path of [
      `/exact/${enc('https://example.com/none')}/${enc(sub)}`,
      `/Exact/${enc('https://example.com/:selector')}/${enc(sub)}`,
      `/template/a/${enc(sub)}`,
      '/exact/a/b/c',
    ]) {
      const res = await getText(`${h.url}/subscriptions${path}`, auth());
      assert.equal(res.status, 404, path);
    }
    // A grant narrowed to one matcher, with `%2F` inside `{match}`: that matcher's collection
    // and subscriptions only.
    const pattern = 'https://example.com/:selector';
    const narrow = await currentToken([
      { match: `${PREFIX}/urlpattern/${enc(pattern)}{/*}?`, match_type: 'urlpattern' },
    ]);
    const narrowAuth = { authorization: `Bearer ${narrow}` };
    assert.equal((await getText(`${h.url}/subscriptions`, narrowAuth)).status, 403);
    assert.equal(
      (await getText(`${h.url}/subscriptions/urlpattern/${enc(pattern)}`, narrowAuth)).status,
      200,
    );
    assert.equal(
      (
        await getText(
          `${h.url}/subscriptions/urlpattern/${enc('https://example.com/x')}`,
          narrowAuth,
        )
      ).status,
      403,
    );
  });

  it('delivers subscription events to a third-party EventSource under the mercure event type only', async () => {
    const source = new EventSource(url(h, [['match_urlpattern', CURRENT_EVENTS]]), {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...init.headers, authorization: `Bearer ${watcherToken}` },
        }),
    });
    const messages: string[] = [];
    source.onmessage = (e) => messages.push(e.data);
    try {
      await new Promise<void>((resolve, reject) => {
        source.onopen = () => resolve();
        source.onerror = (err) => reject(new Error(`EventSource error: ${err.message}`));
      });
      const received = new Promise<Doc>((resolve) => {
        source.addEventListener('mercure', (e) => {
          const doc = JSON.parse(e.data) as Doc;
          if (doc.match === 'https://example.com/es') resolve(doc);
        });
      });
      const sub = await openSse(url(h, [['match', 'https://example.com/es']]));
      open.push(sub);
      const doc = await received;
      assert.equal(doc.type, 'subscription');
      assert.equal(doc.match_type, 'exact');
      assert.deepEqual(messages, []);
    } finally {
      source.close();
    }
  });

  it('creates one subscription per matcher of a request, merging identical type and pattern, and encodes a % of a matcher once more', async () => {
    const raw = 'https://example.com/a%20b';
    const other = 'https://example.com/per-matcher';
    const pattern = 'https://example.com/per-matcher/:id';
    const conn = await openSse(
      url(h, [
        ['match', raw],
        ['match_exact', raw],
        ['match', other],
        ['match_urlpattern', pattern],
      ]),
    );
    open.push(conn);
    assert.equal(conn.status, 200);
    await watcher.waitFor(
      () => [raw, other, pattern].every((m) => docsOf(watcher).some((e) => e.doc.match === m)),
      'an event for each matcher',
    );
    const rawDoc = docsOf(watcher).find((e) => e.doc.match === raw)!.doc;
    const subscriber = rawDoc.subscriber;
    // The matcher string is encoded as a whole, its `%` included: `%20` becomes `%2520`.
    assert.equal(
      rawDoc.id,
      `${PREFIX}/exact/https%3A%2F%2Fexample.com%2Fa%2520b/${enc(subscriber)}`,
    );
    // One connection, one subscriber id, one subscription per distinct (type, pattern).
    const list = await getText(`${h.url}/subscriptions`, auth());
    assert.equal(list.status, 200, list.body);
    const mine = (JSON.parse(list.body).subscriptions as Doc[])
      .filter((d) => d.subscriber === subscriber)
      .map((d) => `${d.match_type} ${d.match}`)
      .sort();
    assert.deepEqual(mine, [`exact ${other}`, `exact ${raw}`, `urlpattern ${pattern}`].sort());
    const one = await getText(`${h.url}/subscriptions/exact/${enc(raw)}`, auth());
    assert.equal(one.status, 200, one.body);
    assert.deepEqual(
      (JSON.parse(one.body).subscriptions as Doc[]).map((d) => d.id),
      [rawDoc.id],
    );
  });
});

describe('active subscriptions, both shapes on one hub', () => {
  let h: RunningHub;
  const transport: MemoryTransport = createMemoryTransport();
  let current: SseConnection;
  let draft07: SseConnection;
  let currentAuth: Record<string, string>;
  let draft07Auth: Record<string, string>;
  const open: SseConnection[] = [];
  const DOC = 'https://example.com/doc/1';
  const TEMPLATE = 'https://example.com/doc/{id}';
  const PATTERN = 'https://example.com/doc/:id';
  const subscribers: Record<string, string> = {};

  before(async () => {
    h = await startHub({ transport, anonymous: true, subscriptions: true });
    currentAuth = {
      authorization: `Bearer ${await currentToken([{ match: CURRENT_EVENTS, match_type: 'urlpattern' }, ALL_SUBSCRIPTIONS])}`,
    };
    draft07Auth = {
      authorization: `Bearer ${await mintTestToken({ subscribe: [DRAFT07_EVENTS] })}`,
    };
    current = await openSse(url(h, [['match_urlpattern', CURRENT_EVENTS]]), {
      headers: currentAuth,
    });
    draft07 = await openSse(url(h, [['topic', DRAFT07_EVENTS]]), { headers: draft07Auth });
    // One subscriber per kind of selector, and one giving the same string both ways.
    const kinds: Record<string, [string, string][]> = {
      topicPlain: [['topic', DOC]],
      topicTemplate: [['topic', TEMPLATE]],
      matchExact: [['match', DOC]],
      matchPattern: [['match_urlpattern', PATTERN]],
      both: [
        ['topic', 'https://example.com/both'],
        ['match', 'https://example.com/both'],
      ],
    };
    for (const [name, params] of Object.entries(kinds)) {
      const before = current.events.length + draft07.events.length;
      const conn = await openSse(url(h, params));
      open.push(conn);
      await current.waitFor(
        () => current.events.length + draft07.events.length > before,
        `an event for ${name}`,
      );
    }
    // Every subscription's events are out once the last one's are; wait for that one in both.
    await current.waitFor(
      () => docsOf(current).some((e) => e.doc.match === 'https://example.com/both'),
      'the current event of both',
    );
    await draft07.waitFor(
      () => docsOf(draft07).some((e) => e.doc.topic === 'https://example.com/both'),
      'the draft-07 event of both',
    );
    for (const { doc } of [...docsOf(current), ...docsOf(draft07)]) {
      const source = doc.match ?? doc.topic!;
      subscribers[source] ??= doc.subscriber;
    }
  });
  after(async () => {
    current.close();
    draft07.close();
    for (const c of open) c.close();
    await h.close();
  });

  it('a draft-07 watcher gets draft-07 events (no event:, JSON-LD) for every subscription draft 07 can say', async () => {
    const got = docsOf(draft07);
    assert.ok(got.every((e) => e.type === 'message'));
    assert.ok(got.every((e) => e.doc['@context'] === 'https://mercure.rocks/'));
    assert.ok(got.every((e) => e.doc.type === 'Subscription' && e.doc.match === undefined));
    const topics = got.map((e) => e.doc.topic).sort();
    // `match=DOC` is the draft-07 subscription to DOC too; the URL pattern is not shown; the
    // subscriber giving one string both ways is announced once.
    assert.deepEqual(
      topics,
      [DOC, DOC, TEMPLATE, 'https://example.com/both', DRAFT07_EVENTS].sort(),
    );
    const doc = got.find((e) => e.doc.topic === DOC)!.doc;
    assert.equal(doc.id, `${PREFIX}/${enc(DOC)}/${enc(doc.subscriber)}`);
  });

  it('a current watcher gets current events (event: mercure) for every subscription the current shape can say', async () => {
    const got = docsOf(current);
    assert.ok(got.every((e) => e.type === 'mercure' && e.doc.type === 'subscription'));
    const matchers = got.map((e) => `${e.doc.match_type} ${e.doc.match}`).sort();
    // `topic=DOC` is an exact matcher; the template is not shown (no registered matcher type).
    assert.deepEqual(
      matchers,
      [
        `exact ${DOC}`,
        `exact ${DOC}`,
        'exact https://example.com/both',
        `urlpattern ${PATTERN}`,
        `urlpattern ${CURRENT_EVENTS}`,
      ].sort(),
    );
  });

  it('the API lists each shape by what the request shows: path, then Accept', async () => {
    const currentList = JSON.parse((await getText(`${h.url}/subscriptions`, currentAuth)).body);
    assert.equal(currentList.type, 'subscriptions');
    assert.deepEqual(
      currentList.subscriptions.map((d: Doc) => d.id).sort(),
      docsOf(current)
        .map((e) => e.doc.id)
        .sort(),
    );
    // A token may cover both families (here: two selectors): JSON-LD by Accept.
    const both = {
      authorization: `Bearer ${await mintTestToken({ subscribe: [DRAFT07_EVENTS, `${PREFIX}`] })}`,
    };
    const ld = await getText(`${h.url}/subscriptions`, { ...both, accept: 'application/ld+json' });
    assert.equal(ld.headers.get('content-type'), 'application/ld+json');
    assert.match(ld.headers.get('vary')!, /Accept/);
    assert.match(ld.headers.get('link')!, /rel="mercure"; last-event-id="urn:uuid:/);
    const ldBody = JSON.parse(ld.body);
    assert.equal(ldBody.type, 'Subscriptions');
    assert.equal(ldBody.lastEventID, await transport.lastId());
    assert.deepEqual(
      ldBody.subscriptions.map((d: Doc) => d.id).sort(),
      docsOf(draft07)
        .map((e) => e.doc.id)
        .sort(),
    );
    // A tie, or no preference, is the current shape.
    const tie = await getText(`${h.url}/subscriptions`, {
      ...both,
      accept: 'application/ld+json, application/json',
    });
    assert.equal(tie.headers.get('content-type'), 'application/json');

    // Draft-07 topic collection: the `topic=` and `match=` subscribers of DOC.
    const byTopic = JSON.parse(
      (await getText(`${h.url}/subscriptions/${enc(DOC)}`, draft07Auth)).body,
    );
    assert.equal(byTopic['@context'], 'https://mercure.rocks/');
    assert.equal(byTopic.subscriptions.length, 2);
    // Current matcher collection: the same two, in the current shape.
    const byMatcher = await getText(`${h.url}/subscriptions/exact/${enc(DOC)}`, currentAuth);
    assert.equal(byMatcher.headers.get('content-type'), 'application/json');
    const matcherBody = JSON.parse(byMatcher.body);
    assert.deepEqual(
      matcherBody.subscriptions.map((d: Doc) => d.subscriber).sort(),
      byTopic.subscriptions.map((d: Doc) => d.subscriber).sort(),
    );
    // Each single subscription is reachable in both shapes.
    const sub = byTopic.subscriptions[0].subscriber as string;
    const d7 = await getText(`${h.url}/subscriptions/${enc(DOC)}/${enc(sub)}`, draft07Auth);
    assert.equal(d7.status, 200);
    assert.equal(JSON.parse(d7.body).type, 'Subscription');
    const cur = await getText(`${h.url}/subscriptions/exact/${enc(DOC)}/${enc(sub)}`, currentAuth);
    assert.equal(cur.status, 200);
    assert.equal(JSON.parse(cur.body).match_type, 'exact');
    // A template has no current shape, a URL pattern no draft-07 one.
    const tpl = subscribers[TEMPLATE]!;
    assert.equal(
      (await getText(`${h.url}/subscriptions/exact/${enc(TEMPLATE)}/${enc(tpl)}`, currentAuth))
        .status,
      404,
    );
    const pat = subscribers[PATTERN]!;
    assert.equal(
      (await getText(`${h.url}/subscriptions/${enc(PATTERN)}/${enc(pat)}`, draft07Auth)).status,
      404,
    );
    // `/exact/{x}` with JSON-LD preferred is draft 07's subscription `x` to the topic `exact`.
    const asDraft07 = await getText(`${h.url}/subscriptions/exact/${enc(DOC)}`, {
      ...both,
      accept: 'application/ld+json',
    });
    assert.equal(asDraft07.status, 404);
  });

  it('publishes both shapes of the end of a subscription', async () => {
    open[2]!.close(); // the `match=DOC` subscriber
    await current.waitFor(
      () => docsOf(current).some((e) => e.doc.match === DOC && !e.doc.active),
      'the current end event',
    );
    await draft07.waitFor(
      () => docsOf(draft07).some((e) => e.doc.topic === DOC && !e.doc.active),
      'the draft-07 end event',
    );
  });
});

describe('active subscriptions under a hub path other than the default', () => {
  let h: RunningHub;
  let hubUrl: string;
  let watcher: SseConnection;
  const auth = async (): Promise<Record<string, string>> => ({
    authorization: `Bearer ${await mintTestToken({ subscribe: ['*'] })}`,
  });
  before(async () => {
    h = await startHub({ anonymous: true, subscriptions: true, path: '/hub' });
    hubUrl = `${h.origin}/hub`;
    const u = new URL(hubUrl);
    u.searchParams.append('match_urlpattern', '/hub/subscriptions/:match_type/:match/:subscriber');
    watcher = await openSse(u.toString(), { headers: await auth() });
    assert.equal(watcher.status, 200);
  });
  after(async () => {
    watcher.close();
    await h.close();
  });

  it('puts subscription topics and the API under that path', async () => {
    const u = new URL(hubUrl);
    u.searchParams.append('match', 'https://example.com/under-hub');
    const conn = await openSse(u.toString());
    try {
      await watcher.waitFor(
        () => docsOf(watcher).some((e) => e.doc.match === 'https://example.com/under-hub'),
        'the subscription event',
      );
      const doc = docsOf(watcher).find((e) => e.doc.match === 'https://example.com/under-hub')!.doc;
      assert.equal(
        doc.id,
        `/hub/subscriptions/exact/${enc('https://example.com/under-hub')}/${enc(doc.subscriber)}`,
      );
      const list = await getText(`${hubUrl}/subscriptions`, await auth());
      assert.equal(list.status, 200, list.body);
      const body = JSON.parse(list.body);
      assert.equal(body.id, '/hub/subscriptions');
      assert.ok((body.subscriptions as Doc[]).some((d) => d.id === doc.id));
      const single = await getText(`${h.origin}${doc.id}`, await auth());
      assert.equal(single.status, 200, single.body);
      assert.deepEqual(JSON.parse(single.body), doc);
      // The default path is not the hub's any more.
      const old = await getText(`${h.origin}/.well-known/mercure/subscriptions`, await auth());
      assert.equal(old.status, 404);
    } finally {
      conn.close();
    }
  });
});
