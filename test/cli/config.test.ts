import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveServeConfig } from '../../src/cli/config.js';
import { SERVE_SETTINGS, type ServeSetting } from '../../src/cli/serve-settings.js';
import { parseBoolean, parseBytes, parseDuration, parseList } from '../../src/cli/units.js';
import { isSseHubError } from '../../src/errors.js';
import { HUB_DEFAULTS, resolveHubOptions } from '../../src/hub/options.js';
import { createMemoryTransport } from '../../src/transport/memory.js';
import { silentLogger } from '../helpers/hub-server.js';

const secret = () => 'generated-secret';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isSseHubError(err, 'INVALID_CONFIG'), `expected INVALID_CONFIG, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('resolveServeConfig', () => {
  it('with nothing configured: port 3000, memory transport, demo on, dev secret, anonymous', () => {
    const config = resolveServeConfig({}, {}, secret);
    assert.equal(config.server.port, 3000);
    assert.equal(config.server.transportUrl, 'memory:');
    assert.equal(config.server.demo, true);
    assert.equal(config.server.metrics, false);
    assert.equal(config.server.logLevel, 'info');
    assert.equal(config.devSecret, 'generated-secret');
    assert.deepEqual(config.server.hub.jwt, { key: 'generated-secret' });
    assert.equal(config.server.hub.anonymous, true);
    assert.equal(config.tlsFiles, undefined);
  });

  it('the default dev secret is random and long', () => {
    const a = resolveServeConfig({}, {}).devSecret;
    const b = resolveServeConfig({}, {}).devSecret;
    assert.ok(a && b && a !== b);
    assert.ok(a.length >= 40);
  });

  it('a configured key turns the development defaults off', () => {
    const config = resolveServeConfig({}, { SSEHUB_JWT_KEY: 'k' }, secret);
    assert.equal(config.devSecret, undefined);
    assert.deepEqual(config.server.hub.jwt, { key: 'k' });
    assert.equal(config.server.hub.anonymous, undefined);
  });

  it('--no-anonymous wins over the development default', () => {
    const config = resolveServeConfig({ anonymous: false }, {}, secret);
    assert.equal(config.devSecret, 'generated-secret');
    assert.equal(config.server.hub.anonymous, false);
  });

  it('maps environment variables onto hub and server options', () => {
    const config = resolveServeConfig(
      {},
      {
        SSEHUB_PORT: '8080',
        SSEHUB_HOST: '127.0.0.1',
        SSEHUB_TRANSPORT: 'sqlite:/tmp/hub.db',
        SSEHUB_PUBLISHER_JWT_KEY: 'pub',
        SSEHUB_SUBSCRIBER_JWT_KEY: 'sub',
        SSEHUB_JWT_ALGORITHMS: 'HS256, HS512',
        SSEHUB_ANONYMOUS: 'yes',
        SSEHUB_CORS_ORIGINS: 'https://a.example, https://b.example',
        SSEHUB_PUBLISH_ORIGINS: 'https://a.example',
        SSEHUB_ALLOW_QUERY_TOKEN: '1',
        SSEHUB_SUBSCRIPTIONS: 'true',
        SSEHUB_HEARTBEAT: '20s',
        SSEHUB_RETRY: '2000',
        SSEHUB_MAX_STREAM_LIFETIME: '1h',
        SSEHUB_MAX_QUEUE: '2mb',
        SSEHUB_MAX_BODY: '64kb',
        SSEHUB_MAX_TOPICS: '50',
        SSEHUB_MAX_REPLAY: '1000',
        SSEHUB_MAX_TOPIC_LENGTH: '512',
        SSEHUB_MAX_SELECTOR_COST: '200',
        SSEHUB_MAX_SUBSCRIBER_SELECTOR_COST: '800',
        SSEHUB_HISTORY_CACHE: '4mb',
        SSEHUB_DEMO: 'off',
        SSEHUB_METRICS: 'on',
        SSEHUB_LOG_LEVEL: 'DEBUG',
        SSEHUB_DRAIN_DELAY: '5s',
        SSEHUB_SHUTDOWN_GRACE: '20s',
        SSEHUB_PATH: '/hub',
        SSEHUB_PUBLIC_URL: 'https://hub.example/hub',
      },
      secret,
    );
    const { server } = config;
    assert.equal(server.port, 8080);
    assert.equal(server.host, '127.0.0.1');
    assert.equal(server.transportUrl, 'sqlite:/tmp/hub.db');
    assert.equal(server.demo, false);
    assert.equal(server.metrics, true);
    assert.equal(server.logLevel, 'debug');
    assert.equal(server.drainDelayMs, 5000);
    assert.equal(server.shutdownGraceMs, 20_000);
    assert.deepEqual(server.hub, {
      publisherJwt: { key: 'pub', algorithms: ['HS256', 'HS512'] },
      subscriberJwt: { key: 'sub', algorithms: ['HS256', 'HS512'] },
      anonymous: true,
      allowQueryToken: true,
      corsOrigins: ['https://a.example', 'https://b.example'],
      publishOrigins: ['https://a.example'],
      path: '/hub',
      publicUrl: 'https://hub.example/hub',
      subscriptions: true,
      heartbeatMs: 20_000,
      retryMs: 2000,
      maxStreamLifetimeMs: 3_600_000,
      maxQueueBytes: 2 * 1024 * 1024,
      maxBodyBytes: 64 * 1024,
      maxTopicsPerRequest: 50,
      maxTopicLength: 512,
      maxSelectorCost: 200,
      maxSubscriberSelectorCost: 800,
      maxReplay: 1000,
      historyCacheBytes: 4 * 1024 * 1024,
    });
    assert.equal(config.devSecret, undefined);
  });

  it('maps the per-client limits, trusted proxies and the log format; auto by default', () => {
    const config = resolveServeConfig(
      {
        maxSubscribeRate: '5',
        subscribeBurst: '10',
        maxPublishRate: '0',
        trustedProxy: '10.0.0.0/8, ::1',
        logFormat: 'PRETTY',
      },
      { SSEHUB_PUBLISH_BURST: '50' },
      secret,
    );
    assert.equal(config.server.logFormat, 'pretty');
    assert.equal(config.server.hub.maxSubscribeRate, 5);
    assert.equal(config.server.hub.subscribeBurst, 10);
    assert.equal(config.server.hub.maxPublishRate, 0);
    assert.equal(config.server.hub.publishBurst, 50);
    assert.deepEqual(config.server.hub.trustedProxies, ['10.0.0.0/8', '::1']);
    assert.equal(resolveServeConfig({}, {}, secret).server.logFormat, 'auto');
    assert.throws(() => resolveServeConfig({ logFormat: 'xml' }, {}, secret), /--log-format/);
    assert.throws(
      () => resolveServeConfig({ subscribeBurst: '0' }, {}, secret),
      /--subscribe-burst must be greater than 0/,
    );
  });

  it('a flag wins over its environment variable; SSEHUB_PORT wins over PORT', () => {
    assert.equal(resolveServeConfig({ port: '4000' }, { SSEHUB_PORT: '5000' }).server.port, 4000);
    assert.equal(resolveServeConfig({}, { SSEHUB_PORT: '5000', PORT: '6000' }).server.port, 5000);
    assert.equal(resolveServeConfig({}, { PORT: '6000' }).server.port, 6000);
    assert.equal(resolveServeConfig({ demo: true }, { SSEHUB_DEMO: '0' }).server.demo, true);
    assert.equal(resolveServeConfig({ port: '0' }, {}).server.port, 0);
  });

  it('a JWKS URL is a key for both roles', () => {
    const config = resolveServeConfig({}, { SSEHUB_JWKS_URL: 'https://idp.example/jwks.json' });
    assert.deepEqual(config.server.hub.jwt, { jwksUrl: 'https://idp.example/jwks.json' });
    assert.equal(config.devSecret, undefined);
  });

  it('TLS files come as a pair', () => {
    const config = resolveServeConfig({ tlsCert: 'c.pem', tlsKey: 'k.pem' }, {});
    assert.deepEqual(config.tlsFiles, { cert: 'c.pem', key: 'k.pem' });
    rejects(() => resolveServeConfig({ tlsCert: 'c.pem' }, {}), /--tls-cert.*--tls-key/);
  });

  it('rejects bad values, naming the flag or variable at fault', () => {
    rejects(() => resolveServeConfig({ port: 'abc' }, {}), /--port must be a non-negative integer/);
    rejects(() => resolveServeConfig({ port: '70000' }, {}), /--port must be between 0 and 65535/);
    rejects(() => resolveServeConfig({}, { PORT: '-1' }), /^.*PORT must be/);
    rejects(() => resolveServeConfig({}, { SSEHUB_ANONYMOUS: 'maybe' }), /SSEHUB_ANONYMOUS/);
    rejects(() => resolveServeConfig({ heartbeat: 'soon' }, {}), /--heartbeat must be a duration/);
    rejects(() => resolveServeConfig({}, { SSEHUB_MAX_QUEUE: '0' }), /SSEHUB_MAX_QUEUE/);
    rejects(() => resolveServeConfig({ logLevel: 'loud' }, {}), /--log-level must be one of/);
    rejects(() => resolveServeConfig({ transport: 'postgres:' }, {}), /unsupported transport/);
    rejects(() => resolveServeConfig({ transport: 'redis:' }, {}), /redis: needs a host/);
    rejects(() => resolveServeConfig({ jwksUrl: 'not a url' }, {}), /--jwks-url must be/);
    rejects(() => resolveServeConfig({ publicUrl: 'ftp://x' }, {}), /--public-url must be/);
    rejects(
      () => resolveServeConfig({ jwtKey: 'k', jwtAlgorithms: 'none' }, {}),
      /"none" is never allowed/,
    );
    rejects(() => resolveServeConfig({ path: 'hub' }, {}), /--path must start with \//);
    rejects(() => resolveServeConfig({ host: '' }, {}), /--host is empty/);
  });

  it('--durability / SSEHUB_DURABILITY maps onto the sqlite transport', () => {
    const flag = resolveServeConfig({ transport: 'sqlite:/tmp/hub.db', durability: 'power' }, {});
    assert.equal(flag.server.durability, 'power');
    assert.equal(flag.server.transportUrl, 'sqlite:/tmp/hub.db');
    const env = resolveServeConfig(
      {},
      { SSEHUB_TRANSPORT: 'sqlite:/tmp/hub.db', SSEHUB_DURABILITY: 'Process' },
    );
    assert.equal(env.server.durability, 'process');
    // Agreeing with the URL is fine; unset leaves the transport's own default.
    const same = resolveServeConfig(
      { transport: 'sqlite:/tmp/hub.db?durability=power', durability: 'power' },
      {},
    );
    assert.equal(same.server.durability, 'power');
    assert.equal(
      resolveServeConfig({ transport: 'sqlite:/tmp/hub.db' }, {}).server.durability,
      undefined,
    );
  });

  it('refuses --durability for a non-sqlite transport, a bad value, or a URL that disagrees', () => {
    rejects(
      () => resolveServeConfig({ durability: 'power' }, {}),
      /--durability \(SSEHUB_DURABILITY\) applies to a sqlite: transport only; the transport is memory:/,
    );
    rejects(
      () => resolveServeConfig({}, { SSEHUB_TRANSPORT: 'memory:', SSEHUB_DURABILITY: 'process' }),
      /sqlite: transport only/,
    );
    rejects(
      () => resolveServeConfig({ transport: 'sqlite:/tmp/hub.db', durability: 'disk' }, {}),
      /--durability must be one of process, power \(got "disk"\)/,
    );
    rejects(
      () =>
        resolveServeConfig(
          { transport: 'sqlite:/tmp/hub.db?durability=process', durability: 'power' },
          {},
        ),
      /durability power conflicts with durability=process in the transport URL/,
    );
  });

  it('maps the connection limits and timeouts', () => {
    const { server } = resolveServeConfig(
      {},
      {
        SSEHUB_MAX_CONNECTIONS: '500',
        SSEHUB_MAX_STREAMS_PER_CONNECTION: '20',
        SSEHUB_HEADERS_TIMEOUT: '5s',
        SSEHUB_REQUEST_TIMEOUT: '1m',
        SSEHUB_KEEP_ALIVE_TIMEOUT: '2s',
        SSEHUB_MAX_LOG_BUFFER: '256kb',
      },
    );
    assert.equal(server.maxConnections, 500);
    assert.equal(server.maxStreamsPerConnection, 20);
    assert.equal(server.headersTimeoutMs, 5_000);
    assert.equal(server.requestTimeoutMs, 60_000);
    assert.equal(server.keepAliveTimeoutMs, 2_000);
    assert.equal(server.maxLogBufferBytes, 256 * 1024);
    // Unset: the server applies its own defaults.
    const defaults = resolveServeConfig({}, {}).server;
    for (const key of [
      'maxConnections',
      'maxStreamsPerConnection',
      'headersTimeoutMs',
      'requestTimeoutMs',
      'keepAliveTimeoutMs',
      'maxLogBufferBytes',
      'durability',
    ] as const) {
      assert.equal(defaults[key], undefined, key);
    }
  });

  it('refuses a zero limit or timeout, and headers timeout above the request timeout', () => {
    rejects(
      () => resolveServeConfig({ maxConnections: '0' }, {}),
      /--max-connections must be greater than 0/,
    );
    rejects(
      () => resolveServeConfig({}, { SSEHUB_HEADERS_TIMEOUT: '0' }),
      /SSEHUB_HEADERS_TIMEOUT must be greater than 0/,
    );
    rejects(
      () => resolveServeConfig({ keepAliveTimeout: '0s' }, {}),
      /--keep-alive-timeout must be greater than 0/,
    );
    rejects(
      () => resolveServeConfig({ maxStreamsPerConnection: '0' }, {}),
      /--max-streams-per-connection must be greater than 0/,
    );
    rejects(
      () => resolveServeConfig({}, { SSEHUB_MAX_STREAMS_PER_CONNECTION: '4294967296' }),
      /--max-streams-per-connection must be at most 4294967295/,
    );
    rejects(
      () => resolveServeConfig({ headersTimeout: '1m' }, {}),
      /--headers-timeout must not exceed --request-timeout/,
    );
    rejects(
      () => resolveServeConfig({ headersTimeout: '5s', requestTimeout: '2s' }, {}),
      /--headers-timeout must not exceed --request-timeout/,
    );
  });

  it('refuses a configuration where one role has no key', () => {
    rejects(
      () => resolveServeConfig({ subscriberJwtKey: 's' }, {}),
      /no key verifies publisher tokens/,
    );
    rejects(
      () => resolveServeConfig({ publisherJwtKey: 'p' }, {}),
      /no key verifies subscriber tokens/,
    );
    const publicOnly = resolveServeConfig({ publisherJwtKey: 'p', anonymous: true }, {});
    assert.deepEqual(publicOnly.server.hub, { publisherJwt: { key: 'p' }, anonymous: true });
  });

  it('never puts a configured secret in an error message', () => {
    assert.throws(
      () => resolveServeConfig({ jwtKey: 'super-secret-value', port: 'x' }, {}),
      (err: unknown) => err instanceof Error && !err.message.includes('super-secret-value'),
    );
  });

  it('every setting has a flag, an SSEHUB_ variable and a description', () => {
    const keys = new Set<string>();
    for (const s of SERVE_SETTINGS) {
      assert.ok(!keys.has(s.key), `duplicate key ${s.key}`);
      keys.add(s.key);
      assert.ok(
        s.env.some((e) => e.startsWith('SSEHUB_')),
        `${s.key} has no SSEHUB_ variable`,
      );
      assert.ok(s.description.length > 10);
      // commander derives the key from the long flag; they must agree.
      const long = s.flag.split(/[ ,]+/).find((p) => p.startsWith('--'));
      const camel = long?.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      assert.equal(camel, s.key);
    }
  });
});

describe('the hub settings of the table', () => {
  /** The value a setting's default text stands for, read as the CLI reads that setting. */
  function shownDefault(setting: ServeSetting): unknown {
    const text = setting.defaultText!.split(/[;(]/)[0]!.trim();
    switch (setting.kind) {
      case 'boolean':
        return parseBoolean(text, setting.key);
      case 'duration':
        return parseDuration(text, setting.key);
      case 'bytes':
        return parseBytes(text, setting.key);
      case 'integer':
        return Number(text);
      case 'list':
        return text === 'none' ? [] : parseList(text);
      default:
        return text;
    }
  }

  it("show the hub's own defaults (HUB_DEFAULTS, as resolveHubOptions applies them)", async () => {
    const transport = createMemoryTransport();
    const resolved = resolveHubOptions({ transport, logger: silentLogger() });
    const hubSettings = SERVE_SETTINGS.filter((s) => s.hub !== undefined && s.hub in HUB_DEFAULTS);
    assert.ok(hubSettings.length >= 17, `only ${hubSettings.length} hub settings with a default`);
    for (const setting of hubSettings) {
      const key = setting.hub as keyof typeof HUB_DEFAULTS;
      assert.deepEqual(resolved[key], HUB_DEFAULTS[key], `resolveHubOptions applies ${key}`);
      assert.deepEqual(
        shownDefault(setting),
        HUB_DEFAULTS[key],
        `default shown for ${setting.flag}`,
      );
    }
    await transport.close();
  });

  it('each set exactly their hub option', () => {
    const config = resolveServeConfig(
      { jwtKey: 'k', path: '/hub', maxTopics: '7', historyCache: '1mb', subscriptions: true },
      {},
    );
    assert.equal(config.server.hub.path, '/hub');
    assert.equal(config.server.hub.maxTopicsPerRequest, 7);
    assert.equal(config.server.hub.historyCacheBytes, 1024 * 1024);
    assert.equal(config.server.hub.subscriptions, true);
    const cookie = resolveServeConfig({ jwtKey: 'k' }, { SSEHUB_COOKIE_NAME: 'dev_token' });
    assert.equal(cookie.server.hub.cookieName, 'dev_token');
    const keys = new Set(SERVE_SETTINGS.map((s) => s.hub).filter((k) => k !== undefined));
    assert.equal(keys.size, SERVE_SETTINGS.filter((s) => s.hub !== undefined).length);
  });
});

describe('units', () => {
  it('parses durations', () => {
    assert.equal(parseDuration('500ms', 'x'), 500);
    assert.equal(parseDuration('15s', 'x'), 15_000);
    assert.equal(parseDuration('1.5m', 'x'), 90_000);
    assert.equal(parseDuration('1h', 'x'), 3_600_000);
    assert.equal(parseDuration('2d', 'x'), 172_800_000);
    assert.equal(parseDuration('250', 'x'), 250);
    assert.equal(parseDuration('60', 'x', 's'), 60_000);
    assert.throws(() => parseDuration('-1s', 'x'), /must be a duration/);
    assert.throws(() => parseDuration('1w', 'x'), /must be a duration/);
  });

  it('parses sizes', () => {
    assert.equal(parseBytes('65536', 'x'), 65_536);
    assert.equal(parseBytes('64kb', 'x'), 65_536);
    assert.equal(parseBytes('1MiB', 'x'), 1_048_576);
    assert.throws(() => parseBytes('lots', 'x'), /positive size/);
  });

  it('splits lists on commas and spaces', () => {
    assert.deepEqual(parseList('a, b  c,,d'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(parseList(' '), []);
  });
});

describe('token validation flags', () => {
  it('--jwt-issuer binds each issuer to its keys; --jwt-audience and --authorization-server map onto the hub', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-issuer-'));
    const file = join(dir, 'idp.key');
    writeFileSync(file, 'an-idp-secret-long-enough-for-hs256-xx\n');
    const { server } = resolveServeConfig(
      {
        jwtKey: 'k',
        jwtIssuer: `https://localhost,https://idp.example=@${file},https://as.example=https://as.example/jwks.json`,
        jwtAudience: 'https://hub.example.com/.well-known/mercure',
        authorizationServer: 'https://as.example',
      },
      {},
    );
    assert.deepEqual(server.hub.jwtIssuers, [
      { issuer: 'https://localhost' },
      { issuer: 'https://idp.example', jwt: { key: 'an-idp-secret-long-enough-for-hs256-xx' } },
      { issuer: 'https://as.example', jwt: { jwksUrl: 'https://as.example/jwks.json' } },
    ]);
    assert.equal(server.hub.jwtAudience, 'https://hub.example.com/.well-known/mercure');
    assert.deepEqual(server.hub.authorizationServers, ['https://as.example']);
    const resolved = resolveHubOptions({ ...server.hub, logger: silentLogger() });
    assert.equal(resolved.jwtAudience, 'https://hub.example.com/.well-known/mercure');
    // Only issuers with their own keys: no development secret is generated.
    const own = resolveServeConfig({ jwtIssuer: `https://idp.example=@${file}` }, {}, secret);
    assert.equal(own.devSecret, undefined);
    assert.equal(own.server.hub.jwt, undefined);
    rejects(
      () => resolveServeConfig({ jwtKey: 'k', jwtIssuer: 'https://idp=ftp://x' }, {}),
      /--jwt-issuer https:\/\/idp/,
    );
    rejects(
      () => resolveServeConfig({ jwtKey: 'k', jwtIssuer: 'https://idp=@/nonexistent/key' }, {}),
      /cannot read/,
    );
    assert.throws(
      () =>
        resolveHubOptions({
          jwt: { key: 'k' },
          authorizationServers: ['https://not-trusted.example'],
          logger: silentLogger(),
        }),
      /not one of jwtIssuers/,
    );
  });
});
