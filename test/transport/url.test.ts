import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import {
  createTransport,
  MemoryTransport,
  parseTransportUrl,
  SqliteTransport,
} from '../../src/transport/index.js';

describe('parseTransportUrl', () => {
  it('reads memory URLs', () => {
    assert.deepEqual(parseTransportUrl('memory:'), { kind: 'memory', options: {} });
    assert.deepEqual(parseTransportUrl('memory://'), { kind: 'memory', options: {} });
    assert.deepEqual(parseTransportUrl('MEMORY://?maxHistory=5&maxHistoryAgeMs=60000'), {
      kind: 'memory',
      options: { maxHistory: 5, maxHistoryAgeMs: 60000 },
    });
    assert.deepEqual(parseTransportUrl('memory:?maxHistory=Infinity'), {
      kind: 'memory',
      options: { maxHistory: Number.POSITIVE_INFINITY },
    });
  });

  it('reads absolute and relative SQLite paths', () => {
    const path = (url: string) => {
      const spec = parseTransportUrl(url);
      assert.equal(spec.kind, 'sqlite');
      return spec.kind === 'sqlite' ? spec.options.path : undefined;
    };
    assert.equal(path('sqlite:///var/lib/ssehub/hub.db'), '/var/lib/ssehub/hub.db');
    assert.equal(path('sqlite:/var/hub.db'), '/var/hub.db');
    assert.equal(path('sqlite:relative.db'), resolve('relative.db'));
    assert.equal(path('sqlite:./data/hub.db'), resolve('data/hub.db'));
    assert.equal(path('sqlite:///tmp/with%20space.db'), '/tmp/with space.db');
    assert.equal(path('sqlite::memory:'), ':memory:');
  });

  it('reads SQLite options from the query', () => {
    assert.deepEqual(
      parseTransportUrl(
        'sqlite:///d/h.db?durability=power&maxHistory=0&trimBatchSize=10&trimIntervalMs=500&busyTimeoutMs=0',
      ),
      {
        kind: 'sqlite',
        options: {
          path: '/d/h.db',
          durability: 'power',
          maxHistory: 0,
          trimBatchSize: 10,
          trimIntervalMs: 500,
          busyTimeoutMs: 0,
        },
      },
    );
  });

  it('rejects anything else with INVALID_CONFIG', () => {
    const bad = [
      '',
      'memory',
      '://x',
      'memory:/somewhere',
      'memory://host',
      'sqlite:',
      'sqlite://',
      'sqlite://relative/hub.db',
      'sqlite:///bad%zzescape.db',
      'redis://',
      'redis://:6379',
      'redis://localhost:6379/abc',
      'redis://localhost:6379/1/2',
      'redis://localhost:99999',
      'redis://localhost#frag',
      'redis://localhost?durability=power',
      'redis://localhost?trimIntervalMs=5',
      'redis://localhost?prefix=a&keyPrefix=b',
      'redis://localhost?presenceTtlMs=0',
      'redis://u:%zz@localhost',
      'postgres://x',
      'memory:?durability=power',
      'memory:?maxHistory=-1',
      'memory:?maxHistory=1.5',
      'memory:?maxHistory=abc',
      'memory:?maxHistoryAgeMs=0',
      'memory:?maxHistory=1&maxHistory=2',
      'memory:?unknown=1',
      'sqlite:x.db?durability=sometimes',
      'sqlite:x.db?trimIntervalMs=',
    ];
    for (const url of bad) {
      assert.throws(
        () => parseTransportUrl(url),
        (err: unknown) => isSseHubError(err, 'INVALID_CONFIG'),
        url,
      );
    }
  });

  it('reads Redis URLs: host, port, db, credentials, TLS and options', () => {
    assert.deepEqual(parseTransportUrl('redis://localhost'), {
      kind: 'redis',
      options: { host: 'localhost', port: 6379 },
    });
    assert.deepEqual(
      parseTransportUrl(
        'redis://us%40er:p%3Ass@redis.internal:6380/3?prefix=hub1:&maxHistory=500&maxHistoryAgeMs=60000&presenceTtlMs=5000&commandTimeoutMs=800&connectTimeoutMs=3000&blockMs=200&trimBatchSize=64',
      ),
      {
        kind: 'redis',
        options: {
          host: 'redis.internal',
          port: 6380,
          db: 3,
          username: 'us@er',
          password: 'p:ss',
          keyPrefix: 'hub1:',
          maxHistory: 500,
          maxHistoryAgeMs: 60000,
          presenceTtlMs: 5000,
          commandTimeoutMs: 800,
          connectTimeoutMs: 3000,
          blockMs: 200,
          trimBatchSize: 64,
        },
      },
    );
    assert.deepEqual(parseTransportUrl('rediss://:only-pass@[::1]:7000/?keyPrefix=%7Bh%7D:'), {
      kind: 'redis',
      options: {
        host: '::1',
        port: 7000,
        password: 'only-pass',
        tls: true,
        keyPrefix: '{h}:',
      },
    });
  });

  it('does not echo a Redis password in errors', () => {
    for (const url of [
      'redis://user:s3cret@localhost:6379/x',
      'redis://user:s3cret@localhost?nope=1',
      'rediss://user:s3cret@:1',
    ]) {
      assert.throws(
        () => parseTransportUrl(url),
        (err: unknown) =>
          isSseHubError(err, 'INVALID_CONFIG') &&
          !err.message.includes('s3cret') &&
          !(err.detail ?? '').includes('s3cret'),
        url,
      );
    }
  });

  it('does not echo the URL in errors', () => {
    assert.throws(
      () => parseTransportUrl('postgres://user:s3cret@localhost'),
      (err: unknown) => isSseHubError(err, 'INVALID_CONFIG') && !err.message.includes('s3cret'),
    );
  });
});

describe('createTransport', () => {
  it('creates a memory transport with the given options', async () => {
    const transport = await createTransport('memory:?maxHistory=2');
    assert.ok(transport instanceof MemoryTransport);
    for (const id of ['a', 'b', 'c']) {
      await transport.publish({ id, topics: ['t'], data: '', private: false });
    }
    assert.deepEqual(
      (await transport.replay('earliest')).updates.map((u) => u.id),
      ['b', 'c'],
    );
    await transport.close();
  });

  it('creates a SQLite transport on a relative path, with its directory', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-url-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cwd = process.cwd();
    process.chdir(dir);
    t.after(() => process.chdir(cwd));
    const transport = await createTransport('sqlite:./data/hub.db', { maxHistory: 10 });
    t.after(() => transport.close());
    assert.ok(transport instanceof SqliteTransport);
    await transport.publish({ id: 'a', topics: ['t'], data: 'x', private: true });
    await transport.close();
    const again = await createTransport(`sqlite://${join(dir, 'data', 'hub.db')}`);
    t.after(() => again.close());
    assert.equal(await again.lastId(), 'a');
  });

  it('rejects an invalid URL', async () => {
    await assert.rejects(createTransport('nope'), (err: unknown) =>
      isSseHubError(err, 'INVALID_CONFIG'),
    );
  });
});
