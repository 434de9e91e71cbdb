import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import {
  mintTestToken,
  postForm,
  publishOk,
  type RunningHub,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { openSse } from '../helpers/sse-client.js';

describe('publish over HTTP', () => {
  let h: RunningHub;
  let auth: Record<string, string>;
  before(async () => {
    h = await startHub({ anonymous: true, maxBodyBytes: 4096, maxTopicsPerRequest: 3 });
    auth = { authorization: `Bearer ${await mintTestToken({ publish: ['*'] })}` };
  });
  after(() => h.close());

  it('answers 200 text/plain with a generated urn:uuid id', async () => {
    const res = await postForm(h.url, { topic: 'https://example.com/a', data: 'x' }, auth);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(
      res.body,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('keeps a given id and answers with it', async () => {
    const res = await postForm(h.url, { topic: 'https://example.com/a', id: 'my-id-1' }, auth);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'my-id-1');
  });

  it('ignores fields it does not recognize, and answers exactly text/plain; charset=utf-8', async () => {
    const topic = 'https://example.com/unknown-fields';
    const conn = await openSse(subscribeUrl(h.url, [], { match: topic }));
    try {
      const res = await postForm(
        h.url,
        {
          topic,
          data: 'kept',
          foo: 'bar',
          Topic: 'https://example.com/not-a-topic',
          'data[]': 'x',
        },
        auth,
      );
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      const [event] = await conn.waitForEvents(1);
      assert.equal(event!.lastEventId, res.body);
      assert.equal(event!.data, 'kept');
      assert.equal(event!.type, 'message');
    } finally {
      conn.close();
    }
  });

  it('accepts an id still in history (200); a resume from it starts after its earliest occurrence', async () => {
    const topic = 'https://example.com/dup';
    const first = await postForm(h.url, { topic, id: 'dup', data: 'first' }, auth);
    assert.equal(first.status, 200);
    assert.equal(
      (await postForm(h.url, { topic, id: 'between', data: 'between' }, auth)).status,
      200,
    );
    const again = await postForm(h.url, { topic, id: 'dup', data: 'again' }, auth);
    assert.equal(again.status, 200, again.body);
    assert.equal(again.body, 'dup');
    const conn = await openSse(subscribeUrl(h.url, [], { match: topic, last_event_id: 'dup' }));
    try {
      assert.equal(conn.headers['mercure-last-event-id'], 'dup');
      await conn.waitFor(() => conn.events.length >= 2, 'the replay');
      assert.deepEqual(
        conn.events.map((e) => [e.lastEventId, e.data]),
        [
          ['between', 'between'],
          ['dup', 'again'],
        ],
      );
    } finally {
      conn.close();
    }
  });

  const rejections: {
    name: string;
    fields: Record<string, string | string[]>;
    status: number;
    message: RegExp;
  }[] = [
    { name: 'no topic', fields: { data: 'x' }, status: 400, message: /At least one topic/ },
    { name: 'an empty topic', fields: { topic: '' }, status: 400, message: /topic/ },
    {
      name: 'a control character in a topic',
      fields: { topic: 'a\u0001b' },
      status: 400,
      message: /control characters/,
    },
    {
      name: 'a C1 control (NEL) in a topic',
      fields: { topic: 'https://example.com/a\u0085b' },
      status: 400,
      message: /control characters/,
    },
    {
      name: 'DEL in a topic',
      fields: { topic: 'https://example.com/a\u007Fb' },
      status: 400,
      message: /control characters/,
    },
    {
      name: 'too many topics',
      fields: { topic: ['a', 'b', 'c', 'd'] },
      status: 413,
      message: /Too many topics in one update: at most 3/,
    },
    {
      name: 'a topic over maxTopicLength',
      fields: { topic: 't'.repeat(2049) },
      status: 413,
      message: /longer than allowed: a topic is longer than 2048/,
    },
    {
      name: 'a topic over maxTopicLength once percent-encoded',
      fields: { topic: `https://example.com/${'é'.repeat(400)}` },
      status: 413,
      message: /once percent-encoded/,
    },
    {
      name: 'an id over maxTopicLength',
      fields: { topic: 't', id: 'i'.repeat(2049) },
      status: 413,
      message: /id is longer than 2048/,
    },
    {
      name: 'a type over maxTopicLength',
      fields: { topic: 't', type: 'e'.repeat(2049) },
      status: 413,
      message: /type is longer than 2048/,
    },
    {
      name: 'the topic *',
      fields: { topic: '*' },
      status: 400,
      message: /reserved.*wildcard/,
    },
    {
      name: 'the alternate topic *',
      fields: { topic: ['https://example.com/a', '*'] },
      status: 400,
      message: /reserved.*wildcard/,
    },
    {
      name: 'a format character (RLO) in a topic',
      fields: { topic: 'a\u202Eb' },
      status: 400,
      message: /topic selector is invalid.*format characters \(Cf\)/,
    },
    {
      name: 'a soft hyphen (Cf) in a topic',
      fields: { topic: 'https://example.com/a\u00ADb' },
      status: 400,
      message: /format characters/,
    },
    {
      name: 'a tag character (Cf, astral) in a topic',
      fields: { topic: 'a\u{E0001}b' },
      status: 400,
      message: /format characters/,
    },
    {
      name: 'a zero-width space (Cf) in id',
      fields: { topic: 't', id: 'x\u200By' },
      status: 400,
      message: /id is invalid.*format characters/,
    },
    {
      name: 'a C1 control in id',
      fields: { topic: 't', id: 'a\u0085b' },
      status: 400,
      message: /id is invalid.*control characters/,
    },
    {
      name: 'a BOM (Cf) in type',
      fields: { topic: 't', type: '\uFEFFmessage' },
      status: 400,
      message: /type is invalid.*format characters/,
    },
    {
      name: 'a TAB in type',
      fields: { topic: 't', type: 'a\tb' },
      status: 400,
      message: /type is invalid.*control characters/,
    },
    {
      name: 'a C1 control in type',
      fields: { topic: 't', type: 'a\u009Bb' },
      status: 400,
      message: /type is invalid.*control characters/,
    },
    { name: 'CR in id', fields: { topic: 't', id: 'a\rb' }, status: 400, message: /id is invalid/ },
    {
      name: 'LF in id',
      fields: { topic: 't', id: 'a\nb' },
      status: 400,
      message: /control characters/,
    },
    {
      name: 'NUL in id',
      fields: { topic: 't', id: 'a\0b' },
      status: 400,
      message: /control characters/,
    },
    {
      name: 'a C0 control in id',
      fields: { topic: 't', id: 'a\u0001b' },
      status: 400,
      message: /id is invalid.*control characters/,
    },
    { name: 'id starting with #', fields: { topic: 't', id: '#1' }, status: 400, message: /#/ },
    {
      name: 'the reserved id earliest',
      fields: { topic: 't', id: 'earliest' },
      status: 400,
      message: /earliest is a reserved id/,
    },
    {
      name: 'LF in type',
      fields: { topic: 't', type: 'a\nb' },
      status: 400,
      message: /type is invalid.*control characters/,
    },
    {
      name: 'the reserved type mercure',
      fields: { topic: 't', type: 'mercure' },
      status: 400,
      message: /mercure is a reserved type/,
    },
    {
      name: 'a non-digit retry',
      fields: { topic: 't', retry: '1e3' },
      status: 400,
      message: /retry.*digits only/,
    },
    {
      name: 'a negative retry',
      fields: { topic: 't', retry: '-5' },
      status: 400,
      message: /retry/,
    },
    {
      name: 'a reserved topic',
      fields: { topic: '/.well-known/mercure/subscriptions/x/y' },
      status: 400,
      message: /reserved/,
    },
    {
      name: 'a reserved topic given as an absolute URL',
      fields: { topic: 'https://example.com/.well-known/mercure/subscriptions/x' },
      status: 400,
      message: /reserved/,
    },
    {
      name: 'a reserved topic hidden by dot segments',
      fields: { topic: '/books/../.well-known/mercure' },
      status: 400,
      message: /reserved/,
    },
    {
      name: 'a reserved topic hidden by percent-encoding',
      fields: { topic: '/.well-known/%6Dercure/subscriptions' },
      status: 400,
      message: /reserved/,
    },
    {
      name: 'a reserved alternate topic',
      fields: { topic: ['ok', '/.well-known/mercure'] },
      status: 400,
      message: /reserved/,
    },
  ];
  for (const { name, fields, status, message } of rejections) {
    it(`rejects ${name} with ${status}`, async () => {
      const res = await postForm(h.url, fields, auth);
      assert.equal(res.status, status, res.body);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(res.body, message);
    });
  }

  it('rejects a body over maxBodyBytes with 413 and closes the connection', async () => {
    const res = await postForm(h.url, { topic: 't', data: 'x'.repeat(5000) }, auth);
    assert.equal(res.status, 413);
    assert.match(res.body, /larger than allowed/);
    assert.equal(res.headers.get('connection'), 'close');
  });

  it('rejects a body that exceeds the limit while streaming (no Content-Length) with 413', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(h.url, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      // Chunked: the size is only known by counting what arrives.
      req.write(`topic=t&data=${'y'.repeat(3000)}`);
      req.write('y'.repeat(3000));
      req.end();
    });
    assert.equal(status, 413);
  });

  it('closes the connection when it answers before reading a large body (401)', async () => {
    const { connect } = await import('node:net');
    const { port } = new URL(h.url);
    const socket = connect(Number(port), '127.0.0.1');
    try {
      let answer = '';
      const head = new Promise<string>((resolve, reject) => {
        socket.on('data', (chunk: Buffer) => {
          answer += chunk.toString('latin1');
          if (answer.includes('\r\n\r\n')) resolve(answer);
        });
        socket.on('error', reject);
      });
      // No token; a body far over maxBodyBytes, of which only the first KiB is sent.
      socket.write(
        'POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\n' +
          'Content-Type: application/x-www-form-urlencoded\r\n' +
          `Content-Length: ${10 * 1024 * 1024}\r\n\r\n${'a'.repeat(1024)}`,
      );
      const text = await head;
      assert.match(text, /^HTTP\/1\.1 401 /);
      assert.match(text, /\r\nconnection: close\r\n/i);
    } finally {
      socket.destroy();
    }
  });

  it('keeps the connection open for an error answered after the whole body was read', async () => {
    const res = await postForm(h.url, { topic: 't', id: '#bad' }, auth);
    assert.equal(res.status, 400);
    assert.notEqual(res.headers.get('connection'), 'close');
  });

  it('rejects another content type with 415', async () => {
    const res = await fetch(h.url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 't' }),
    });
    assert.equal(res.status, 415);
    assert.match(await res.text(), /application\/x-www-form-urlencoded/);
  });

  it('accepts a charset parameter on the content type', async () => {
    const res = await fetch(h.url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: 'topic=t&data=ok',
    });
    assert.equal(res.status, 200);
  });

  it('answers 405 with Allow for other methods', async () => {
    const res = await fetch(h.url, { method: 'PUT', body: 'x' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST, QUERY, OPTIONS');
  });

  it('delivers to subscribers of the canonical topic and of each alternate', async () => {
    const canonical = await openSse(subscribeUrl(h.url, ['https://example.com/canon']));
    const alternate = await openSse(subscribeUrl(h.url, ['https://example.com/alt']));
    const both = await openSse(
      subscribeUrl(h.url, ['https://example.com/canon', 'https://example.com/alt']),
    );
    try {
      const id = await publishOk(h.url, {
        topic: ['https://example.com/canon', 'https://example.com/alt'],
        data: 'hello',
      });
      const marker = await publishOk(h.url, {
        topic: ['https://example.com/canon', 'https://example.com/alt'],
        data: 'marker',
      });
      for (const conn of [canonical, alternate, both]) {
        await conn.waitFor(() => conn.events.some((e) => e.lastEventId === marker), 'marker');
        // Once each, even for the subscriber that selected both topics.
        assert.deepEqual(
          conn.events.map((e) => [e.lastEventId, e.data]),
          [
            [id, 'hello'],
            [marker, 'marker'],
          ],
        );
      }
    } finally {
      for (const conn of [canonical, alternate, both]) conn.close();
    }
  });

  it('marks the update private whenever the private field is present, even empty', async () => {
    const conn = await openSse(subscribeUrl(h.url, ['https://example.com/p']));
    try {
      await publishOk(h.url, { topic: 'https://example.com/p', data: 'secret', private: 'on' });
      await publishOk(h.url, { topic: 'https://example.com/p', data: 'also', private: 'yes' });
      await publishOk(h.url, { topic: 'https://example.com/p', data: 'empty', private: '' });
      await publishOk(h.url, { topic: 'https://example.com/p', data: 'public' });
      await conn.waitForEvents(1);
      // The anonymous subscriber sees only the public one, which was published last.
      assert.deepEqual(
        conn.events.map((e) => e.data),
        ['public'],
      );
    } finally {
      conn.close();
    }
  });
});

