import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { createRefuser } from '../../src/server/connection-limit.js';
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

  it('destroyAll() also destroys refused connections, so the server can close', async (t) => {
    const server = http.createServer((_req, res) => res.end('ok'));
    // A linger far longer than the test: only destroyAll() can end the refused socket in time.
    const refuse = createRefuser({ tls: false, lingerMs: 60_000 });
    const tracker = new ConnectionTracker(server, { maxConnections: 1, refuse });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const clients: net.Socket[] = [];
    t.after(() => {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
    });
    const connect = async () => {
      const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      socket.on('error', () => {});
      clients.push(socket);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      return socket;
    };
    await connect();
    await new Promise<void>((resolve) => {
      const wait = () => (tracker.size === 1 ? resolve() : setTimeout(wait, 5));
      wait();
    });
    const refused = await connect();
    let received = '';
    refused.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    await new Promise<void>((resolve) => refused.once('end', () => resolve()));
    assert.match(received, /^HTTP\/1\.1 503 /);

    const order: string[] = [];
    const closed = new Promise<void>((resolve) =>
      server.close(() => {
        order.push('server closed');
        resolve();
      }),
    );
    const refusedGone = new Promise<void>((resolve) =>
      refused.once('close', () => {
        order.push('refused closed');
        resolve();
      }),
    );
    // The client keeps sending (so it notices the destroy: a half-open side that only waits
    // would not), and never hangs up.
    const trickle = setInterval(() => refused.write('x'), 50);
    refused.once('close', () => clearInterval(trickle));
    t.after(() => clearInterval(trickle));
    assert.equal(tracker.destroyAll(), 1, 'counts the admitted connection');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 5_000);
    });
    await Promise.race([Promise.all([closed, refusedGone]), timeout]);
    clearTimeout(timer);
    assert.deepEqual([...order].sort(), ['refused closed', 'server closed']);
  });
});
