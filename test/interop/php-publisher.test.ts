// Interoperability with third-party code on both sides of the hub: updates are published through
// Debian's php-symfony-mercure (Symfony\Component\Mercure\Hub, the publisher of the Symfony,
// API Platform and Laravel bridges; test/fixtures/php/publish.php) and read with the `eventsource`
// npm package, in both token shapes: draft 07 (`mercure` claim) and the current spec (RFC 9068
// access token with `authorization_details`, `typ: at+jwt`, `exp`, `aud`, `iss`).
// Without `php` or the Symfony component the tests skip, except on CI, where they must run.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';
import { mintToken } from '../../src/hub/auth/token.js';
import { type RunningHub, startHub, TEST_SECRET } from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';
import { DEFAULT_WAIT_MS, Waiters } from '../helpers/waiters.js';

const PHP = process.env.PHP ?? 'php';
const SCRIPT = fileURLToPath(new URL('../fixtures/php/publish.php', import.meta.url));
/** The hub's resource identifier (`aud` of current-spec tokens) and its trusted issuer. */
const PUBLIC_URL = 'https://hub.example.test/.well-known/mercure';
const ISSUER = 'https://app.example.test';
const TOPICS = 'https://example.test/interop';

/** Why these tests cannot run here, or undefined. Throws on CI, where they must run. */
function phpMissing(): string | undefined {
  const probe = spawnSync(
    PHP,
    [
      '-r',
      'exit((@include_once "Symfony/Component/Mercure/autoload.php") && class_exists("Symfony\\\\Component\\\\Mercure\\\\Hub") ? 0 : 3);',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  let reason: string | undefined;
  if (probe.error || probe.status === null) {
    reason = `no PHP CLI (${PHP}: ${probe.error?.message ?? `killed by ${probe.signal}`})`;
  } else if (probe.status !== 0) {
    reason = `the Symfony Mercure component is not installed for ${PHP}`;
  }
  if (reason === undefined) return undefined;
  if (process.env.CI) {
    throw new Error(`${reason}: required on CI (apt-get install php-cli php-symfony-mercure)`);
  }
  return `${reason} (apt-get install php-cli php-symfony-mercure); set CI to require it`;
}

type Shape = '07' | '08';

interface PublishInput {
  topics: string[];
  data?: string;
  private?: boolean;
  id?: string;
  type?: string;
  retry?: number;
  /** Topic selectors the token grants (default `*`). */
  publish?: unknown[];
  secret?: string;
  /** Claims merged over the minted ones (`null` drops one); replaces the `aud`/`iss` default. */
  claims?: Record<string, unknown>;
}

type PublishResult =
  | { ok: true; id: string }
  | { ok: false; status: number | null; body: string; error: string };

/** Publishes one update through Symfony's Mercure Hub (asynchronously: the hub is in-process). */
function phpPublish(hubUrl: string, shape: Shape, input: PublishInput): Promise<PublishResult> {
  const request = {
    hub: hubUrl,
    shape,
    secret: input.secret ?? TEST_SECRET,
    ...(shape === '08' && { claims: { aud: PUBLIC_URL, iss: ISSUER } }),
    ...input,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(PHP, [SCRIPT, JSON.stringify(request)], {
      // Symfony's HTTP client honours *_proxy variables: loopback must stay direct.
      env: { ...process.env, no_proxy: '127.0.0.1,localhost', NO_PROXY: '127.0.0.1,localhost' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8').trim();
      if (code !== 0 || stdout === '') {
        reject(
          new Error(
            `php publish.php exited ${code ?? signal}: ${stdout} ${Buffer.concat(err).toString('utf8')}`,
          ),
        );
        return;
      }
      resolve(JSON.parse(stdout) as PublishResult);
    });
  });
}

interface Received {
  type: string;
  data: string;
  lastEventId: string;
}

/** An `eventsource` (npm, v4) subscriber, collecting the events of the given types. */
class ThirdPartySubscriber {
  readonly events: Received[] = [];
  readonly #source: EventSource;
  readonly #waiters = new Waiters(() => `; got ${JSON.stringify(this.events)}`);

  constructor(url: string, types: string[], token?: string) {
    this.#source = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: {
            ...init.headers,
            ...(token !== undefined && { authorization: `Bearer ${token}` }),
          },
        }),
    });
    for (const type of types) {
      this.#source.addEventListener(type, (event: MessageEvent) => {
        this.events.push({ type, data: String(event.data), lastEventId: event.lastEventId });
        this.#waiters.notify();
      });
    }
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not open in time')), DEFAULT_WAIT_MS);
      this.#source.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#source.onerror = (err) => {
        clearTimeout(timer);
        reject(new Error(`EventSource error: ${err.message} (${err.code})`));
      };
    });
  }

  waitForId(id: string): Promise<void> {
    return this.#waiters.waitFor(() => this.events.some((e) => e.lastEventId === id), id);
  }

  close(): void {
    this.#source.close();
  }
}

const missing = phpMissing();

