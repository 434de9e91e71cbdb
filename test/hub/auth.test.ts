import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  capturingLogger,
  getText,
  mintTestToken,
  postForm,
  publishOk,
  type RunningHub,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { openSse } from '../helpers/sse-client.js';

const BOOKS = 'https://example.com/books/{id}';
/** The no-token challenge of a hub with the default public URL. */
const CHALLENGE =
  'Bearer realm="mercure", resource_metadata="https://localhost/.well-known/oauth-protected-resource/.well-known/mercure"';

describe('publish authorization', () => {
  let h: RunningHub;
  let logs: string[];
  before(async () => {
    const { logger, lines } = capturingLogger();
    logs = lines;
    h = await startHub({
      logger,
      anonymous: true,
      corsOrigins: ['https://app.example.com'],
    });
  });
  after(() => h.close());

  it('answers 401 with a Bearer challenge without a token', async () => {
    const res = await postForm(h.url, { topic: 'https://example.com/books/1' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), CHALLENGE);
    assert.match(res.body, /A valid token is required/);
  });

  it('answers 401 invalid_token for a forged token, without echoing it', async () => {
    const forged = await mintTestToken({
      publish: ['*'],
      secret: 'not-the-hub-secret-but-long-enough-x',
    });
    const res = await postForm(h.url, { topic: 'x' }, { authorization: `Bearer ${forged}` });
    assert.equal(res.status, 401);
    assert.match(
      res.headers.get('www-authenticate') ?? '',
      /^Bearer realm="mercure", error="invalid_token"/,
    );
    assert.ok(!res.body.includes(forged));
    assert.ok(!res.body.includes(forged.split('.')[1]!));
  });

  it('answers 401 invalid_token for garbage and for an expired token', async () => {
    const garbage = await postForm(h.url, { topic: 'x' }, { authorization: 'Bearer not.a.jwt' });
    assert.equal(garbage.status, 401);
    assert.match(garbage.headers.get('www-authenticate') ?? '', /invalid_token/);
    const expired = await mintTestToken({ publish: ['*'], expiresIn: -60 });
    const res = await postForm(h.url, { topic: 'x' }, { authorization: `Bearer ${expired}` });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.ok(!res.body.includes(expired));
  });

  it('answers 403 unless every topic matches a publish selector', async () => {
    const token = await mintTestToken({ publish: [BOOKS] });
    const auth = { authorization: `Bearer ${token}` };
    assert.equal(
      (await postForm(h.url, { topic: 'https://example.com/books/1' }, auth)).status,
      200,
    );
    const outside = await postForm(h.url, { topic: 'https://example.com/authors/1' }, auth);
    assert.equal(outside.status, 403);
    assert.match(outside.body, /does not allow/);
    const mixed = await postForm(
      h.url,
      { topic: ['https://example.com/books/1', 'https://example.com/authors/1'] },
      auth,
    );
    assert.equal(mixed.status, 403);
    const subscriberOnly = await mintTestToken({ subscribe: ['*'] });
    const none = await postForm(
      h.url,
      { topic: 'https://example.com/books/1' },
      { authorization: `Bearer ${subscriberOnly}` },
    );
    assert.equal(none.status, 403);
  });

  it('accepts the mercureAuthorization cookie from an allowed Origin only', async () => {
    const token = await mintTestToken({ publish: ['*'] });
    const cookie = { cookie: `theme=dark; mercureAuthorization=${token}` };
    const fromApp = await postForm(
      h.url,
      { topic: 't' },
      { ...cookie, origin: 'https://app.example.com' },
    );
    assert.equal(fromApp.status, 200);
    const viaReferer = await postForm(
      h.url,
      { topic: 't' },
      { ...cookie, referer: 'https://app.example.com/page?x=1' },
    );
    assert.equal(viaReferer.status, 200);
    const evil = await postForm(
      h.url,
      { topic: 't' },
      { ...cookie, origin: 'https://evil.example' },
    );
    assert.equal(evil.status, 403);
    assert.match(evil.body, /origin is not allowed/);
    const noOrigin = await postForm(h.url, { topic: 't' }, cookie);
    assert.equal(noOrigin.status, 403);
    // A bearer header needs no Origin: it cannot be sent by a cross-site form.
    const header = await postForm(
      h.url,
      { topic: 't' },
      { authorization: `Bearer ${token}`, origin: 'https://evil.example' },
    );
    assert.equal(header.status, 200);
  });

  it('accepts the draft 08 cookie name', async () => {
    const token = await mintTestToken({ publish: ['*'] });
    const res = await postForm(
      h.url,
      { topic: 't' },
      { cookie: `__Secure-mercure_access_token=${token}`, origin: 'https://app.example.com' },
    );
    assert.equal(res.status, 200);
  });

  it('ignores the query token unless allowQueryToken is on', async () => {
    const token = await mintTestToken({ publish: ['*'] });
    const res = await postForm(`${h.url}?authorization=${token}`, { topic: 't' });
    assert.equal(res.status, 401);
  });

  it('never writes a token to the logs', async () => {
    const token = await mintTestToken({ publish: ['*'], subscribe: ['*'] });
    await postForm(h.url, { topic: 'logged' }, { authorization: `Bearer ${token}` });
    const conn = await openSse(subscribeUrl(h.url, ['logged']), {
      headers: { authorization: `Bearer ${token}` },
    });
    conn.close();
    await postForm(h.url, { topic: 'x' }, { authorization: `Bearer ${token}x` });
    const publishLines = logs.filter((l) => l.includes('"event":"publish"'));
    assert.ok(
      publishLines.some((l) => l.includes('"topic":"logged"')),
      'one line per publish',
    );
    const signature = token.split('.')[2]!;
    for (const line of logs) {
      assert.ok(!line.includes(signature), `a token in the log: ${line}`);
    }
  });
});

