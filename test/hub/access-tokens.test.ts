// Current-spec (RFC 9068) access tokens against a real hub, next to draft-07 tokens: the rules of
// the "Token Validation" and "Authorization Details" sections, the protected resource metadata,
// and the `WWW-Authenticate` challenges.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, SignJWT } from 'jose';
import { mintToken } from '../../src/hub/auth/token.js';
import {
  getText,
  postForm,
  type RunningHub,
  startHub,
  TEST_SECRET,
} from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

const DETAIL = 'https://mercure.rocks/authorization-detail';
/** The defaults of a hub without `publicUrl`: resource identifier and trusted issuer. */
const AUD = 'https://localhost/.well-known/mercure';
const ISS = 'https://localhost';
const METADATA_URL = 'https://localhost/.well-known/oauth-protected-resource/.well-known/mercure';
const OTHER_SECRET = 'a-second-issuer-secret-long-enough-for-hs256';
/** The secret of upstream's conformance suite. */
const CONFORMANCE_SECRET = '!ChangeThisMercureHubJWTSecretKey!';

const now = () => Math.floor(Date.now() / 1000);

interface TokenOptions {
  header?: Record<string, unknown>;
  secret?: string;
}

/** Signs `payload` as is (no claim added): HS256, header `typ: at+jwt` unless overridden. */
function sign(payload: Record<string, unknown>, options: TokenOptions = {}): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...options.header } as { alg: string })
    .sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

/** A valid current-spec token with `details`, then `extra` merged over its claims. */
function access(details: unknown[], extra: Record<string, unknown> = {}, options?: TokenOptions) {
  const claims: Record<string, unknown> = {
    iss: ISS,
    aud: AUD,
    exp: now() + 3600,
    authorization_details: details,
    ...extra,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return sign(claims, options);
}

const publishAll = [{ type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] }];
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function publishWith(h: RunningHub, token: string) {
  return postForm(h.url, { topic: 'https://example.com/t', data: 'x' }, bearer(token));
}

