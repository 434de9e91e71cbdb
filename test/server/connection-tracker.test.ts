import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { ConnectionTracker } from '../../src/server/shutdown.js';

function get(port: number, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.once('end', resolve);
      res.once('error', reject);
    });
    req.once('error', reject);
  });
}

/**
 * A server whose every request is tracked and answered at once, and a one-socket keep-alive
 * agent, both torn down after the test. `sockets` collects the server-side sockets seen.
 */
async function trackedServer(t: TestContext) {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    sockets.add(req.socket);
    tracker.track(req, res);
    res.end('ok');
  });
  const tracker = new ConnectionTracker(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => {
    agent.destroy();
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return { tracker, sockets, request: () => get(port, agent) };
}

describe('ConnectionTracker', () => {
  it('adds no socket listener per request on a keep-alive connection', async (t) => {
    const { sockets, request } = await trackedServer(t);
    await request();
    const [socket] = [...sockets];
    assert.ok(socket);
    const baseline = socket.listenerCount('close');
    for (let i = 0; i < 300; i++) await request();

    assert.equal(sockets.size, 1, 'all requests went over one keep-alive socket');
    assert.equal(socket.listenerCount('close'), baseline);
  });

  it('still closes a keep-alive socket once its last response ends after closeIdle()', async (t) => {
    const { tracker, sockets, request } = await trackedServer(t);
    for (let i = 0; i < 5; i++) await request();
    const [serverSocket] = [...sockets];
    assert.ok(serverSocket && !serverSocket.destroyed);
    const closed = new Promise<void>((resolve) => serverSocket.once('close', () => resolve()));
    tracker.closeIdle();
    await closed;
  });
});
