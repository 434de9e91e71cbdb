import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { pino } from 'pino';
import { HUB_ROUTES } from '../../src/hub/http/request-router.js';
import { DEFAULT_HUB_PATH } from '../../src/hub/options.js';
import { CONSOLE_ROUTES } from '../../src/server/console/index.js';
import { SERVER_ROUTES } from '../../src/server/create-server.js';
import { DEMO_ROUTES } from '../../src/server/demo-routes.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { OPENAPI_FILE, OPENAPI_PATH } from '../../src/server/openapi.js';
import { mintTestToken, TEST_SECRET } from '../helpers/hub-server.js';

// The OpenAPI document (docs/openapi.json) against a maintained validator, against the routers'
// own tables, and against a running server: every documented operation answers with a documented
// status (never the routers' 404/405), JSON bodies match the document's schemas, and every
// method a path does not document is refused 405 with an `Allow` naming the documented ones.

// biome-ignore lint/suspicious/noExplicitAny: JSON documents, walked by key
type Json = Record<string, any>;
// `x-query`: QUERY (RFC 10008), which OpenAPI 3.1 cannot name (3.2's `query` has its shape).
const METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
  'x-query',
] as const;
const methodName = (key: (typeof METHODS)[number]): string =>
  key === 'x-query' ? 'QUERY' : key.toUpperCase();
const DOCUMENTED_METADATA = `/.well-known/oauth-protected-resource${DEFAULT_HUB_PATH}`;
const source: Json = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));
const pkg: Json = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

const TOPIC = 'https://example.com/books/1';
const ORIGIN = 'https://app.example';

/** `METHOD /path` of every operation, path parameters' names erased (`{}`). */
function operations(doc: Json): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const method of METHODS) {
      if (item[method]) out.push(`${methodName(method)} ${path.replace(/\{[^}]+\}/g, '{}')}`);
    }
  }
  return out.sort();
}

/** Follows a local `$ref` (`#/components/...`). */
function deref(doc: Json, value: Json): Json {
  if (typeof value.$ref !== 'string') return value;
  return (value.$ref as string)
    .slice(2)
    .split('/')
    .reduce((node: Json, key) => node[key], doc);
}

async function assertValid(doc: Json): Promise<void> {
  const v = new Validator();
  const res = await v.validate(structuredClone(doc));
  assert.ok(res.valid, JSON.stringify(res.errors, null, 2));
  assert.equal(v.version, '3.1');
}

describe('docs/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    await assertValid(source);
    assert.equal(source.info.version, pkg.version, 'info.version follows package.json');
    const ids = Object.values(source.paths as Json).flatMap((item) =>
      METHODS.filter((m) => item[m]).map((m) => item[m].operationId as string),
    );
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.ok(ids.every((id) => typeof id === 'string'));
  });

  it('documents exactly the routes of the routers’ tables (server, hub, console, demo)', () => {
    const routes: string[] = [];
    const add = (path: string, methods: readonly string[]) => {
      for (const m of methods) routes.push(`${m} ${path.replace(/\{[^}]+\}/g, '{}')}`);
    };
    for (const [path, spec] of Object.entries(SERVER_ROUTES)) add(path, spec.methods);
    for (const spec of Object.values(HUB_ROUTES)) {
      const base = spec.base === 'hub' ? DEFAULT_HUB_PATH : DOCUMENTED_METADATA;
      for (const path of spec.paths) add(`${base}${path}`, [...spec.methods, 'OPTIONS']);
    }
    for (const [path, spec] of Object.entries(CONSOLE_ROUTES)) add(path, spec.methods);
    for (const [path, spec] of Object.entries(DEMO_ROUTES)) add(path, spec.methods);
    assert.deepEqual(operations(source), routes.sort());
  });

  it('marks the routes of optional features with the option they need', () => {
    const requires = (path: string) => source.paths[path]['x-ssehub-requires'];
    assert.equal(requires('/metrics'), SERVER_ROUTES['/metrics'].requires);
    for (const path of HUB_ROUTES.subscriptions.paths) {
      assert.equal(requires(`${DEFAULT_HUB_PATH}${path}`), 'subscriptions', path);
    }
    for (const path of Object.keys(DEMO_ROUTES)) assert.equal(requires(path), 'demo', path);
    for (const path of Object.keys(CONSOLE_ROUTES)) assert.equal(requires(path), 'ui', path);
  });
});