describe('current-spec access tokens', () => {
  let h: RunningHub;
  before(async () => {
    h = await startHub({ anonymous: true });
  });
  after(() => h.close());

  it('accepts a valid token without sub, client_id, iat or jti', async () => {
    const res = await publishWith(h, await access(publishAll));
    assert.equal(res.status, 200, res.body);
  });

  it('ignores unknown actions: a token with one publishes', async () => {
    const token = await access([
      { type: DETAIL, actions: ['publish', 'frobnicate'], topics: [{ match: '*' }] },
    ]);
    assert.equal((await publishWith(h, token)).status, 200);
    // Only unknown actions: a valid token that grants nothing.
    const nothing = await access([
      { type: DETAIL, actions: ['frobnicate'], topics: [{ match: '*' }] },
    ]);
    const res = await publishWith(h, nothing);
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  });

  it('grants nothing for a detail of type "mercure" (the type is the URI, compared exactly)', async () => {
    const token = await access([
      { type: 'mercure', actions: ['publish'], topics: [{ match: '*' }] },
    ]);
    const res = await publishWith(h, token);
    assert.equal(res.status, 403);
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer realm="mercure", error="insufficient_scope", resource_metadata="${METADATA_URL}"`,
    );
  });

  it('refuses with 401 invalid_token: wrong typ, no exp, wrong aud, untrusted or missing iss', async () => {
    const cases: [string, Promise<string>][] = [
      ['typ JWT', access(publishAll, {}, { header: { typ: 'JWT' } })],
      [
        'no typ',
        sign(
          { iss: ISS, aud: AUD, exp: now() + 60, authorization_details: publishAll },
          { header: { typ: undefined } },
        ),
      ],
      ['no exp', access(publishAll, { exp: undefined })],
      ['expired', access(publishAll, { exp: now() - 60 })],
      ['wrong aud', access(publishAll, { aud: 'https://evil.example/.well-known/mercure' })],
      ['no aud', access(publishAll, { aud: undefined })],
      ['untrusted iss', access(publishAll, { iss: 'https://evil.example' })],
      ['no iss', access(publishAll, { iss: undefined })],
      [
        'matchType',
        access([
          { type: DETAIL, actions: ['publish'], topics: [{ match: '*', matchType: 'URLPattern' }] },
        ]),
      ],
      [
        'non-string action',
        access([{ type: DETAIL, actions: ['publish', 1], topics: [{ match: '*' }] }]),
      ],
    ];
    for (const [what, pending] of cases) {
      const res = await publishWith(h, await pending);
      assert.equal(res.status, 401, what);
      assert.equal(
        res.headers.get('www-authenticate'),
        `Bearer realm="mercure", error="invalid_token", resource_metadata="${METADATA_URL}"`,
        what,
      );
    }
  });

  it('accepts application/at+jwt in any case, and aud as an array', async () => {
    const typ = await access(publishAll, {}, { header: { typ: 'Application/AT+JWT' } });
    assert.equal((await publishWith(h, typ)).status, 200);
    const list = await access(publishAll, { aud: ['https://other.example', AUD] });
    assert.equal((await publishWith(h, list)).status, 200);
  });

  it('keeps draft-07 rules for mercure claim tokens: no typ, exp, aud or iss needed', async () => {
    const bare = await new SignJWT({ mercure: { publish: ['*'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(TEST_SECRET));
    assert.equal((await publishWith(h, bare)).status, 200);
  });

  it('accepts the Bearer scheme in any case', async () => {
    const token = await access(publishAll);
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const res = await postForm(
        h.url,
        { topic: 'https://example.com/t' },
        { authorization: `${scheme} ${token}` },
      );
      assert.equal(res.status, 200, `${scheme}: ${res.body}`);
    }
  });

  it('mints short-lived tokens by default (one hour) that the hub accepts, in both generations', async () => {
    for (const draft of ['07', '08'] as const) {
      const token = await mintToken({ publish: ['*'], draft }, { secret: TEST_SECRET });
      const claims = decodeJwt(token);
      assert.equal(claims.exp! - claims.iat!, 3600, draft);
      const res = await publishWith(h, token);
      assert.equal(res.status, 200, `${draft}: ${res.body}`);
    }
  });

  it('answers a malformed Bearer presentation with 400 invalid_request', async () => {
    for (const value of ['Bearer a b', 'Bearer', 'bearer   ', 'Bearer a,b']) {
      const res = await postForm(h.url, { topic: 'x' }, { authorization: value });
      assert.equal(res.status, 400, value);
      assert.equal(
        res.headers.get('www-authenticate'),
        `Bearer realm="mercure", error="invalid_request", resource_metadata="${METADATA_URL}"`,
        value,
      );
    }
    // Another scheme is not ours to judge: ignored, so the request is only missing a token.
    const basic = await postForm(h.url, { topic: 'x' }, { authorization: 'Basic dXNlcjpwYXNz' });
    assert.equal(basic.status, 401);
  });

  it('names the metadata in the no-token challenge too', async () => {
    const none = await postForm(h.url, { topic: 'x' });
    assert.equal(
      none.headers.get('www-authenticate'),
      `Bearer realm="mercure", resource_metadata="${METADATA_URL}"`,
    );
  });
});

describe('trusted issuers bound to their keys', () => {
  let h: RunningHub;
  before(async () => {
    h = await startHub({
      jwtIssuers: [{ issuer: ISS }, { issuer: 'https://idp.example', jwt: { key: OTHER_SECRET } }],
    });
  });
  after(() => h.close());

  it("verifies a token with its issuer's keys only", async () => {
    const idp = { iss: 'https://idp.example' };
    assert.equal(
      (await publishWith(h, await access(publishAll, idp, { secret: OTHER_SECRET }))).status,
      200,
    );
    assert.equal((await publishWith(h, await access(publishAll))).status, 200);
    // Issuer A's identity with issuer B's key, both ways: 401.
    assert.equal((await publishWith(h, await access(publishAll, idp))).status, 401);
    assert.equal(
      (await publishWith(h, await access(publishAll, {}, { secret: OTHER_SECRET }))).status,
      401,
    );
  });
});

describe('upstream conformance tokens', () => {
  let h: RunningHub;
  before(async () => {
    h = await startHub({ jwt: { key: CONFORMANCE_SECRET }, publicUrl: AUD });
  });
  after(() => h.close());

  it('accepts the newest suite token (at+jwt, iss https://localhost, no sub/iat/jti)', async () => {
    const token = await sign(
      {
        aud: 'https://localhost/.well-known/mercure',
        iss: 'https://localhost',
        authorization_details: [
          { type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] },
          { type: DETAIL, actions: ['subscribe'], topics: [{ match: '*' }] },
        ],
        exp: 4102444800,
      },
      { secret: CONFORMANCE_SECRET },
    );
    assert.equal((await publishWith(h, token)).status, 200);
    const sub = await openSse(`${h.url}?match=*`, { headers: bearer(token) });
    sub.close();
  });

  it('accepts the v0.24.2 suite token (draft 07, no typ/exp/aud/iss)', async () => {
    const token = await new SignJWT({ mercure: { publish: ['*'], subscribe: ['*'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(CONFORMANCE_SECRET));
    assert.equal((await publishWith(h, token)).status, 200);
    const sub = await openSse(`${h.url}?topic=*`, { headers: bearer(token) });
    sub.close();
  });
});

describe('protected resource metadata', () => {
  let h: RunningHub;
  before(async () => {
    h = await startHub({
      subscriptions: true,
      corsOrigins: ['https://app.example.com'],
      publicUrl: 'https://hub.example.com/.well-known/mercure',
      jwtIssuers: [{ issuer: 'https://app.example.com' }],
      authorizationServers: ['https://app.example.com'],
    });
  });
  after(() => h.close());

  it('serves RFC 9728 metadata with the mercure_* members, without a token', async () => {
    const res = await getText(
      `${h.origin}/.well-known/oauth-protected-resource/.well-known/mercure`,
      {
        origin: 'https://app.example.com',
      },
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    assert.deepEqual(JSON.parse(res.body), {
      resource: 'https://hub.example.com/.well-known/mercure',
      authorization_servers: ['https://app.example.com'],
      bearer_methods_supported: ['header'],
      authorization_details_types_supported: [DETAIL],
      mercure_cookie: '__Secure-mercure_access_token',
      mercure_subscriptions: true,
    });
    const post = await postForm(
      `${h.origin}/.well-known/oauth-protected-resource/.well-known/mercure`,
      {},
    );
    assert.equal(post.status, 405);
  });

  it('builds resource_metadata from the resource identifier, never from Host', async () => {
    const res = await postForm(h.url, { topic: 'x' });
    assert.equal(
      res.headers.get('www-authenticate'),
      'Bearer realm="mercure", resource_metadata="https://hub.example.com/.well-known/oauth-protected-resource/.well-known/mercure"',
    );
  });

  it('names a configured jwtAudience as resource, and omits what is not configured', async () => {
    const other = await startHub({ jwtAudience: 'https://api.example.com/mercure' });
    try {
      const res = await getText(
        `${other.origin}/.well-known/oauth-protected-resource/.well-known/mercure`,
      );
      assert.deepEqual(JSON.parse(res.body), {
        resource: 'https://api.example.com/mercure',
        bearer_methods_supported: ['header'],
        authorization_details_types_supported: [DETAIL],
        mercure_cookie: '__Secure-mercure_access_token',
      });
      // Also served at the path derived from the resource identifier.
      const derived = await getText(`${other.origin}/.well-known/oauth-protected-resource/mercure`);
      assert.equal(derived.status, 200);
      // aud is checked against it.
      const token = await access(publishAll, { aud: 'https://api.example.com/mercure' });
      assert.equal((await publishWith(other, token)).status, 200);
      assert.equal((await publishWith(other, await access(publishAll))).status, 401);
    } finally {
      await other.close();
    }
  });
});

describe('per-subscribe-detail payload', () => {
  let h: RunningHub;
  const open: SseConnection[] = [];
  before(async () => {
    h = await startHub({ subscriptions: true });
  });
  after(async () => {
    for (const c of open) c.close();
    await h.close();
  });

  it('puts the payload of the first matching subscribe detail in each subscription document', async () => {
    const token = await access([
      {
        type: DETAIL,
        actions: ['subscribe'],
        topics: [{ match: 'https://example.com/foo' }],
        payload: { p: 'foo' },
      },
      {
        type: DETAIL,
        actions: ['subscribe'],
        topics: [{ match: 'https://example.com/bar/:id', match_type: 'urlpattern' }],
        payload: { p: 'bar' },
      },
      { type: DETAIL, actions: ['subscribe'], topics: [{ match: '*' }], payload: { p: 'default' } },
    ]);
    const url = new URL(h.url);
    url.searchParams.append('match', 'https://example.com/foo');
    url.searchParams.append('match_urlpattern', 'https://example.com/bar/:id');
    url.searchParams.append('match_urlpattern', 'https://example.com/baz/:id');
    open.push(await openSse(url.toString(), { headers: bearer(token) }));
    const reader = await access([
      { type: DETAIL, actions: ['subscribe'], topics: [{ match: '*' }] },
    ]);
    const list = await getText(`${h.url}/subscriptions`, bearer(reader));
    assert.equal(list.status, 200, list.body);
    const docs = JSON.parse(list.body).subscriptions as Record<string, unknown>[];
    const payloadOf = (selector: string) =>
      docs.find((d) => (d.match ?? d.topic) === selector)?.payload;
    assert.deepEqual(payloadOf('https://example.com/foo'), { p: 'foo' });
    assert.deepEqual(payloadOf('https://example.com/bar/:id'), { p: 'bar' });
    assert.deepEqual(payloadOf('https://example.com/baz/:id'), { p: 'default' });
  });
});
