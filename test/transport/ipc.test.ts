import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { SseHubError } from '../../src/errors.js';
import { portChannel, processChannel } from '../../src/transport/ipc/channel.js';
import { createIpcClient, type IpcClientTransport } from '../../src/transport/ipc/client.js';
import { createIpcHost, type IpcConnection, type IpcHost } from '../../src/transport/ipc/host.js';
import { createMemoryTransport } from '../../src/transport/memory.js';
import { createSqliteTransport } from '../../src/transport/sqlite.js';
import type { Transport } from '../../src/transport/types.js';
import { type TransportTestOptions, transportConformance } from './conformance.js';
import { twoNodeConformance } from './conformance-two-nodes.js';
import { collector, ids, publishAll, range, rejectsWith, update, WAIT_MS } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hostChild = fileURLToPath(new URL('./fixtures/ipc-host-child.ts', import.meta.url));

type StoreFactory = (options: TransportTestOptions) => { store: Transport; cleanup(): void };

const memoryStore: StoreFactory = (options) => ({
  store: createMemoryTransport(options),
  cleanup() {},
});

const sqliteStore: StoreFactory = (options) => {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-ipc-'));
  try {
    return {
      store: createSqliteTransport({ ...options, path: join(dir, 'hub.db') }),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
};

/** A host over a fresh store and `n` clients, each on its own real MessageChannel. */
async function hostWithClients(
  makeStore: StoreFactory,
  n: number,
  options: TransportTestOptions = {},
): Promise<{
  host: IpcHost;
  clients: IpcClientTransport[];
  connections: IpcConnection[];
  cleanup(): Promise<void>;
}> {
  const { store, cleanup } = makeStore({
    ...(options.maxHistory !== undefined ? { maxHistory: options.maxHistory } : {}),
    ...(options.maxHistoryAgeMs !== undefined ? { maxHistoryAgeMs: options.maxHistoryAgeMs } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  const host = await createIpcHost(store);
  const clients: IpcClientTransport[] = [];
  const connections: IpcConnection[] = [];
  const ports: MessagePort[] = [];
  for (let i = 0; i < n; i++) {
    const { port1, port2 } = new MessageChannel();
    connections.push(host.attach(portChannel(port1)));
    const clientOptions = options.onError ? { onError: options.onError } : {};
    clients.push(createIpcClient(portChannel(port2), clientOptions));
    ports.push(port1 as unknown as MessagePort, port2 as unknown as MessagePort);
  }
  return {
    host,
    clients,
    connections,
    async cleanup() {
      for (const client of clients) await client.close();
      await host.close();
      for (const port of ports) port.close();
      cleanup();
    },
  };
}

for (const [name, makeStore] of [
  ['memory', memoryStore],
  ['sqlite', sqliteStore],
] as const) {
  transportConformance(`ipc (${name} host, MessageChannel)`, async (options) => {
    const { clients, cleanup } = await hostWithClients(makeStore, 1, options);
    return { transport: clients[0]!, cleanup };
  });

  twoNodeConformance(`ipc (${name} host, two clients)`, async (options) => {
    const { clients, connections, cleanup } = await hostWithClients(makeStore, 2, options);
    // The primary stops relaying to b (as it does when b's channel backs up); b then catches up
    // from the store, or reports the gap when the store trimmed what it missed.
    return { a: clients[0]!, b: clients[1]!, lag: () => connections[1]!.pause(), cleanup };
  });
}

/** A client in this process, its host in a forked child: real process IPC, JSON-serialised. */
async function clientOverProcess(maxHistory?: number, onError?: (err: unknown) => void) {
  const child = fork(hostChild, [maxHistory === undefined ? '' : String(maxHistory)], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ fixture: string; code?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('host child not ready')), WAIT_MS);
    child.on('message', (message: { fixture?: string; code?: string }) => {
      if (message.fixture === undefined) return;
      clearTimeout(timer);
      resolve(message as { fixture: string; code?: string });
    });
  });
  if (ready.fixture === 'error') {
    child.kill('SIGKILL');
    await exited;
    throw new SseHubError(ready.code as 'INVALID_OPTION');
  }
  const client = createIpcClient(processChannel(child), {
    requestTimeoutMs: 2_000,
    ...(onError ? { onError } : {}),
  });
  return {
    child,
    client,
    exited,
    async cleanup() {
      await client.close();
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

transportConformance(
  'ipc (memory host in a child process)',
  async (options) => {
    const { client, cleanup } = await clientOverProcess(options?.maxHistory, options?.onError);
    return { transport: client, cleanup };
  },
  // The store's clock cannot cross into the child.
  { clock: false },
);

describe('IPC transport', () => {
  it('rejects TRANSPORT_FAILURE when the primary dies, at once for pending and later calls', async (t) => {
    const { child, client, exited, cleanup } = await clientOverProcess();
    t.after(cleanup);
    await client.publish(update('a'));
    child.kill('SIGKILL');
    await exited;
    await rejectsWith(client.publish(update('b')), 'TRANSPORT_FAILURE');
    await rejectsWith(client.bounds(), 'TRANSPORT_FAILURE');
    assert.deepEqual(await client.health(), { ok: false, reason: 'primary process not answering' });
  });

  it('times out a request the primary never answers', async (t) => {
    const { port1, port2 } = new MessageChannel();
    t.after(() => port1.close());
    // Nobody answers on port1.
    port1.on('message', () => {});
    const client = createIpcClient(portChannel(port2), { requestTimeoutMs: 50 });
    t.after(() => client.close());
    await rejectsWith(client.lastId(), 'TRANSPORT_FAILURE');
    assert.equal((await client.health()).ok, false);
  });

  it('reports health, and presence across clients; a closed client drops its entries', async (t) => {
    const { clients, cleanup } = await hostWithClients(memoryStore, 2);
    t.after(cleanup);
    const [a, b] = clients as [IpcClientTransport, IpcClientTransport];
    assert.deepEqual(await a.health(), { ok: true });
    await a.addPresence([{ key: 'sa', group: 'g1', value: 'A' }]);
    await b.addPresence([
      { key: 'sb', group: 'g1', value: 'B' },
      { key: 'sc', group: 'g2', value: 'C' },
    ]);
    const keys = async (list: Promise<{ key: string }[]>) => (await list).map((e) => e.key).sort();
    assert.deepEqual(await keys(a.listPresence()), ['sa', 'sb', 'sc']);
    assert.deepEqual(await keys(b.listPresence('g1')), ['sa', 'sb']);
    assert.deepEqual(await a.getPresence('sc'), { key: 'sc', group: 'g2', value: 'C' });
    assert.equal(await a.getPresence('nope'), undefined);
    await b.removePresence(['sc']);
    assert.deepEqual(await keys(a.listPresence()), ['sa', 'sb']);
    await b.close();
    // The close message travels the same channel as a's next request, but another one: poll.
    const deadline = Date.now() + WAIT_MS;
    while ((await keys(a.listPresence())).length !== 1) {
      assert.ok(Date.now() < deadline, 'b entries dropped');
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await keys(a.listPresence()), ['sa']);
  });

  it('a worker whose channel backs up is fed from the store, in order, once each', async (t) => {
    // A channel that holds every message until told: pendingBytes grows as a stuck worker's would.
    const { port1, port2 } = new MessageChannel();
    const held: unknown[] = [];
    let pending = 0;
    const drains = new Set<() => void>();
    const inner = portChannel(port1);
    const stuck = {
      ...inner,
      get open() {
        return inner.open;
      },
      get pendingBytes() {
        return pending;
      },
      send(message: Parameters<typeof inner.send>[0], size = 256) {
        held.push(message);
        pending += size;
        return true;
      },
      onDrain(listener: () => void) {
        drains.add(listener);
        return () => drains.delete(listener);
      },
    };
    const store = createMemoryTransport();
    const host = await createIpcHost(store, { highWaterBytes: 2_000 });
    const connection = host.attach(stuck);
    const client = createIpcClient(portChannel(port2));
    const publisherPorts = new MessageChannel();
    host.attach(portChannel(publisherPorts.port1));
    const publisher = createIpcClient(portChannel(publisherPorts.port2));
    t.after(async () => {
      await client.close();
      await publisher.close();
      await host.close();
      port1.close();
      publisherPorts.port1.close();
    });
    const c = collector(client);
    await publishAll(publisher, range(40));
    assert.ok(connection.lagging, 'past the high-water mark the relay stops queueing');
    const queued = held.length;
    assert.ok(queued < 40, `only what fits below the mark was queued (${queued})`);
    // The worker reads again: the held messages leave, then the relay catches up from the store.
    const release = () => {
      const batch = held.splice(0);
      pending = 0;
      for (const message of batch) port1.postMessage(message);
      for (const drain of drains) drain();
    };
    release();
    const deadline = Date.now() + WAIT_MS;
    while (c.received.length < 40) {
      assert.ok(Date.now() < deadline, `got ${c.received.length} of 40`);
      await new Promise((resolve) => setImmediate(resolve));
      release();
    }
    assert.deepEqual(ids(c.received), range(40));
    assert.equal(connection.lagging, false);
  });
});