describe('the served /openapi.json', () => {
  it('names the hub path, the metadata paths and the public URL, and only features that are on', async (t) => {
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      demo: false,
      logger: pino({ level: 'silent' }),
      hub: { jwt: { key: TEST_SECRET }, path: '/hub', publicUrl: 'https://example.com/prefix/hub' },
    });
    t.after(() => server.close());
    const res = await fetch(`${server.url}${OPENAPI_PATH}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const doc = (await res.json()) as Json;
    await assertValid(doc);
    assert.deepEqual(doc.servers, [
      {
        url: 'https://example.com/prefix',
        description: 'The public URL of the hub (--public-url), less its path',
      },
    ]);
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/.well-known/oauth-protected-resource/hub',
      // The resource identifier's path (the public URL's): the hub answers there too.
      '/.well-known/oauth-protected-resource/prefix/hub',
      '/healthz',
      '/hub',
      '/openapi.json',
      '/readyz',
    ]);
    const head = await fetch(`${server.url}${OPENAPI_PATH}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(
      Number(head.headers.get('content-length')),
      Buffer.byteLength(JSON.stringify(doc)),
    );
  });

  it('describes a hub at / as the router answers: the hub wins over the demo page', async (t) => {
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      metrics: true,
      logger: pino({ level: 'silent' }),
      hub: { jwt: { key: TEST_SECRET }, path: '/', subscriptions: true },
    });
    t.after(() => server.close());
    const doc = (await (await fetch(`${server.url}${OPENAPI_PATH}`)).json()) as Json;
    await assertValid(doc);
    assert.equal(doc.paths['/'].post.operationId, 'publish');
    assert.ok(doc.paths['/subscriptions/{match_type}/{match}/{subscriber}']);
    assert.ok(doc.paths['/.well-known/oauth-protected-resource']);
    assert.ok(doc.paths['/events'] && doc.paths['/metrics']);
    assert.equal(doc.servers, undefined, 'no public URL configured: relative to the document');
  });
});

/** A server with every feature on, a subscriber kept open, and what the requests need. */
interface Fixture {
  server: RunningServer;
  doc: Json;
  token: string;
  subscriber: string;
  close(): Promise<void>;
}

