import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HUB_PATH,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_QUEUE_BYTES,
  type HubOptions,
  resolveHubOptions,
} from '../../src/hub/options.js';
import { silentLogger } from '../helpers/hub-server.js';

describe('resolveHubOptions', () => {
  it('fills in safe defaults', async () => {
    const o = resolveHubOptions({ logger: silentLogger() });
    assert.equal(o.path, DEFAULT_HUB_PATH);
    assert.equal(o.anonymous, false);
    assert.equal(o.allowQueryToken, false);
    assert.equal(o.subscriptions, false);
    assert.equal(o.heartbeatMs, DEFAULT_HEARTBEAT_MS);
    assert.equal(o.maxQueueBytes, DEFAULT_MAX_QUEUE_BYTES);
    assert.equal(o.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
    assert.ok(o.maxStreamLifetimeMs > 0, 'streams have a maximum lifetime by default');
    assert.deepEqual(o.corsOrigins, []);
    assert.equal(o.publicUrl, 'https://localhost/.well-known/mercure');
    // Without keys, every token is refused.
    await assert.rejects(o.authorizer.verify('x', 'publisher'), (err) =>
      isSseHubError(err, 'INVALID_TOKEN'),
    );
    await o.transport.close();
  });

  it('defaults publishOrigins to corsOrigins', () => {
    const o = resolveHubOptions({ corsOrigins: ['https://a.example'], logger: silentLogger() });
    assert.deepEqual(o.publishOrigins, ['https://a.example']);
  });

  it('never lets publishOrigins hold *: not inherited from corsOrigins, refused when given', () => {
    const o = resolveHubOptions({
      corsOrigins: ['*', 'https://a.example'],
      logger: silentLogger(),
    });
    assert.deepEqual(o.publishOrigins, ['https://a.example']);
    assert.throws(
      () => resolveHubOptions({ publishOrigins: ['*'], logger: silentLogger() }),
      (err) => isSseHubError(err, 'INVALID_OPTION') && /publishOrigins/.test(err.message),
    );
  });

  const bad: [string, HubOptions][] = [
    ['a negative limit', { maxBodyBytes: -1 }],
    ['a fractional limit', { maxQueueBytes: 1.5 }],
    ['a zero queue bound', { maxQueueBytes: 0 }],
    ['a heartbeat below the stream minimum', { heartbeatMs: 5 }],
    ['a jitter of 1', { lifetimeJitter: 1 }],
    ['a non-boolean flag', { anonymous: 'yes' as unknown as boolean }],
    ['an origin with a path', { corsOrigins: ['https://a.example/'] }],
    ['a path without a leading slash', { path: 'hub' }],
    ['a path with a trailing slash', { path: '/hub/' }],
    ['a relative publicUrl', { publicUrl: '/hub' }],
    ['an authorizer without verify', { authorizer: {} as never }],
  ];
  for (const [name, options] of bad) {
    it(`rejects ${name} with INVALID_OPTION`, () => {
      assert.throws(
        () => resolveHubOptions({ logger: silentLogger(), ...options }),
        (err) => isSseHubError(err, 'INVALID_OPTION'),
      );
    });
  }
});
