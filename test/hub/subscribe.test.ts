import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  getText,
  publishOk,
  type RunningHub,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

describe('subscribe', () => {
  let h: RunningHub;
  const open: SseConnection[] = [];
  before(async () => {
    h = await startHub({ anonymous: true, retryMs: 2500, maxTopicsPerRequest: 5 });
  });
  after(async () => {
    for (const conn of open) conn.close();
    await h.close();
  });

  async function subscribe(url: string): Promise<SseConnection> {
    const conn = await openSse(url);
    open.push(conn);
    return conn;
  }

  it('answers with the event-stream headers and flushes at once', async () => {
    const conn = await subscribe(subscribeUrl(h.url, ['https://example.com/h']));
    assert.equal(conn.status, 200);
    assert.equal(conn.headers['content-type'], 'text/event-stream');
    assert.match(String(conn.headers['cache-control']), /no-cache/);
    assert.match(String(conn.headers['cache-control']), /no-transform/);
    assert.equal(conn.headers['x-accel-buffering'], 'no');
    assert.equal(conn.headers.connection, 'keep-alive');
    // Something arrives before any update: the headers were not held back.
    await conn.waitFor(() => conn.bytes > 0, 'the first bytes');
    // retryMs is sent to every new subscriber.
    await conn.waitFor(() => conn.retries.includes(2500), 'retry: 2500');
    // No Last-Event-ID asked, none answered.
    assert.equal(conn.headers['last-event-id'], undefined);
  });

  it('frames id, event (from type), retry and multi-line data', async () => {
    const conn = await subscribe(subscribeUrl(h.url, ['https://example.com/f']));
    const id = await publishOk(h.url, {
      topic: 'https://example.com/f',
      data: 'line 1\nline 2\r\nline 3',
      type: 'book-updated',
      retry: '1234',
    });
    const [event] = await conn.waitForEvents(1);
    assert.equal(event!.lastEventId, id);
    assert.equal(event!.type, 'book-updated');
    assert.equal(event!.data, 'line 1\nline 2\nline 3');
    await conn.waitFor(() => conn.retries.includes(1234), 'retry: 1234');
  });

  it('gives every event an id, also with empty data', async () => {
    const conn = await subscribe(subscribeUrl(h.url, ['https://example.com/empty']));
    const id = await publishOk(h.url, { topic: 'https://example.com/empty' });
    const [event] = await conn.waitForEvents(1);
    assert.equal(event!.lastEventId, id);
    assert.equal(event!.data, '');
  });

  it('refuses a request without topic with 400', async () => {
    const res = await getText(h.url);
    assert.equal(res.status, 400);
    assert.match(res.body, /At least one topic is required/);
  });

  it('refuses an unknown match… parameter, too many selectors, and bad selectors with 400', async () => {
    const unknown = await getText(`${h.url}?matchRegex=x`);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /unknown matcher parameter/);
    const many = await getText(subscribeUrl(h.url, ['a', 'b', 'c', 'd', 'e', 'f']));
    assert.equal(many.status, 400);
    assert.match(many.body, /Too many topics/);
    const control = await getText(subscribeUrl(h.url, ['a\u0007']));
    assert.equal(control.status, 400);
    const badTemplate = await getText(subscribeUrl(h.url, ['https://example.com/{unclosed']));
    assert.equal(badTemplate.status, 400);
    assert.match(badTemplate.body, /topic selector is invalid/);
  });

  it('accepts match_exact, the explicit spelling of match=, mixed with topic= and match_urlpattern=', async () => {
    const conn = await subscribe(
      `${subscribeUrl(h.url, ['https://example.com/mix/{n}'])}&match_exact=https%3A%2F%2Fexample.com%2Fe&match_urlpattern=https%3A%2F%2Fexample.com%2Fp%2F%3Ax`,
    );
    assert.equal(conn.status, 200);
    const viaTemplate = await publishOk(h.url, { topic: 'https://example.com/mix/1' });
    const viaExact = await publishOk(h.url, { topic: 'https://example.com/e' });
    const viaPattern = await publishOk(h.url, { topic: 'https://example.com/p/2' });
    await publishOk(h.url, { topic: 'https://example.com/other' });
    await conn.waitFor(() => conn.events.length >= 3, 'three updates');
    assert.deepEqual(
      conn.events.map((e) => e.lastEventId),
      [viaTemplate, viaExact, viaPattern],
    );
  });

  for (const [name, hint] of [
    ['matchExact', /use match_exact/],
    ['matchURLPattern', /use match_urlpattern/],
    ['MATCH_EXACT', /use match_exact/],
    ['match_URLPattern', /use match_urlpattern/],
    ['Match', /use match\b/],
    ['matches', /unknown matcher parameter "matches"/],
    ['match_regex', /unknown matcher parameter "match_regex"/],
  ] as const) {
    it(`refuses the matcher parameter ${name} with 400 naming the right spelling`, async () => {
      const res = await getText(`${h.url}?${name}=https%3A%2F%2Fexample.com%2Fa`);
      assert.equal(res.status, 400, res.body);
      assert.match(res.body, hint);
    });
  }

  for (const [name, query] of [
    ['a zero-width space (Cf) in match', 'match=a%E2%80%8Bb'],
    [
      'a bidi override (Cf) in match_urlpattern',
      'match_urlpattern=https%3A%2F%2Fexample.com%2F%E2%80%AE%3Ax',
    ],
    ['a BOM (Cf) in topic', 'topic=%EF%BB%BFa'],
    ['a C1 control in match_exact', 'match_exact=a%C2%85b'],
    ['a format character in last_event_id', 'match=a&last_event_id=x%E2%80%8By'],
    ['a C1 control in lastEventID', 'topic=a&lastEventID=x%C2%9By'],
    ['invalid UTF-8 in match_urlpattern', 'match_urlpattern=https%3A%2F%2Fexample.com%2F%FF'],
    ['invalid UTF-8 in match_exact', 'match_exact=%C0%AF'],
  ] as const) {
    it(`refuses ${name} with 400`, async () => {
      const res = await getText(`${h.url}?${query}`);
      assert.equal(res.status, 400, res.body);
      assert.match(
        res.body,
        /control characters or format characters|invalid UTF-8|last event id is invalid/,
      );
    });
  }

  it('refuses a match_urlpattern value that is not a well-formed URL pattern, and an over-long matcher, with 400', async () => {
    for (const pattern of [
      'https://example.com/(',
      'https://example.com/:id(',
      'https://exa mple.com/',
    ]) {
      const res = await getText(subscribeUrl(h.url, [], { match_urlpattern: pattern }));
      assert.equal(res.status, 400, `${pattern}: ${res.body}`);
      assert.match(res.body, /invalid URL pattern/, pattern);
    }
    // A subscribe limit is a 400 (only publish limits are 413).
    const long = await getText(subscribeUrl(h.url, [], { match: `https://e/${'a'.repeat(2048)}` }));
    assert.equal(long.status, 400, long.body);
    assert.match(long.body, /longer than/);
  });

  it('reads the query with the form-urlencoded rules: + is a space, %2B a plus, a bare name an empty value', async () => {
    const conn = await subscribe(`${h.url}?match=https://example.com/a+b%2Bc%26d`);
    assert.equal(conn.status, 200);
    const other = await publishOk(h.url, { topic: 'https://example.com/a+b+c&d' });
    const mine = await publishOk(h.url, { topic: 'https://example.com/a b+c&d' });
    await conn.waitFor(() => conn.events.length >= 1, 'the update');
    assert.deepEqual(
      conn.events.map((e) => e.lastEventId),
      [mine],
    );
    assert.notEqual(other, mine);
    // `?match` is `?match=`: the same answer for both.
    const bare = await getText(`${h.url}?match`);
    const empty = await getText(`${h.url}?match=`);
    assert.equal(bare.status, empty.status);
    assert.equal(bare.body, empty.body);
  });

  it('refuses a format character in the Last-Event-ID header with 400', async () => {
    const res = await getText(subscribeUrl(h.url, ['a']), {
      'last-event-id': Buffer.from('x\u200By', 'utf8').toString('latin1'),
    });
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, /last event id is invalid/);
  });

  it('matches *, exact topics, URI templates (topic=), match= and URL patterns', async () => {
    const all = await subscribe(subscribeUrl(h.url, ['*']));
    const exact = await subscribe(subscribeUrl(h.url, ['https://example.com/books/1']));
    const template = await subscribe(subscribeUrl(h.url, ['https://example.com/books/{id}']));
    const match = await subscribe(
      subscribeUrl(h.url, [], { match: 'https://example.com/books/{id}' }),
    );
    const pattern = await subscribe(
      subscribeUrl(h.url, [], { match_urlpattern: 'https://example.com/books/:id' }),
    );
    const pattern2 = await subscribe(
      subscribeUrl(h.url, [], { match_urlpattern: 'https://example.com/authors/:id' }),
    );
    const book1 = await publishOk(h.url, { topic: 'https://example.com/books/1', data: 'b1' });
    const book2 = await publishOk(h.url, { topic: 'https://example.com/books/2', data: 'b2' });
    const literal = await publishOk(h.url, {
      topic: 'https://example.com/books/{id}',
      data: 'lit',
    });
    const author = await publishOk(h.url, { topic: 'https://example.com/authors/7', data: 'a7' });
    const ids = (conn: SseConnection) => conn.events.map((e) => e.lastEventId);
    const expectations: [string, SseConnection, string[]][] = [
      ['exact', exact, [book1]],
      // The literal topic `…/{id}` is not a URI the template expands to (braces are not allowed
      // in a value).
      ['template', template, [book1, book2]],
      // match= is exact (draft 08): the braces are literal.
      ['match=', match, [literal]],
      // A URL pattern's `:id` takes any path segment, braces included.
      ['URL pattern', pattern, [book1, book2, literal]],
      ['other URL pattern', pattern2, [author]],
    ];
    for (const [name, conn, expected] of expectations) {
      const last = expected[expected.length - 1]!;
      await conn.waitFor(() => ids(conn).includes(last), `the last update on ${name}`);
      assert.deepEqual(ids(conn), expected, name);
    }
    // Everything published after the wildcard subscriber joined reaches it.
    await all.waitFor(() => ids(all).includes(author), 'the last update on *');
    assert.deepEqual(ids(all).slice(-4), [book1, book2, literal, author]);
  });

  it('delivers an update once to a subscriber that several selectors match', async () => {
    const conn = await subscribe(
      subscribeUrl(h.url, ['*', 'https://example.com/m/1', 'https://example.com/m/{x}'], {
        match_urlpattern: 'https://example.com/m/:x',
      }),
    );
    const first = await publishOk(h.url, {
      topic: ['https://example.com/m/1', 'https://example.com/m/2'],
    });
    const second = await publishOk(h.url, { topic: 'https://example.com/m/1' });
    await conn.waitFor(
      () => conn.events.some((e) => e.lastEventId === second),
      'the second update',
    );
    const mine = conn.events
      .map((e) => e.lastEventId)
      .filter((id) => id === first || id === second);
    assert.deepEqual(mine, [first, second]);
  });

  it('counts open subscribers and forgets the ones that leave', async () => {
    const before = h.hub.subscriberCount;
    const conn = await openSse(subscribeUrl(h.url, ['https://example.com/count']));
    assert.equal(h.hub.subscriberCount, before + 1);
    conn.close();
    const { eventually } = await import('../helpers/sse-client.js');
    await eventually(() => h.hub.subscriberCount === before, 'the subscriber to be removed');
  });
});