async function fixture(path: string): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-openapi-'));
  const bundle = join(dir, 'ssehub-client.js');
  writeFileSync(bundle, 'export {};\n');
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    metrics: true,
    console: true,
    browserBundlePath: bundle,
    logger: pino({ level: 'silent' }),
    hub: { jwt: { key: TEST_SECRET }, path, subscriptions: true, corsOrigins: [ORIGIN] },
  });
  const token = await mintTestToken({ publish: ['*'], subscribe: ['*'] });
  const base = `${server.url}${path === '/' ? '' : path}`;
  // One subscription to list and fetch, in both shapes (a plain string is shown in both).
  const stream = new AbortController();
  const open = await fetch(`${base}?match=${encodeURIComponent(TOPIC)}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: stream.signal,
  });
  assert.equal(open.status, 200);
  let subscriber: string | undefined;
  for (let i = 0; i < 100 && subscriber === undefined; i++) {
    const list = (await (
      await fetch(`${base}/subscriptions`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as Json;
    subscriber = (list.subscriptions as Json[]).find((s) => s.match === TOPIC)?.subscriber;
    if (subscriber === undefined) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(subscriber, 'the subscription is listed');
  const doc = (await (await fetch(`${server.url}${OPENAPI_PATH}`)).json()) as Json;
  return {
    server,
    doc,
    token,
    subscriber,
    async close() {
      stream.abort();
      await open.body?.cancel().catch(() => {});
      await server.close();
    },
  };
}

interface Probe {
  url: string;
  init: RequestInit;
  /** A stream: read the head only, then drop it. */
  stream?: boolean;
}

/** Realistic requests for one operation: a value for every path parameter, both shapes where two answer. */
function probes(f: Fixture, path: string, method: string): Probe[] {
  const auth = { authorization: `Bearer ${f.token}` };
  const e = encodeURIComponent;
  const url = (p: string) => `${f.server.url}${p}`;
  const fill = (values: Record<string, string>) =>
    url(path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? '?'));
  const json = { accept: 'application/json', ...auth };
  const jsonLd = { accept: 'application/ld+json', ...auth };
  if (method === 'OPTIONS') {
    const values = { match_type_or_topic: 'exact', match_or_subscriber: e(TOPIC) };
    const target = fill({
      ...values,
      match_type: 'exact',
      match: e(TOPIC),
      subscriber: f.subscriber,
    });
    return [{ url: target, init: { method, headers: { origin: ORIGIN } } }];
  }
  const operation: Json = f.doc.paths[path][method === 'QUERY' ? 'x-query' : method.toLowerCase()];
  if (operation.operationId === 'subscribeWithBody') {
    return [
      {
        url: `${url(path)}?match=${e(TOPIC)}`,
        init: {
          method,
          headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: `topic=${e(TOPIC)}`,
        },
        stream: true,
      },
    ];
  }
  if (operation.operationId === 'subscribe') {
    return [
      { url: `${url(path)}?match=${e(TOPIC)}`, init: { headers: auth }, stream: true },
      {
        url: `${url(path)}?topic=${e(TOPIC)}&lastEventID=earliest`,
        init: { headers: auth },
        stream: true,
      },
    ];
  }
  if (operation.operationId === 'publish') {
    return [
      {
        url: url(path),
        init: {
          method,
          headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: `topic=${e('https://example.com/books/2')}&data=x`,
        },
      },
    ];
  }
  if (operation.operationId === 'consoleCheckToken') {
    return [
      {
        url: url(path),
        init: {
          method,
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ token: f.token, topic: TOPIC }),
        },
      },
    ];
  }
  if (path === '/ui/api/stats') return [{ url: url(path), init: { method, headers: auth } }];
  if (path === '/ui') return [{ url: url(path), init: { method, redirect: 'manual' } }];
  if (path.includes('{match_type}')) {
    return [
      {
        url: fill({ match_type: 'exact', match: e(TOPIC), subscriber: e(f.subscriber) }),
        init: { headers: json },
      },
    ];
  }
  if (path.includes('{match_or_subscriber}')) {
    return [
      {
        url: fill({ match_type_or_topic: 'exact', match_or_subscriber: e(TOPIC) }),
        init: { headers: json },
      },
      {
        url: fill({ match_type_or_topic: e(TOPIC), match_or_subscriber: e(f.subscriber) }),
        init: { headers: jsonLd },
      },
    ];
  }
  if (path.includes('{match_type_or_topic}')) {
    return [
      { url: fill({ match_type_or_topic: 'urlpattern' }), init: { headers: json } },
      { url: fill({ match_type_or_topic: e(TOPIC) }), init: { headers: jsonLd } },
    ];
  }
  if (path.endsWith('/subscriptions')) {
    return [
      { url: url(path), init: { headers: json } },
      { url: url(path), init: { headers: jsonLd } },
    ];
  }
  const stream = path === '/events' || path === '/sse';
  return [{ url: url(path), init: { method }, stream: stream && method === 'GET' }];
}

function mediaType(res: Response): string {
  return (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
}

for (const hubPath of [DEFAULT_HUB_PATH, '/hub', '/']) {
  describe(`route coverage of a server with the hub at ${hubPath}`, () => {
    let f: Fixture;
    let ajv: Ajv2020;
    before(async () => {
      f = await fixture(hubPath);
      ajv = new Ajv2020({ strict: false, allErrors: true });
      // The document as a schema whose components the responses' `$ref`s point into.
      ajv.addSchema(f.doc, 'openapi');
    });
    after(() => f.close());

    it('answers every documented operation with a documented status, never the router’s 404/405, bodies per the schemas', async () => {
      let checked = 0;
      let validated = 0;
      for (const [path, item] of Object.entries(f.doc.paths as Json)) {
        for (const method of METHODS.filter((m) => item[m])) {
          const operation: Json = item[method];
          for (const probe of probes(f, path, methodName(method))) {
            const what = `${methodName(method)} ${probe.url}`;
            const abort = new AbortController();
            const res = await fetch(probe.url, { ...probe.init, signal: abort.signal });
            assert.notEqual(res.status, 404, what);
            assert.notEqual(res.status, 405, what);
            const documented: Json | undefined = operation.responses[String(res.status)];
            assert.ok(documented, `${what}: status ${res.status} is documented`);
            const response = deref(f.doc, documented);
            if (probe.stream) {
              assert.equal(mediaType(res), 'text/event-stream', what);
              abort.abort();
              await res.body?.cancel().catch(() => {});
            } else {
              const body = await res.text();
              if (method !== 'head' && body !== '' && response.content) {
                const type = mediaType(res);
                const content = response.content[type];
                assert.ok(content, `${what}: ${type} is documented for ${res.status}`);
                if (type.endsWith('json') && content.schema?.$ref) {
                  const validate = ajv.getSchema(`openapi${content.schema.$ref}`);
                  assert.ok(validate, content.schema.$ref);
                  assert.ok(
                    validate(JSON.parse(body)),
                    `${what}: ${JSON.stringify(validate.errors)}`,
                  );
                  validated++;
                }
              }
            }
            checked++;
          }
        }
      }
      assert.ok(checked >= 30, `${checked} requests`);
      // Both subscriptions shapes, single and collections, the metadata and the health bodies.
      assert.ok(validated >= 10, `${validated} bodies validated`);
    });

    it('refuses every undocumented method 405 with Allow naming the documented ones', async () => {
      for (const [path, item] of Object.entries(f.doc.paths as Json)) {
        const documented = METHODS.filter((m) => item[m]).map(methodName);
        // TRACE is a forbidden method for fetch.
        for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
          if (documented.includes(method)) continue;
          const [probe] = probes(f, path, 'OPTIONS');
          const res = await fetch(probe!.url, { method });
          await res.text();
          assert.equal(res.status, 405, `${method} ${path}`);
          const allow = (res.headers.get('allow') ?? '').split(/,\s*/).sort();
          assert.deepEqual(allow, [...documented].sort(), `Allow of ${path}`);
        }
      }
    });

    it('answers undocumented paths 404, with a documented error body', async () => {
      const hub = hubPath === '/' ? '' : hubPath;
      for (const path of [
        '/nothing-here',
        `${hub}/subscriptions/exact/a/b/c`,
        `${hub}/subscriptions/exact/a/b/`,
        hubPath === '/' ? '/nothing/below' : `${hub}/nothing`,
      ]) {
        const res = await fetch(`${f.server.url}${path}`, {
          headers: { authorization: `Bearer ${f.token}` },
        });
        assert.equal(res.status, 404, path);
        assert.equal(mediaType(res), 'text/plain', path);
        assert.match(await res.text(), /^Not found/);
      }
    });

    it('sends the documented error format and challenge', async () => {
      const hub = `${f.server.url}${hubPath === '/' ? '' : hubPath}`;
      const res = await fetch(hub, { method: 'POST', body: 'topic=x' });
      assert.equal(res.status, 401);
      const responses: Json = f.doc.paths[hubPath].post.responses;
      const unauthorized = deref(f.doc, responses['401']);
      assert.ok(unauthorized.content[mediaType(res)]);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="mercure"/);
      assert.equal(await res.text(), 'A valid token is required');
    });
  });
}

describe('per-client limits in the document', () => {
  it('a publish past maxPublishRate (429 RATE_LIMITED, Retry-After) is documented', async (t) => {
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      demo: false,
      logger: pino({ level: 'silent' }),
      hub: { jwt: { key: TEST_SECRET }, maxPublishRate: 1, publishBurst: 1 },
    });
    t.after(() => server.close());
    const token = await mintTestToken({ publish: ['*'] });
    const publish = () =>
      fetch(`${server.url}${DEFAULT_HUB_PATH}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'topic=https://example.com/limited&data=x',
      });
    assert.equal((await publish()).status, 200);
    const refused = await publish();
    const body = await refused.text();
    assert.equal(refused.status, 429, body);
    assert.ok(refused.headers.get('retry-after'));
    const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json;
    const documented: Json | undefined = doc.paths[DEFAULT_HUB_PATH].post.responses['429'];
    assert.ok(documented, 'POST 429 is documented');
    const response: Json = documented.$ref
      ? doc.components.responses[String(documented.$ref).split('/').at(-1)!]
      : documented;
    assert.ok(response.headers?.['Retry-After'], 'with its Retry-After');
    assert.ok(response.content?.['text/plain'], 'and its text/plain body');
  });
});
