import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { base64url, decodeJwt, decodeProtectedHeader, exportJWK, SignJWT } from 'jose';
import { type ErrorCode, isSseHubError, type SseHubError } from '../../src/errors.js';
import { createAuthorizer, DEFAULT_MAX_TOKEN_LENGTH } from '../../src/hub/auth/authorizer.js';
import { payloadFor } from '../../src/hub/auth/claims.js';
import { mintToken } from '../../src/hub/auth/token.js';
import type { Claims } from '../../src/hub/types.js';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes!';
const OTHER_SECRET = 'another-secret-of-at-least-thirty-two-bytes';

function pemPair(
  type: 'rsa' | 'ec' | 'ed25519',
  options: { modulusLength?: number; namedCurve?: string } = {},
) {
  // The overloads of generateKeyPairSync are per key type; this helper only needs PEM strings.
  const generate = generateKeyPairSync as unknown as (
    t: string,
    o: object,
  ) => { publicKey: string; privateKey: string };
  return generate(type, {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

const RSA = pemPair('rsa', { modulusLength: 2048 });
const RSA_OTHER = pemPair('rsa', { modulusLength: 2048 });
const EC = pemPair('ec', { namedCurve: 'P-256' });
const ED = pemPair('ed25519');

/** Awaits a rejection with `code`, and checks that nothing in the error repeats the token. */
async function rejects(
  promise: Promise<unknown>,
  code: ErrorCode,
  token?: string,
): Promise<SseHubError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected ${code}, got a result`),
    (err) => {
      caught = err;
    },
  );
  assert.ok(isSseHubError(caught, code), `expected ${code}, got ${String(caught)}`);
  if (token !== undefined) {
    const text = `${caught.message} ${caught.detail ?? ''} ${caught.stack ?? ''}`;
    assert.ok(!text.includes(token), 'the error repeats the token');
    for (const part of token.split('.').filter((p) => p.length >= 8)) {
      assert.ok(!text.includes(part), 'the error repeats part of the token');
    }
  }
  return caught;
}

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err) => isSseHubError(err, code), `expected ${code}`);
}

/** A self-signed P-256 test certificate (openssl req -x509) and its key: throwaway test data. */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBhDCCASmgAwIBAgIUY4iPTgZopclMb/qr/EICmoABFpowCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLc3NlaHViIHRlc3QwIBcNMjYxMTIzMjAzNzQwWhgPMjEyNjEw
MzAyMDM3NDBaMBYxFDASBgNVBAMMC3NzZWh1YiB0ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEgAmdO9Hx2VRH99lB+cksUJo3uyEwC2uHs9d8oDOZLEhvFmsA
Z130MiyjyaEcTwkTklgla9KdjaxHJTeRPZGMRqNTMFEwHQYDVR0OBBYEFMLTJ7XP
zLrr266q6H4hwENM87/wMB8GA1UdIwQYMBaAFMLTJ7XPzLrr266q6H4hwENM87/w
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhALSHihHaL/2k8vzx
4twvRpAqwARcAbd2+HVnkdsX6ea9AiEAp36EJUEwut6oPV8srB40dDWdbfLgNDO6
P6hGe2UlUEE=
-----END CERTIFICATE-----`;
const CERT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWPr7YERy/C3q7qs6
Xa+1mD7biB5hzg8b0QEj0E7Cm06hRANCAASACZ070fHZVEf32UH5ySxQmje7ITAL
a4ez13ygM5ksSG8WawBnXfQyLKPJoRxPCROSWCVr0p2NrEclN5E9kYxG
-----END PRIVATE KEY-----`;

const now = () => Math.floor(Date.now() / 1000);

/** Signs arbitrary claims (for shapes mintToken does not produce). */
function sign(payload: Record<string, unknown>, secret = SECRET, alg = 'HS256'): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg })
    .setExpirationTime(now() + 3600)
    .sign(new TextEncoder().encode(secret));
}

const matches = (claims: Claims, action: 'publish' | 'subscribe', topic: string) =>
  (action === 'publish' ? claims.publishMatchers : claims.subscribeMatchers)?.some((m) =>
    m.matches(topic),
  ) ?? false;

describe('HMAC keys', () => {
  const authorizer = createAuthorizer({ key: SECRET });

  it('accepts a good HS256 token and returns its draft-07 claims and exp', async () => {
    const token = await mintToken(
      {
        publish: ['https://example.com/books/{id}'],
        subscribe: ['*'],
        payload: { user: 'https://example.com/users/1' },
      },
      { secret: SECRET },
    );
    const claims = await authorizer.verify(token, 'publisher');
    assert.deepEqual(claims.publish, ['https://example.com/books/{id}']);
    assert.deepEqual(claims.subscribe, ['*']);
    assert.deepEqual(claims.payload, { user: 'https://example.com/users/1' });
    assert.equal(claims.exp, decodeJwt(token).exp);
    assert.ok(typeof claims.exp === 'number' && claims.exp > now());
    assert.equal(matches(claims, 'publish', 'https://example.com/books/1'), true);
    assert.equal(matches(claims, 'publish', 'https://example.com/authors/1'), false);
    assert.equal(matches(claims, 'subscribe', 'anything'), true);
  });

  it('accepts HS384 and HS512 by default, and honours an explicit allow-list', async () => {
    for (const alg of ['HS384', 'HS512']) {
      const token = await mintToken({ publish: ['a'] }, { secret: SECRET, alg });
      assert.deepEqual((await authorizer.verify(token, 'publisher')).publish, ['a']);
    }
    const only256 = createAuthorizer({ key: SECRET, algorithms: ['HS256'] });
    const token = await mintToken({ publish: ['a'] }, { secret: SECRET, alg: 'HS512' });
    await rejects(only256.verify(token, 'publisher'), 'INVALID_TOKEN', token);
  });

  it('refuses a token signed with another secret, or tampered with', async () => {
    const forged = await mintToken({ publish: ['*'] }, { secret: OTHER_SECRET });
    await rejects(authorizer.verify(forged, 'publisher'), 'INVALID_TOKEN', forged);

    const good = await mintToken({ publish: ['https://example.com/a'] }, { secret: SECRET });
    const [header, , signature] = good.split('.');
    const payload = base64url.encode(JSON.stringify({ mercure: { publish: ['*'] } }));
    const tampered = `${header}.${payload}.${signature}`;
    await rejects(authorizer.verify(tampered, 'publisher'), 'INVALID_TOKEN', tampered);
  });

  it('refuses an expired token with TOKEN_EXPIRED, within a small clock tolerance', async () => {
    const expired = await mintToken({ publish: ['*'], expiresIn: -60 }, { secret: SECRET });
    await rejects(authorizer.verify(expired, 'publisher'), 'TOKEN_EXPIRED', expired);

    // Expired two seconds ago: inside the default 5 s tolerance, outside a zero tolerance.
    const justExpired = await mintToken({ publish: ['*'], expiresIn: -2 }, { secret: SECRET });
    assert.deepEqual((await authorizer.verify(justExpired, 'publisher')).publish, ['*']);
    const strict = createAuthorizer({ key: SECRET, clockToleranceSec: 0 });
    await rejects(strict.verify(justExpired, 'publisher'), 'TOKEN_EXPIRED', justExpired);
  });

  it('refuses unsigned (alg none) tokens', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(
      JSON.stringify({ mercure: { publish: ['*'] }, exp: now() + 3600 }),
    );
    for (const token of [`${header}.${payload}.`, `${header}.${payload}`]) {
      await rejects(authorizer.verify(token, 'publisher'), 'INVALID_TOKEN', token);
    }
    throwsCode(() => createAuthorizer({ key: SECRET, algorithms: ['none'] }), 'INVALID_CONFIG');
    await rejects(mintToken({}, { secret: SECRET, alg: 'none' }), 'INVALID_OPTION');
  });

  it('refuses malformed tokens and over-long ones', async () => {
    for (const token of ['', 'abc', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30', '....']) {
      await rejects(authorizer.verify(token, 'publisher'), 'INVALID_TOKEN', token || undefined);
    }
    await rejects(authorizer.verify(undefined as unknown as string, 'publisher'), 'INVALID_TOKEN');
    const huge = `${'a'.repeat(DEFAULT_MAX_TOKEN_LENGTH)}.b.c`;
    const err = await rejects(authorizer.verify(huge, 'publisher'), 'INVALID_TOKEN');
    assert.match(err.detail ?? '', /limit/);
  });
});

describe('asymmetric keys (PEM)', () => {
  const cases = [
    { name: 'RS256', pair: RSA, alg: 'RS256' },
    { name: 'PS256', pair: RSA, alg: 'PS256' },
    { name: 'ES256', pair: EC, alg: 'ES256' },
    { name: 'EdDSA', pair: ED, alg: 'EdDSA' },
  ];
  for (const { name, pair, alg } of cases) {
    it(`verifies ${name} tokens with the public key`, async () => {
      const authorizer = createAuthorizer({ key: pair.publicKey });
      const token = await mintToken(
        { subscribe: ['https://example.com/{id}'] },
        {
          privateKey: pair.privateKey,
          alg,
        },
      );
      assert.equal(decodeProtectedHeader(token).alg, alg);
      const claims = await authorizer.verify(token, 'subscriber');
      assert.deepEqual(claims.subscribe, ['https://example.com/{id}']);
    });
  }

  it('picks a default algorithm from the private key', async () => {
    for (const [pair, alg] of [
      [RSA, 'RS256'],
      [EC, 'ES256'],
      [ED, 'EdDSA'],
    ] as const) {
      const token = await mintToken({ publish: ['a'] }, { privateKey: pair.privateKey });
      assert.equal(decodeProtectedHeader(token).alg, alg);
    }
  });

  it('refuses tokens signed by another key or with an algorithm that does not fit the key', async () => {
    const authorizer = createAuthorizer({ key: RSA.publicKey });
    const otherKey = await mintToken({ publish: ['*'] }, { privateKey: RSA_OTHER.privateKey });
    await rejects(authorizer.verify(otherKey, 'publisher'), 'INVALID_TOKEN', otherKey);
    const ec = await mintToken({ publish: ['*'] }, { privateKey: EC.privateKey });
    await rejects(authorizer.verify(ec, 'publisher'), 'INVALID_TOKEN', ec);
    const rsOnly = createAuthorizer({ key: RSA.publicKey, algorithms: ['RS256'] });
    const ps = await mintToken({ publish: ['*'] }, { privateKey: RSA.privateKey, alg: 'PS256' });
    await rejects(rsOnly.verify(ps, 'publisher'), 'INVALID_TOKEN', ps);
  });

  it('never uses a PEM as an HMAC secret (algorithm confusion)', async () => {
    const authorizer = createAuthorizer({ key: RSA.publicKey });
    // The classic attack: sign HS256 with the public key's text as the secret.
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const forged = await sign({ mercure: { publish: ['*'] } }, RSA.publicKey, alg);
      await rejects(authorizer.verify(forged, 'publisher'), 'INVALID_TOKEN', forged);
    }
    throwsCode(
      () => createAuthorizer({ key: RSA.publicKey, algorithms: ['HS256'] }),
      'INVALID_CONFIG',
    );
    throwsCode(() => createAuthorizer({ key: SECRET, algorithms: ['RS256'] }), 'INVALID_CONFIG');
    throwsCode(
      () => createAuthorizer({ key: EC.publicKey, algorithms: ['RS256'] }),
      'INVALID_CONFIG',
    );
  });

  it('verifies with the public key of an X.509 certificate', async () => {
    const authorizer = createAuthorizer({ key: CERT });
    const token = await mintToken({ publish: ['a'] }, { privateKey: CERT_KEY });
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
    assert.deepEqual((await authorizer.verify(token, 'publisher')).publish, ['a']);
    const other = await mintToken({ publish: ['a'] }, { privateKey: EC.privateKey });
    await rejects(authorizer.verify(other, 'publisher'), 'INVALID_TOKEN', other);
  });

  it('accepts a PKCS#1 RSA public key and refuses a private key or garbage as verification key', async () => {
    const pkcs1 = createPublicKey(RSA.publicKey)
      .export({ type: 'pkcs1', format: 'pem' })
      .toString();
    const authorizer = createAuthorizer({ key: pkcs1 });
    const token = await mintToken({ publish: ['a'] }, { privateKey: RSA.privateKey });
    assert.deepEqual((await authorizer.verify(token, 'publisher')).publish, ['a']);
    throwsCode(() => createAuthorizer({ key: RSA.privateKey }), 'INVALID_CONFIG');
    throwsCode(
      () => createAuthorizer({ key: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }),
      'INVALID_CONFIG',
    );
  });
});

describe('JWKS URL', () => {
  let server: Server;
  let url: string;
  let requests = 0;

  before(async () => {
    const jwk = await exportJWK(createPublicKey(EC.publicKey));
    const body = JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg: 'ES256', use: 'sig' }] });
    server = createServer((req, res) => {
      requests++;
      if (req.url !== '/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('verifies tokens with a key fetched from the JWKS', async () => {
    const authorizer = createAuthorizer({ jwksUrl: `${url}/jwks.json` });
    const token = await mintToken(
      { publish: ['https://example.com/a'] },
      {
        privateKey: EC.privateKey,
      },
    );
    const claims = await authorizer.verify(token, 'publisher');
    assert.deepEqual(claims.publish, ['https://example.com/a']);
    assert.ok(requests >= 1);
    const forged = await mintToken({ publish: ['*'] }, { privateKey: RSA.privateKey });
    await rejects(authorizer.verify(forged, 'publisher'), 'INVALID_TOKEN', forged);
    const hmac = await mintToken({ publish: ['*'] }, { secret: SECRET });
    await rejects(authorizer.verify(hmac, 'publisher'), 'INVALID_TOKEN', hmac);
  });

  it('fails with INVALID_TOKEN when the JWKS cannot be fetched', async () => {
    const authorizer = createAuthorizer({ jwksUrl: `${url}/missing.json` });
    const token = await mintToken({ publish: ['*'] }, { privateKey: EC.privateKey });
    await rejects(authorizer.verify(token, 'publisher'), 'INVALID_TOKEN', token);
  });

  it('refuses HMAC algorithms and bad URLs for a JWKS', () => {
    throwsCode(
      () => createAuthorizer({ jwksUrl: `${url}/jwks.json`, algorithms: ['HS256'] }),
      'INVALID_CONFIG',
    );
    throwsCode(() => createAuthorizer({ jwksUrl: 'not a url' }), 'INVALID_CONFIG');
    throwsCode(() => createAuthorizer({ jwksUrl: 'file:///etc/passwd' }), 'INVALID_CONFIG');
    throwsCode(
      () => createAuthorizer({ key: SECRET, jwksUrl: `${url}/jwks.json` }),
      'INVALID_CONFIG',
    );
  });
});

const DETAIL = 'https://mercure.rocks/authorization-detail';
const HUB = 'https://hub.example.com/.well-known/mercure';
const ISSUER = 'https://app.example.com';

/** A current-spec access token: typ at+jwt, iss, aud, exp (drop a claim with `undefined`, the typ with `null`). */
function signCurrent(
  claims: Record<string, unknown>,
  { secret = SECRET, typ = 'at+jwt' as string | null } = {},
): Promise<string> {
  const payload: Record<string, unknown> = { iss: ISSUER, aud: HUB, exp: now() + 3600, ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', ...(typ !== null && { typ }) })
    .sign(new TextEncoder().encode(secret));
}

describe('claim shapes', () => {
  const BASE = HUB;
  const authorizer = createAuthorizer({
    key: SECRET,
    baseURL: BASE,
    audience: HUB,
    issuers: [{ issuer: ISSUER }],
  });

  it('reads authorization_details: only Mercure details, each with its own payload', async () => {
    const token = await signCurrent({
      authorization_details: [
        { type: 'tenant', topics: 'acme', actions: { read: true } },
        {
          type: DETAIL,
          actions: ['publish'],
          topics: [{ match: 'https://example.com/books/:id', match_type: 'urlpattern' }],
        },
        {
          type: DETAIL,
          actions: ['subscribe', 'publish'],
          topics: [
            { match: 'https://example.com/{exact}' },
            { match: 'https://example.com/x', match_type: 'exact' },
          ],
          payload: { tenant: 'acme' },
        },
        {
          type: DETAIL,
          actions: ['subscribe'],
          topics: [{ match: '/.well-known/mercure/subscriptions/:a/:b', match_type: 'urlpattern' }],
          payload: { second: true },
        },
      ],
    });
    const claims = await authorizer.verify(token, 'subscriber');
    assert.deepEqual(claims.publish, [
      'https://example.com/books/:id',
      'https://example.com/{exact}',
      'https://example.com/x',
    ]);
    assert.deepEqual(claims.subscribe, [
      'https://example.com/{exact}',
      'https://example.com/x',
      '/.well-known/mercure/subscriptions/:a/:b',
    ]);
    assert.equal(claims.payload, undefined);
    assert.equal(claims.subscribePayloads?.length, 2);
    assert.deepEqual(payloadFor(claims, 'https://example.com/x'), { tenant: 'acme' });
    assert.deepEqual(payloadFor(claims, '/.well-known/mercure/subscriptions/x/y'), {
      second: true,
    });
    assert.equal(payloadFor(claims, 'https://example.com/other'), undefined);
    assert.equal(matches(claims, 'publish', 'https://example.com/books/42'), true);
    // Exact means exact, braces included: not a URI template.
    assert.equal(matches(claims, 'publish', 'https://example.com/{exact}'), true);
    assert.equal(matches(claims, 'publish', 'https://example.com/anything'), false);
    assert.equal(matches(claims, 'subscribe', 'https://example.com/books/42'), false);
    assert.equal(matches(claims, 'subscribe', '/.well-known/mercure/subscriptions/x/y'), true);
  });

  it('picks the payload of the first subscribe detail matching the subscription (spec example)', async () => {
    const token = await signCurrent({
      authorization_details: [
        {
          type: DETAIL,
          actions: ['subscribe'],
          topics: [{ match: 'https://example.com/foo' }],
          payload: { custom1: 1 },
        },
        {
          type: DETAIL,
          actions: ['subscribe'],
          topics: [{ match: 'https://example.com/bar/:id', match_type: 'urlpattern' }],
          payload: { custom2: 2 },
        },
        { type: DETAIL, actions: ['subscribe'], topics: [{ match: '*' }], payload: { custom3: 3 } },
      ],
    });
    const claims = await authorizer.verify(token, 'subscriber');
    assert.deepEqual(payloadFor(claims, 'https://example.com/foo'), { custom1: 1 });
    assert.deepEqual(payloadFor(claims, 'https://example.com/bar/:id'), { custom2: 2 });
    assert.deepEqual(payloadFor(claims, 'other'), { custom3: 3 });
  });

  it('ignores unknown actions: they grant nothing and do not invalidate the token', async () => {
    const token = await signCurrent({
      authorization_details: [
        { type: DETAIL, actions: ['publish', 'frobnicate'], topics: [{ match: 'a' }] },
        { type: DETAIL, actions: ['read'], topics: [{ match: '*' }] },
      ],
    });
    const claims = await authorizer.verify(token, 'publisher');
    assert.deepEqual(claims.publish, ['a']);
    assert.equal(claims.subscribe, undefined);
  });

  it('compares the detail type with the URI: a "mercure" detail grants nothing', async () => {
    const token = await signCurrent({
      authorization_details: [{ type: 'mercure', actions: ['publish'], topics: [{ match: '*' }] }],
    });
    const claims = await authorizer.verify(token, 'publisher');
    assert.equal(claims.publish, undefined);
    assert.equal(matches(claims, 'publish', 'x'), false);
  });

  it('ignores the mercure claim of a token that has authorization_details', async () => {
    const token = await signCurrent({
      mercure: { publish: ['https://example.com/a/{id}'], payload: 'legacy' },
      authorization_details: [{ type: DETAIL, actions: ['publish'], topics: [{ match: 'b' }] }],
    });
    const claims = await authorizer.verify(token, 'publisher');
    assert.deepEqual(claims.publish, ['b']);
    assert.equal(claims.payload, undefined);
  });

  it('validates authorization_details tokens as RFC 9068 access tokens', async () => {
    const details = [{ type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] }];
    const ok = await signCurrent({ authorization_details: details });
    assert.deepEqual((await authorizer.verify(ok, 'publisher')).publish, ['*']);
    const appTyp = await signCurrent(
      { authorization_details: details },
      { typ: 'Application/AT+JWT' },
    );
    assert.deepEqual((await authorizer.verify(appTyp, 'publisher')).publish, ['*']);
    const bad: [string, Promise<string>, RegExp][] = [
      ['typ JWT', signCurrent({ authorization_details: details }, { typ: 'JWT' }), /"typ"/],
      ['no typ', signCurrent({ authorization_details: details }, { typ: null }), /"typ"/],
      ['no exp', signCurrent({ authorization_details: details, exp: undefined }), /"exp"/],
      ['wrong aud', signCurrent({ authorization_details: details, aud: 'https://evil/' }), /"aud"/],
      ['no aud', signCurrent({ authorization_details: details, aud: undefined }), /"aud"/],
      [
        'untrusted iss',
        signCurrent({ authorization_details: details, iss: 'https://evil' }),
        /not a trusted issuer/,
      ],
      ['no iss', signCurrent({ authorization_details: details, iss: undefined }), /no "iss"/],
    ];
    for (const [what, pending, detail] of bad) {
      const token = await pending;
      const err = await rejects(authorizer.verify(token, 'publisher'), 'INVALID_TOKEN', token);
      assert.match(err.detail ?? '', detail, what);
    }
    // aud may be an array holding the resource identifier; sub, client_id, iat, jti are not needed.
    const list = await signCurrent({ authorization_details: details, aud: ['x', HUB] });
    assert.deepEqual((await authorizer.verify(list, 'publisher')).publish, ['*']);
  });

  it('keeps the draft-07 rules for mercure claim tokens: no typ, exp, aud or iss needed', async () => {
    const bare = await new SignJWT({ mercure: { publish: ['*'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET));
    assert.deepEqual((await authorizer.verify(bare, 'publisher')).publish, ['*']);
    const foreign = await new SignJWT({ mercure: { publish: ['*'] }, aud: 'x', iss: 'y' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(SECRET));
    assert.deepEqual((await authorizer.verify(foreign, 'publisher')).publish, ['*']);
  });

  it('verifies each issuer with its own keys only, never a pool', async () => {
    const two = createAuthorizer({
      key: SECRET,
      audience: HUB,
      issuers: [{ issuer: ISSUER }, { issuer: 'https://idp.example', key: OTHER_SECRET }],
    });
    const details = [{ type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] }];
    const fromIdp = await signCurrent(
      { authorization_details: details, iss: 'https://idp.example' },
      { secret: OTHER_SECRET },
    );
    assert.deepEqual((await two.verify(fromIdp, 'publisher')).publish, ['*']);
    // Issuer A's identity with issuer B's key, and the reverse: both refused.
    const forgedApp = await signCurrent(
      { authorization_details: details },
      { secret: OTHER_SECRET },
    );
    await rejects(two.verify(forgedApp, 'publisher'), 'INVALID_TOKEN', forgedApp);
    const forgedIdp = await signCurrent({
      authorization_details: details,
      iss: 'https://idp.example',
    });
    await rejects(two.verify(forgedIdp, 'publisher'), 'INVALID_TOKEN', forgedIdp);
    // Draft-07 tokens use the top-level keys, not an issuer's.
    const legacyIdp = await mintToken({ publish: ['*'] }, { secret: OTHER_SECRET });
    await rejects(two.verify(legacyIdp, 'publisher'), 'INVALID_TOKEN', legacyIdp);
    // Two issuers may not share the top-level keys, nor be listed twice.
    throwsCode(
      () => createAuthorizer({ key: SECRET, issuers: [{ issuer: 'a' }, { issuer: 'b' }] }),
      'INVALID_CONFIG',
    );
    throwsCode(
      () =>
        createAuthorizer({ key: SECRET, issuers: [{ issuer: 'a' }, { issuer: 'a', key: 'k' }] }),
      'INVALID_CONFIG',
    );
    throwsCode(() => createAuthorizer({ issuers: [{ issuer: 'a' }] }), 'INVALID_CONFIG');
  });

  it('refuses authorization_details tokens when no audience or issuer is configured', async () => {
    const bare = createAuthorizer({ key: SECRET });
    const token = await signCurrent({
      authorization_details: [{ type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] }],
    });
    await rejects(bare.verify(token, 'publisher'), 'INVALID_TOKEN', token);
  });

  it('reads the object form inside the draft-07 claim too', async () => {
    const token = await sign({
      mercure: { subscribe: ['a', { match: 'https://example.com/:id', match_type: 'urlpattern' }] },
    });
    const claims = await authorizer.verify(token, 'subscriber');
    assert.equal(matches(claims, 'subscribe', 'https://example.com/7'), true);
    assert.equal(matches(claims, 'subscribe', 'a'), true);
  });

  it('grants nothing without Mercure claims, and an empty list grants nothing', async () => {
    const none = await authorizer.verify(await sign({ sub: 'x' }), 'subscriber');
    assert.equal(none.publish, undefined);
    assert.equal(none.subscribe, undefined);
    const empty = await authorizer.verify(await sign({ mercure: { publish: [] } }), 'publisher');
    assert.deepEqual(empty.publish, []);
    assert.equal(matches(empty, 'publish', 'a'), false);
  });

  it('rejects the whole token when a Mercure claim is malformed', async () => {
    const legacy: Record<string, unknown>[] = [
      { mercure: 'everything' },
      { mercure: { publish: '*' } },
      { mercure: { publish: [42] } },
      { mercure: { subscribe: ['https://example.com/{'] } },
    ];
    const current: unknown[] = [
      { type: DETAIL },
      'mercure',
      [{ type: DETAIL, actions: [], topics: [{ match: '*' }] }],
      [{ type: DETAIL, actions: ['publish', 7], topics: [{ match: '*' }] }],
      [{ type: DETAIL, actions: ['read'], topics: [] }],
      [{ type: DETAIL, actions: ['publish'], topics: [] }],
      [{ type: DETAIL, actions: ['publish'], topics: ['*'] }],
      [{ type: DETAIL, actions: ['publish'], topics: [{ match: '' }] }],
      [{ type: DETAIL, actions: ['publish'], topics: [{ match: 'a', match_type: 'regex' }] }],
      [{ type: DETAIL, actions: ['publish'], topics: [{ match: 'a', match_type: 'Exact' }] }],
      [{ type: DETAIL, actions: ['publish'], topics: [{ match: 'a', match_type: 'toString' }] }],
      // The older draft's spelling is refused, not read as exact.
      [{ type: DETAIL, actions: ['publish'], topics: [{ match: 'a', matchType: 'URLPattern' }] }],
      [
        {
          type: DETAIL,
          actions: ['publish'],
          topics: [{ match: 'https://example.com/(', match_type: 'urlpattern' }],
        },
      ],
    ];
    const tokens = [
      ...(await Promise.all(legacy.map((p) => sign(p)))),
      ...(await Promise.all(current.map((d) => signCurrent({ authorization_details: d })))),
    ];
    for (const token of tokens) {
      await rejects(authorizer.verify(token, 'publisher'), 'INVALID_TOKEN', token);
    }
  });

  it('bounds the number of selectors in a token', async () => {
    const small = createAuthorizer({ key: SECRET, maxSelectors: 3 });
    const ok = await sign({ mercure: { publish: ['a', 'b'], subscribe: ['c'] } });
    assert.deepEqual((await small.verify(ok, 'publisher')).subscribe, ['c']);
    const tooMany = await sign({ mercure: { publish: ['a', 'b'], subscribe: ['c', 'd'] } });
    await rejects(small.verify(tooMany, 'publisher'), 'INVALID_TOKEN', tooMany);
  });

  it('rejects a token whose selector passes the cost budget, in either claim shape', async () => {
    // 300 variables: each costs about ten automaton units, so this is far over the default 1024.
    const vars = Array.from({ length: 300 }, (_, i) => `{a${i}}`).join('');
    const hostile = 'https://p.x/:x((?:.{0,1000}){8})1';
    const tokens = [
      await sign({ mercure: { subscribe: ['https://example.com/a', vars] } }),
      await signCurrent({
        authorization_details: [
          {
            type: DETAIL,
            actions: ['subscribe'],
            topics: [{ match: hostile, match_type: 'urlpattern' }],
          },
        ],
      }),
    ];
    for (const token of tokens) {
      const err = await rejects(authorizer.verify(token, 'subscriber'), 'INVALID_TOKEN', token);
      assert.match(err.detail ?? '', /over budget.*maxSelectorCost\) is 1024/);
    }
    // The budget is an option: a template of 4 variables fits 100, and not 30.
    const four = await sign({ mercure: { publish: ['https://example.com/{a}{b}{c}{d}'] } });
    const roomy = createAuthorizer({ key: SECRET, maxSelectorCost: 100 });
    assert.deepEqual((await roomy.verify(four, 'publisher')).publish, [
      'https://example.com/{a}{b}{c}{d}',
    ]);
    const tight = createAuthorizer({ key: SECRET, maxSelectorCost: 30 });
    const err = await rejects(tight.verify(four, 'publisher'), 'INVALID_TOKEN', four);
    assert.match(err.detail ?? '', /maxSelectorCost\) is 30/);
    throwsCode(() => createAuthorizer({ key: SECRET, maxSelectorCost: 0 }), 'INVALID_CONFIG');
  });

  it('round-trips minted draft-08 tokens: at+jwt and the seven RFC 9068 claims', async () => {
    const token = await mintToken(
      {
        draft: '08',
        publish: [{ match: 'https://example.com/:id', match_type: 'urlpattern' }],
        subscribe: ['https://example.com/a'],
        payload: { p: 1 },
        audience: BASE,
        issuer: ISSUER,
        expiresIn: '2h',
      },
      { secret: SECRET },
    );
    assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
    const body = decodeJwt(token);
    assert.equal(body.mercure, undefined);
    assert.deepEqual(body.authorization_details, [
      {
        type: DETAIL,
        actions: ['publish'],
        topics: [{ match: 'https://example.com/:id', match_type: 'urlpattern' }],
      },
      {
        type: DETAIL,
        actions: ['subscribe'],
        topics: [{ match: 'https://example.com/a' }],
        payload: { p: 1 },
      },
    ]);
    assert.equal(body.iss, ISSUER);
    assert.equal(body.aud, BASE);
    assert.equal(body.client_id, ISSUER);
    assert.equal(body.sub, ISSUER);
    assert.match(String(body.jti), /^urn:uuid:/);
    assert.ok(typeof body.iat === 'number');
    assert.ok(typeof body.exp === 'number' && body.exp > now() + 7000);
    const claims = await authorizer.verify(token, 'publisher');
    assert.equal(matches(claims, 'publish', 'https://example.com/9'), true);
    assert.deepEqual(payloadFor(claims, 'https://example.com/a'), { p: 1 });
    const wrongAudience = await mintToken(
      { draft: '08', publish: ['*'], audience: 'https://other.example.com', issuer: ISSUER },
      { secret: SECRET },
    );
    await rejects(authorizer.verify(wrongAudience, 'publisher'), 'INVALID_TOKEN', wrongAudience);
  });
});

describe('publisher and subscriber keys', () => {
  it('refuses a subscriber-key token for publishing when the keys differ', async () => {
    const authorizer = createAuthorizer({
      publisher: { key: SECRET },
      subscriber: { key: OTHER_SECRET },
    });
    const subscriberToken = await mintToken(
      { publish: ['*'], subscribe: ['*'] },
      {
        secret: OTHER_SECRET,
      },
    );
    assert.deepEqual((await authorizer.verify(subscriberToken, 'subscriber')).subscribe, ['*']);
    await rejects(
      authorizer.verify(subscriberToken, 'publisher'),
      'INVALID_TOKEN',
      subscriberToken,
    );
    const publisherToken = await mintToken({ publish: ['*'] }, { secret: SECRET });
    assert.deepEqual((await authorizer.verify(publisherToken, 'publisher')).publish, ['*']);
    await rejects(authorizer.verify(publisherToken, 'subscriber'), 'INVALID_TOKEN', publisherToken);
  });

  it('falls back to the shared key for a role without its own, algorithms included', async () => {
    const authorizer = createAuthorizer({
      key: SECRET,
      algorithms: ['HS256'],
      subscriber: { key: ED.publicKey },
    });
    const hmac = await mintToken({ publish: ['*'] }, { secret: SECRET });
    assert.deepEqual((await authorizer.verify(hmac, 'publisher')).publish, ['*']);
    await rejects(authorizer.verify(hmac, 'subscriber'), 'INVALID_TOKEN', hmac);
    const ed = await mintToken({ subscribe: ['*'] }, { privateKey: ED.privateKey });
    assert.deepEqual((await authorizer.verify(ed, 'subscriber')).subscribe, ['*']);
  });

  it('refuses every token of a role that has no key', async () => {
    const authorizer = createAuthorizer({ subscriber: { key: SECRET } });
    const token = await mintToken({ publish: ['*'] }, { secret: SECRET });
    const err = await rejects(authorizer.verify(token, 'publisher'), 'INVALID_TOKEN', token);
    assert.match(err.detail ?? '', /no key/);
  });

  it('validates its options', () => {
    throwsCode(() => createAuthorizer({}), 'INVALID_CONFIG');
    throwsCode(() => createAuthorizer({ key: '' }), 'INVALID_CONFIG');
    throwsCode(() => createAuthorizer({ key: SECRET, algorithms: [] }), 'INVALID_CONFIG');
    throwsCode(() => createAuthorizer({ key: SECRET, clockToleranceSec: -1 }), 'INVALID_CONFIG');
    throwsCode(
      () => createAuthorizer({ key: SECRET, maxTokenLength: Number.NaN }),
      'INVALID_CONFIG',
    );
  });
});

describe('mintToken', () => {
  it('writes the draft-07 claim by default', async () => {
    const token = await mintToken(
      { publish: ['a'], subscribe: ['b'], payload: 1 },
      { secret: SECRET },
    );
    const body = decodeJwt(token);
    assert.deepEqual(body.mercure, { publish: ['a'], subscribe: ['b'], payload: 1 });
    assert.equal(decodeProtectedHeader(token).alg, 'HS256');
    assert.ok(typeof body.exp === 'number' && typeof body.iat === 'number');
  });

  it('refuses bad input with INVALID_OPTION', async () => {
    await rejects(mintToken({}, {}), 'INVALID_OPTION');
    await rejects(mintToken({}, { secret: SECRET, privateKey: RSA.privateKey }), 'INVALID_OPTION');
    await rejects(mintToken({}, { secret: '' }), 'INVALID_OPTION');
    await rejects(mintToken({}, { secret: SECRET, alg: 'RS256' }), 'INVALID_OPTION');
    await rejects(mintToken({}, { privateKey: RSA.privateKey, alg: 'HS256' }), 'INVALID_OPTION');
    await rejects(mintToken({}, { privateKey: RSA.publicKey }), 'INVALID_OPTION');
    await rejects(
      mintToken({ publish: [{ match: '/:id', matchType: 'URLPattern' }] }, { secret: SECRET }),
      'INVALID_OPTION',
    );
    await rejects(mintToken({ draft: '08', payload: 1 }, { secret: SECRET }), 'INVALID_OPTION');
    await rejects(mintToken({ expiresIn: 'soon' }, { secret: SECRET }), 'INVALID_OPTION');
    await rejects(mintToken({ draft: '09' as '08' }, { secret: SECRET }), 'INVALID_OPTION');
  });
});
