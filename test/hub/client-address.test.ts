import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { clientAddress } from '../../src/hub/http/client-address.js';
import { parseTrustedProxies, resolveHubOptions } from '../../src/hub/options.js';
import {
  capturingLogger,
  getText,
  type RunningHub,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { eventually, openSse, type SseConnection } from '../helpers/sse-client.js';

function trusted(...entries: string[]) {
  const parsed = parseTrustedProxies(entries);
  assert.ok('list' in parsed);
  return parsed.list;
}

function request(peer: string, headers: Record<string, string | string[]> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  const proxies = trusted('10.0.0.0/8', '::1');

  it('is the peer when no proxy is trusted, whatever the headers say', () => {
    const req = request('192.0.2.1', { 'x-forwarded-for': '203.0.113.7' });
    assert.equal(clientAddress(req, undefined), '192.0.2.1');
  });

  it('ignores forwarding headers from a peer that is not a trusted proxy', () => {
    const req = request('192.0.2.1', {
      'x-forwarded-for': '203.0.113.7',
      forwarded: 'for=203.0.113.8',
    });
    assert.equal(clientAddress(req, proxies), '192.0.2.1');
  });

  it('takes the right-most X-Forwarded-For entry that is not a trusted proxy', () => {
    // The client forged the left-most entry; 203.0.113.7 is what the first trusted hop saw.
    const req = request('10.0.0.5', { 'x-forwarded-for': '198.51.100.66, 203.0.113.7, 10.1.2.3' });
    assert.equal(clientAddress(req, proxies), '203.0.113.7');
    // Several header lines are one list.
    const split = request('10.0.0.5', { 'x-forwarded-for': ['198.51.100.66', '203.0.113.9'] });
    assert.equal(clientAddress(split, proxies), '203.0.113.9');
  });

  it('reads IPv4-mapped peers, ports and brackets', () => {
    assert.equal(
      clientAddress(request('::ffff:10.0.0.5', { 'x-forwarded-for': '203.0.113.7:5123' }), proxies),
      '203.0.113.7',
    );
    assert.equal(
      clientAddress(request('::1', { 'x-forwarded-for': '[2001:db8::5]:443' }), proxies),
      '2001:db8::5',
    );
    assert.equal(
      clientAddress(request('::1', { 'x-forwarded-for': '2001:db8::6' }), proxies),
      '2001:db8::6',
    );
  });

  it('falls back to Forwarded: for= (RFC 7239) when there is no X-Forwarded-For', () => {
    const req = request('10.0.0.5', {
      forwarded: 'for=198.51.100.66;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.5',
    });
    assert.equal(clientAddress(req, proxies), '2001:db8:cafe::17');
  });

  it('stops at the last trusted hop on an entry that is no address', () => {
    const req = request('10.0.0.5', { 'x-forwarded-for': '203.0.113.7, unknown, 10.0.0.9' });
    assert.equal(clientAddress(req, proxies), '10.0.0.9');
    const garbage = request('10.0.0.5', { 'x-forwarded-for': 'not-an-address' });
    assert.equal(clientAddress(garbage, proxies), '10.0.0.5');
    assert.equal(clientAddress(request('10.0.0.5'), proxies), '10.0.0.5', 'no header: the peer');
  });

  it('uses the left-most entry when every hop is a trusted proxy', () => {
    const req = request('10.0.0.5', { 'x-forwarded-for': '10.9.9.9, 10.1.1.1' });
    assert.equal(clientAddress(req, proxies), '10.9.9.9');
  });

  it('trustedProxies: validated addresses and CIDRs, default none', () => {
    assert.deepEqual(resolveHubOptions({}).trustedProxies, []);
    assert.deepEqual(resolveHubOptions({ trustedProxies: ['10.0.0.0/8', '::1'] }).trustedProxies, [
      '10.0.0.0/8',
      '::1',
    ]);
    for (const bad of ['10.0.0.0/33', 'proxy.local', '::1/129', '10.0.0.0/']) {
      assert.throws(() => resolveHubOptions({ trustedProxies: [bad] }), /trustedProxies/, bad);
    }
  });
});

/** `stream_open` log records' addresses. */
function openedAddresses(lines: string[]): string[] {
  return lines
    .map((l) => JSON.parse(l) as { event?: string; address?: string })
    .filter((r) => r.event === 'stream_open')
    .map((r) => r.address ?? '');
}

describe('client address over HTTP (forged X-Forwarded-For)', () => {
  const open: SseConnection[] = [];
  after(() => {
    for (const conn of open) conn.close();
  });

  async function stream(h: RunningHub, xff: string): Promise<SseConnection> {
    const conn = await openSse(subscribeUrl(h.url, ['https://example.com/a']), {
      headers: { 'x-forwarded-for': xff },
    });
    open.push(conn);
    return conn;
  }

  describe('from a peer that is not a trusted proxy', () => {
    let h: RunningHub;
    const log = capturingLogger();
    before(async () => {
      h = await startHub({ anonymous: true, maxStreamsPerClient: 1, logger: log.logger });
    });
    after(() => h.close());

    it('ignores the header: limits and logs see the peer', async () => {
      assert.equal((await stream(h, '203.0.113.7')).status, 200);
      const refused = await getText(subscribeUrl(h.url, ['https://example.com/a']), {
        'x-forwarded-for': '203.0.113.8',
      });
      assert.equal(refused.status, 429, 'another forged address is still the same client');
      await eventually(() => openedAddresses(log.lines).length === 1, 'the stream_open line');
      assert.deepEqual(openedAddresses(log.lines), ['127.0.0.1']);
    });
  });

  describe('from a trusted proxy', () => {
    let h: RunningHub;
    const log = capturingLogger();
    before(async () => {
      h = await startHub({
        anonymous: true,
        maxStreamsPerClient: 1,
        trustedProxies: ['127.0.0.1', '::1'],
        logger: log.logger,
      });
    });
    after(() => h.close());

    it('uses the forwarded address for the limits and the log', async () => {
      assert.equal((await stream(h, '198.51.100.66, 203.0.113.7')).status, 200);
      assert.equal((await stream(h, '203.0.113.8')).status, 200, 'another client');
      // The client behind 203.0.113.7 again, with a forged entry on the left: still refused.
      const again = await getText(subscribeUrl(h.url, ['https://example.com/a']), {
        'x-forwarded-for': '192.0.2.200, 203.0.113.7',
      });
      assert.equal(again.status, 429);
      await eventually(() => openedAddresses(log.lines).length === 2, 'two stream_open lines');
      assert.deepEqual(openedAddresses(log.lines), ['203.0.113.7', '203.0.113.8']);
      assert.equal(
        h.hub.clientAddress(
          request('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }) as IncomingMessage,
        ),
        '203.0.113.9',
      );
    });

    it('keys the subscribe rate on the forwarded address', async () => {
      const limited = await startHub({
        anonymous: true,
        maxSubscribeRate: 1,
        subscribeBurst: 1,
        trustedProxies: ['127.0.0.1'],
      });
      try {
        const get = (xff: string) =>
          getText(`${limited.url}?topic=`, { 'x-forwarded-for': xff }).then((r) => r.status);
        // Each attempt is a 400 (empty topic), but an attempt all the same.
        assert.equal(await get('203.0.113.1'), 400);
        assert.equal(await get('203.0.113.1'), 429);
        assert.equal(await get('203.0.113.2'), 400, 'another address has its own bucket');
      } finally {
        await limited.close();
      }
    });
  });
});
