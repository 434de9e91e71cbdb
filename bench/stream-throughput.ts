// Encode+write throughput of EventStream against a hand-written `res.write(`data: ${x}\n\n`)` loop,
// over real loopback sockets to N clients, in one run. Not part of `npm test`.
//
//   node --import tsx bench/stream-throughput.ts [clients=100] [events=5000] [batch=100]
//
// Modes (each event goes to every client):
//   raw     res.write(`data: ${x}\n\n`) per client: the tutorial's hand-written loop
//   send    stream.send({ data: x }) per client: EventStream encoding once per client
//   shared  encodeEvent once, stream.write(frame) per client: the intended fan-out
// Clients run in a worker thread on raw sockets and only count frame ends (`\n\n`), so their cost
// is small and the same for every mode. The server publishes in batches and waits for every
// client to have the batch before the next, so no mode wins by buffering unboundedly.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { encodeEvent } from '../src/protocol/encoder.js';
import { createEventStream } from '../src/stream/adapters/node.js';
import type { EventStream } from '../src/stream/event-stream.js';

const CLIENTS = Number(process.argv[2] ?? 100);
const EVENTS = Number(process.argv[3] ?? 5000);
const BATCH = Number(process.argv[4] ?? 100);
const ROUNDS = 3;
// A hard stop, so a broken run cannot hang.
const DEADLINE = Date.now() + 120_000;

type Mode = 'raw' | 'send' | 'shared';
const MODES: Mode[] = ['raw', 'send', 'shared'];

const CLIENT_WORKER = `
const net = require('node:net');
const { parentPort } = require('node:worker_threads');
let sockets = [];
let counts = [];
let target = 0;
let waiting = null;
function check() {
  if (waiting === null) return;
  for (const c of counts) if (c < target) return;
  const id = waiting;
  waiting = null;
  parentPort.postMessage({ type: 'reached', id });
}
parentPort.on('message', (m) => {
  if (m.type === 'connect') {
    sockets = [];
    counts = new Array(m.n).fill(0);
    for (let i = 0; i < m.n; i++) {
      const s = net.connect(m.port, '127.0.0.1');
      s.setNoDelay(true);
      let lastLF = false;
      s.on('data', (buf) => {
        // Frames end in a blank line; each frame here holds exactly one.
        let n = 0;
        let start = 0;
        if (lastLF && buf[0] === 10) { n++; start = 1; }
        let pos = buf.indexOf('\\n\\n', start);
        while (pos !== -1) { n++; pos = buf.indexOf('\\n\\n', pos + 2); }
        const end = buf.length;
        lastLF = end > start && buf[end - 1] === 10 && !(end - 2 >= start && buf[end - 2] === 10);
        counts[i] += n;
        check();
      });
      s.on('error', () => {});
      s.write('GET ' + m.path + ' HTTP/1.1\\r\\nHost: bench\\r\\nAccept: text/event-stream\\r\\n\\r\\n');
      sockets.push(s);
    }
  } else if (m.type === 'wait') {
    target = m.frames;
    waiting = m.id;
    check();
  } else if (m.type === 'close') {
    for (const s of sockets) s.destroy();
    sockets = [];
    parentPort.postMessage({ type: 'closed' });
  }
});
`;

const worker = new Worker(CLIENT_WORKER, { eval: true });
let nextWait = 0;
const waits = new Map<number, () => void>();
let onClosed: (() => void) | undefined;
worker.on('message', (m: { type: string; id?: number }) => {
  if (m.type === 'reached' && m.id !== undefined) waits.get(m.id)?.();
  if (m.type === 'closed') onClosed?.();
});

function clientsHave(frames: number): Promise<void> {
  const id = nextWait++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`clients stuck below ${frames} frames`)),
      Math.max(0, DEADLINE - Date.now()),
    );
    waits.set(id, () => {
      clearTimeout(timer);
      waits.delete(id);
      resolve();
    });
    worker.postMessage({ type: 'wait', id, frames });
  });
}

// Server side: the open responses/streams of the current mode.
let rawClients: http.ServerResponse[] = [];
let streams: EventStream[] = [];
let onOpen: (() => void) | undefined;
const server = http.createServer((req, res) => {
  if (req.url === '/raw') {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
    });
    res.write(': ok\n\n');
    rawClients.push(res);
  } else {
    streams.push(createEventStream(req, res, { heartbeatMs: 0 }));
  }
  onOpen?.();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

function payload(i: number): string {
  return JSON.stringify({
    seq: i,
    topic: 'https://example.com/books/1',
    status: 'in-stock',
    qty: i % 97,
  });
}

async function connect(mode: Mode): Promise<void> {
  rawClients = [];
  streams = [];
  const opened = new Promise<void>((resolve) => {
    onOpen = () => {
      if (rawClients.length + streams.length === CLIENTS) resolve();
    };
  });
  worker.postMessage({ type: 'connect', port, path: `/${mode}`, n: CLIENTS });
  await opened;
  await clientsHave(1);
}

async function disconnect(): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    onClosed = resolve;
  });
  for (const s of streams) s.close();
  for (const r of rawClients) r.end();
  worker.postMessage({ type: 'close' });
  await closed;
}

function publish(mode: Mode, i: number): void {
  const x = payload(i);
  if (mode === 'raw') {
    for (const res of rawClients) res.write(`data: ${x}\n\n`);
  } else if (mode === 'send') {
    for (const s of streams) s.send({ data: x });
  } else {
    const frame = encodeEvent({ data: x });
    for (const s of streams) s.write(frame);
  }
}

async function run(mode: Mode, events: number): Promise<number> {
  await connect(mode);
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < events; ) {
    const n = Math.min(BATCH, events - sent);
    for (let i = 0; i < n; i++) publish(mode, sent + i);
    sent += n;
    await clientsHave(1 + sent);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await disconnect();
  return seconds;
}

const totals: Record<Mode, number[]> = { raw: [], send: [], shared: [] };
// Warm-up: JIT and socket paths, not measured.
for (const mode of MODES) await run(mode, Math.min(EVENTS, 500));
// Rounds interleave the modes so drift (thermal, GC, other load) hits each alike.
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) totals[mode].push(await run(mode, EVENTS));
}
await worker.terminate();
server.closeAllConnections();
server.close();

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const deliveries = CLIENTS * EVENTS;
const rows = MODES.map((mode) => {
  const seconds = median(totals[mode]);
  return { mode, seconds, perSecond: deliveries / seconds };
});
const raw = rows[0]?.perSecond ?? 1;
console.log(
  `stream throughput: ${CLIENTS} clients x ${EVENTS} events (${deliveries} deliveries), ` +
    `batches of ${BATCH}, median of ${ROUNDS} rounds, node ${process.version}`,
);
for (const r of rows) {
  console.log(
    `  ${r.mode.padEnd(7)} ${r.seconds.toFixed(3).padStart(7)} s  ` +
      `${Math.round(r.perSecond).toLocaleString('en-US').padStart(11)} events/s  ` +
      `x${(r.perSecond / raw).toFixed(2)} vs raw`,
  );
}
console.log(JSON.stringify({ clients: CLIENTS, events: EVENTS, batch: BATCH, rows }));