for (const shape of ['07', '08'] as const) {
  const label = shape === '07' ? 'draft-07 tokens (mercure claim)' : 'current-spec tokens (at+jwt)';
  describe(`php-symfony-mercure publishes, eventsource reads: ${label}`, () => {
    let h: RunningHub;
    const closers: (() => void)[] = [];
    const base = `${TOPICS}/${shape}`;
    /** The selector a subscription of this shape uses, and a token for it. */
    const selector =
      shape === '07'
        ? { name: 'topic', value: `${base}/{id}` }
        : { name: 'match_urlpattern', value: `${base}/:id` };
    const subscribeToken = () =>
      mintToken(
        shape === '07'
          ? { subscribe: [`${base}/{id}`] }
          : {
              draft: '08',
              subscribe: [{ match: `${base}/:id`, matchType: 'URLPattern' }],
              audience: PUBLIC_URL,
              issuer: ISSUER,
            },
        { secret: TEST_SECRET },
      );
    const streamUrl = () => {
      const url = new URL(h.url);
      url.searchParams.append(selector.name, selector.value);
      return url.toString();
    };

    before(async () => {
      if (missing !== undefined) return;
      h = await startHub({
        anonymous: true,
        publicUrl: PUBLIC_URL,
        jwtIssuers: [{ issuer: ISSUER }],
      });
    });
    after(async () => {
      for (const close of closers) close();
      await h?.close();
    });

    async function subscriber(authorized: boolean): Promise<ThirdPartySubscriber> {
      const sub = new ThirdPartySubscriber(
        streamUrl(),
        ['message', 'book.updated'],
        authorized ? await subscribeToken() : undefined,
      );
      closers.push(() => sub.close());
      await sub.opened();
      return sub;
    }

    it('delivers public and private updates with id, type, retry and multi-line data', {
      skip: missing,
    }, async (t: TestContext) => {
      const authorized = await subscriber(true);
      const anonymous = await subscriber(false);
      const raw: SseConnection = await openSse(streamUrl(), {
        headers: { authorization: `Bearer ${await subscribeToken()}` },
      });
      closers.push(() => raw.close());
      assert.equal(raw.status, 200);

      const data = 'first line\nsecond line\n\nafter a blank line';
      const pub = await phpPublish(h.url, shape, {
        topics: [`${base}/1`, `${TOPICS}/alternate/${shape}`],
        data,
        id: `urn:example:php-${shape}-public`,
        type: 'book.updated',
        retry: 4321,
      });
      assert.deepEqual(pub, { ok: true, id: `urn:example:php-${shape}-public` });

      const secret = await phpPublish(h.url, shape, {
        topics: [`${base}/2`],
        data: '{"secret":true}',
        private: true,
      });
      assert.ok(secret.ok, JSON.stringify(secret));
      // No id given: the hub assigns one and Symfony's publish() returns it.
      assert.match(secret.id, /^urn:uuid:[0-9a-f-]{36}$/);

      const marker = await phpPublish(h.url, shape, { topics: [`${base}/3`], data: 'marker' });
      assert.ok(marker.ok, JSON.stringify(marker));

      await authorized.waitForId(marker.id);
      await anonymous.waitForId(marker.id);
      assert.deepEqual(authorized.events, [
        { type: 'book.updated', data, lastEventId: `urn:example:php-${shape}-public` },
        { type: 'message', data: '{"secret":true}', lastEventId: secret.id },
        { type: 'message', data: 'marker', lastEventId: marker.id },
      ]);
      // The private update reaches only the subscriber whose token matches its topic.
      assert.deepEqual(
        authorized.events.filter((e) => e.lastEventId !== secret.id),
        anonymous.events,
      );

      // `retry` is not surfaced by EventSource: read it on the wire.
      await raw.waitFor(() => raw.events.some((e) => e.lastEventId === marker.id), 'marker');
      assert.deepEqual(raw.retries, [4321]);
      t.diagnostic(`ids: ${pub.id} ${secret.id} ${marker.id}`);
    });

    it('refuses a token signed with the wrong secret (401) and one too narrow for the topic (403)', {
      skip: missing,
    }, async () => {
      const wrongSecret = await phpPublish(h.url, shape, {
        topics: [`${base}/4`],
        data: 'x',
        secret: 'not-the-hub-secret-but-long-enough-for-hs256-!!',
      });
      assert.ok(!wrongSecret.ok, JSON.stringify(wrongSecret));
      assert.equal(wrongSecret.status, 401, JSON.stringify(wrongSecret));

      const narrow = await phpPublish(h.url, shape, {
        topics: [`${base}/5`],
        data: 'x',
        publish: [`${base}/6`],
      });
      assert.ok(!narrow.ok, JSON.stringify(narrow));
      assert.equal(narrow.status, 403, JSON.stringify(narrow));

      // Right scope, same token shape: accepted (the 403 was the scope, not the shape).
      const allowed = await phpPublish(h.url, shape, {
        topics: [`${base}/6`],
        data: 'x',
        publish: [`${base}/6`],
      });
      assert.ok(allowed.ok, JSON.stringify(allowed));
    });

    if (shape === '08') {
      it('refuses a current-spec token without the hub as audience, from an untrusted issuer or without exp (401)', {
        skip: missing,
      }, async () => {
        for (const claims of [
          { aud: 'https://other.example.test/.well-known/mercure', iss: ISSUER },
          { aud: PUBLIC_URL, iss: 'https://evil.example.test' },
          { aud: PUBLIC_URL, iss: ISSUER, exp: null },
        ]) {
          const res = await phpPublish(h.url, shape, { topics: [`${base}/7`], data: 'x', claims });
          assert.ok(!res.ok, JSON.stringify(claims));
          assert.equal(res.status, 401, `${JSON.stringify(claims)}: ${JSON.stringify(res)}`);
        }
      });
    }
  });
}