describe('hub.publish (server code)', () => {
  let h: RunningHub;
  before(async () => {
    h = await startHub({ anonymous: true });
  });
  after(() => h.close());

  it('validates like HTTP and resolves with the id', async () => {
    const id = await h.hub.publish({ topics: ['t'], data: 'x' });
    assert.match(id, /^urn:uuid:/);
    await assert.rejects(h.hub.publish({ topics: [] }), (err) =>
      isSseHubError(err, 'MISSING_TOPIC'),
    );
    await assert.rejects(h.hub.publish({ topics: ['t'], id: '#x' }), (err) =>
      isSseHubError(err, 'INVALID_ID'),
    );
    await assert.rejects(h.hub.publish({ topics: ['t'], retry: -1 }), (err) =>
      isSseHubError(err, 'INVALID_RETRY'),
    );
    await assert.rejects(h.hub.publish({ topics: ['/.well-known/mercure'] }), (err) =>
      isSseHubError(err, 'RESERVED_TOPIC'),
    );
  });

  it('rejects with SHUTTING_DOWN after shutdown', async () => {
    const other = await startHub();
    await other.close();
    assert.equal(other.hub.accepting, false);
    await assert.rejects(other.hub.publish({ topics: ['t'] }), (err) =>
      isSseHubError(err, 'SHUTTING_DOWN'),
    );
  });
});