describe('cookie publishes with corsOrigins *', () => {
  let h: RunningHub;
  before(async () => {
    h = await startHub({ anonymous: true, corsOrigins: ['*'] });
  });
  after(() => h.close());

  it('still refuses a cookie-authenticated publish from any unlisted origin (403)', async () => {
    const token = await mintTestToken({ publish: ['*'] });
    const res = await postForm(
      h.url,
      { topic: 't' },
      { cookie: `mercureAuthorization=${token}`, origin: 'https://evil.example' },
    );
    assert.equal(res.status, 403);
    assert.match(res.body, /origin is not allowed/);
    // A bearer header is not sent by a cross-site form, so the Origin does not matter.
    const header = await postForm(
      h.url,
      { topic: 't' },
      { authorization: `Bearer ${token}`, origin: 'https://evil.example' },
    );
    assert.equal(header.status, 200);
  });
});

describe('subscribe authorization', () => {
  let closed: RunningHub;
  let queryHub: RunningHub;
  before(async () => {
    closed = await startHub();
    queryHub = await startHub({ allowQueryToken: true });
  });
  after(async () => {
    await closed.close();
    await queryHub.close();
  });

  it('refuses anonymous subscribers by default with 401 and a challenge', async () => {
    const res = await getText(subscribeUrl(closed.url, ['t']));
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), CHALLENGE);
  });

  it('accepts a subscriber token from the header and the cookie', async () => {
    const token = await mintTestToken({ subscribe: ['https://example.com/x'] });
    const header = await openSse(subscribeUrl(closed.url, ['*']), {
      headers: { authorization: `Bearer ${token}` },
    });
    const cookie = await openSse(subscribeUrl(closed.url, ['*']), {
      headers: { cookie: `mercureAuthorization=${token}` },
    });
    // Subscribing to any topic is allowed; the token only gates private updates.
    assert.equal(header.status, 200);
    assert.equal(cookie.status, 200);
    header.close();
    cookie.close();
  });

  it('uses the Authorization header and ignores the cookie when both are sent, and the cookie when alone', async () => {
    const good = await mintTestToken({ subscribe: ['*'] });
    const forged = await mintTestToken({ subscribe: ['*'], secret: 'x'.repeat(40) });
    const headerWins = await openSse(subscribeUrl(closed.url, ['t']), {
      headers: { authorization: `Bearer ${good}`, cookie: `mercureAuthorization=${forged}` },
    });
    headerWins.close();
    assert.equal(headerWins.status, 200);
    // A bad header is not rescued by a good cookie: the cookie is ignored, not a fallback.
    const noFallback = await getText(subscribeUrl(closed.url, ['t']), {
      authorization: `Bearer ${forged}`,
      cookie: `mercureAuthorization=${good}; __Secure-mercure_access_token=${good}`,
    });
    assert.equal(noFallback.status, 401);
    assert.match(noFallback.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const cookieOnly = await openSse(subscribeUrl(closed.url, ['t']), {
      headers: { cookie: `__Secure-mercure_access_token=${good}` },
    });
    cookieOnly.close();
    assert.equal(cookieOnly.status, 200);
  });

  it('refuses expired and forged subscriber tokens with 401 invalid_token', async () => {
    const expired = await mintTestToken({ subscribe: ['*'], expiresIn: -10 });
    const res = await getText(subscribeUrl(closed.url, ['t']), {
      authorization: `Bearer ${expired}`,
    });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.ok(!res.body.includes(expired));
    const forged = await mintTestToken({ subscribe: ['*'], secret: 'x'.repeat(40) });
    const bad = await getText(subscribeUrl(closed.url, ['t']), {
      cookie: `mercureAuthorization=${forged}`,
    });
    assert.equal(bad.status, 401);
  });

  it('reads the authorization query parameter only when allowQueryToken is on', async () => {
    const token = await mintTestToken({ subscribe: ['*'] });
    const off = await getText(subscribeUrl(closed.url, ['t'], { authorization: token }));
    assert.equal(off.status, 401);
    const on = await openSse(subscribeUrl(queryHub.url, ['t'], { authorization: token }));
    assert.equal(on.status, 200);
    // A response to a URL holding a token must not be cached by shared caches.
    assert.match(String(on.headers['cache-control']), /private/);
    on.close();
    // RFC 6750's access_token is not part of the current spec: never read, even when on.
    const rfc = await getText(subscribeUrl(queryHub.url, ['t'], { access_token: token }));
    assert.equal(rfc.status, 401);
  });

  it('delivers over a cookie-authenticated stream', async () => {
    const token = await mintTestToken({ subscribe: ['https://example.com/c'] });
    const conn = await openSse(subscribeUrl(closed.url, ['https://example.com/c']), {
      headers: { cookie: `mercureAuthorization=${token}` },
    });
    try {
      await publishOk(closed.url, {
        topic: 'https://example.com/c',
        data: 'via cookie',
        private: 'on',
      });
      assert.equal((await conn.waitForEvents(1))[0]!.data, 'via cookie');
    } finally {
      conn.close();
    }
  });
});