describe('the reserved namespace follows the hub path', () => {
  let h: RunningHub;
  let hubUrl: string;
  let auth: Record<string, string>;
  before(async () => {
    h = await startHub({ anonymous: true, path: '/hub', subscriptions: true });
    hubUrl = `${h.origin}/hub`;
    auth = { authorization: `Bearer ${await mintTestToken({ publish: ['*'] })}` };
  });
  after(() => h.close());

  for (const topic of [
    '/hub',
    '/hub/subscriptions/exact/t/urn:uuid:x',
    'https://elsewhere.example/hub/subscriptions/x',
    '/%68ub/subscriptions/x',
    '/a/../hub/x',
  ]) {
    it(`refuses a publish to ${topic} under a custom path (400 RESERVED_TOPIC)`, async () => {
      const res = await postForm(hubUrl, { topic, data: 'forged' }, auth);
      assert.equal(res.status, 400, res.body);
      assert.match(res.body, /reserved/);
      await assert.rejects(h.hub.publish({ topics: [topic] }), (err) =>
        isSseHubError(err, 'RESERVED_TOPIC'),
      );
    });
  }

  it('accepts topics outside the custom path, the default path among them', async () => {
    for (const topic of ['/hubs/x', '/.well-known/mercure/subscriptions/x', 'https://e.x/hub-a']) {
      const res = await postForm(hubUrl, { topic, data: 'x' }, auth);
      assert.equal(res.status, 200, `${topic}: ${res.body}`);
    }
  });

  it('resolves a relative topic against the hub URL', async () => {
    // Against the default hub URL `https://localhost/.well-known/mercure`, `mercure/…` is
    // `/.well-known/mercure/…`, and `subscriptions/…` is `/.well-known/subscriptions/…`.
    const plain = await startHub({});
    try {
      for (const topic of ['mercure/subscriptions/x', './mercure/../mercure/x']) {
        await assert.rejects(plain.hub.publish({ topics: [topic] }), (err) =>
          isSseHubError(err, 'RESERVED_TOPIC'),
        );
      }
      assert.match(await plain.hub.publish({ topics: ['subscriptions/x'] }), /^urn:uuid:/);
    } finally {
      await plain.close();
    }
    // On /hub, `hub/…` resolves to `/hub/…`.
    await assert.rejects(h.hub.publish({ topics: ['hub/subscriptions/x'] }), (err) =>
      isSseHubError(err, 'RESERVED_TOPIC'),
    );
  });

  it('reserves the public URL path too when a proxy rewrites it', async () => {
    const other = await startHub({ path: '/hub', publicUrl: 'https://example.com/mercure' });
    try {
      await assert.rejects(
        other.hub.publish({ topics: ['https://example.com/mercure/x'] }),
        (err) => isSseHubError(err, 'RESERVED_TOPIC'),
      );
      await assert.rejects(other.hub.publish({ topics: ['/hub/subscriptions/x'] }), (err) =>
        isSseHubError(err, 'RESERVED_TOPIC'),
      );
    } finally {
      await other.close();
    }
  });

  it('a hub at / keeps / and its subscriptions subtree', async () => {
    const root = await startHub({ path: '/' });
    try {
      for (const topic of ['/', 'https://e.x/', '/subscriptions/exact/t/s']) {
        await assert.rejects(root.hub.publish({ topics: [topic] }), (err) =>
          isSseHubError(err, 'RESERVED_TOPIC'),
        );
      }
      assert.match(await root.hub.publish({ topics: ['/books/1'] }), /^urn:uuid:/);
    } finally {
      await root.close();
    }
  });
});