describe('cookieName', () => {
  let custom: RunningHub;
  let standard: RunningHub;
  before(async () => {
    custom = await startHub({ cookieName: 'hub_a_token' });
    standard = await startHub();
  });
  after(async () => {
    await custom.close();
    await standard.close();
  });

  async function status(h: RunningHub, cookie: string): Promise<number> {
    const conn = await openSse(subscribeUrl(h.url, ['t']), { headers: { cookie } });
    conn.close();
    return conn.status;
  }

  it('reads the configured cookie and draft 07 mercureAuthorization, not the other defaults', async () => {
    const token = await mintTestToken({ subscribe: ['*'] });
    assert.equal(await status(custom, `other=1; hub_a_token=${token}`), 200);
    assert.equal(await status(custom, `mercureAuthorization=${token}`), 200);
    assert.equal(await status(custom, `__Secure-mercure_access_token=${token}`), 401);
    assert.equal(await status(custom, `mercureAccessToken=${token}`), 401);
  });

  it('by default reads mercureAuthorization, __Secure-mercure_access_token and mercureAccessToken', async () => {
    const token = await mintTestToken({ subscribe: ['*'] });
    for (const name of [
      'mercureAuthorization',
      '__Secure-mercure_access_token',
      'mercureAccessToken',
    ]) {
      assert.equal(await status(standard, `${name}=${token}`), 200, name);
    }
    assert.equal(await status(standard, `hub_a_token=${token}`), 401);
  });

  it('is advertised as mercure_cookie in the protected resource metadata', async () => {
    const path = '/.well-known/oauth-protected-resource/.well-known/mercure';
    const a = JSON.parse((await getText(`${custom.origin}${path}`)).body);
    assert.equal(a.mercure_cookie, 'hub_a_token');
    const b = JSON.parse((await getText(`${standard.origin}${path}`)).body);
    assert.equal(b.mercure_cookie, '__Secure-mercure_access_token');
  });

  it('must be a cookie name (INVALID_OPTION)', async () => {
    for (const bad of ['', 'a b', 'a;b', 'a=b', 'é', 42]) {
      await assert.rejects(startHub({ cookieName: bad as string }), /cookieName/, String(bad));
    }
  });
});
