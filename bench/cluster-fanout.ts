// Scale-out benchmark: the standalone hub (`dist/cli/main.js serve`) as one node on memory, one
// node on Redis, two nodes on one Redis, and `--workers 1` vs `--workers 2` on memory, in one run.
// Reports deliveries/s, p50/p99 publish → receive latency and server CPU per delivery (every hub
// process, and redis-server apart). On a 2-core machine the load client shares the cores with the
// servers: what the client leaves for them is printed as "client CPU".
//
//   npm run build && node --import tsx bench/cluster-fanout.ts [--quick] [--only=<text>]
//
// `--only=redis` runs the setups whose name holds "redis" (and `--only=topics` the loads).
//
// Needs `redis-server` on PATH (Debian: apt-get install redis-server), or REDIS_URL.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  benchToken,
  now,
  pct,
  post,
  SECRET,
  Subscribers,
  topicName,
} from './fixtures/load-client.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const root = fileURLToPath(new URL('..', import.meta.url));
const CLK_TCK = 100; // Linux USER_HZ

interface Setup {
  name: string;
  /** Transport URL per node; `redis` is replaced by the benchmark's Redis URL. */
  nodes: string[];
  workers?: number;
}

interface Load {
  subscribers: number;
  topics: number;
  updates: number;
  inFlight: number;
}

const setups: Setup[] = [
  { name: '1 node, memory', nodes: ['memory:'] },
  { name: '1 node, redis', nodes: ['redis'] },
  { name: '2 nodes, one redis', nodes: ['redis', 'redis'] },
  { name: '--workers 1, memory', nodes: ['memory:'], workers: 1 },
  { name: '--workers 2, memory', nodes: ['memory:'], workers: 2 },
];

const loads: Load[] = quick
  ? [{ subscribers: 400, topics: 1, updates: 100, inFlight: 1 }]
  : [
      // Unloaded: what one more hop (Redis, IPC to the primary) adds to publish → receive.
      { subscribers: 1, topics: 1, updates: 1_000, inFlight: 1 },
      { subscribers: 4_000, topics: 1, updates: 200, inFlight: 1 },
      { subscribers: 4_000, topics: 4_000, updates: 8_000, inFlight: 32 },
    ];

/** CPU time (ms) of `pid` and every process below it, from /proc. */
function treeCpuMs(pid: number): number {
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      cpu.set(Number(entry), ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    total += cpu.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`${what}: no ${pattern} in 30 s\n${text}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = text.match(pattern);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(match);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code})\n${text}`)));
  });
}

async function startRedis(): Promise<{ url: string; pid: number | undefined; stop(): void }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, pid: undefined, stop() {} };
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await waitForLine(child, /Ready to accept connections/, 'redis-server');
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill('SIGKILL') };
}

async function startNode(
  transport: string,
  workers: number | undefined,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const args = ['dist/cli/main.js', 'serve', '--port', String(port), '--host', '127.0.0.1'];
  args.push('--transport', transport, '--no-demo', '--heartbeat', '0', '--log-level', 'warn');
  // Every client connects from 127.0.0.1: no per-client limits.
  args.push('--max-connections', '19000', '--max-streams-per-client', '0', '--anonymous');
  args.push('--max-subscribe-rate', '0', '--max-publish-rate', '0');
  if (workers !== undefined) args.push('--workers', String(workers));
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, SSEHUB_JWT_KEY: SECRET },
    // Warnings only: logging every publish would bill the hub for its log lines.
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // With workers, every one of them must be up: /readyz says so for the whole port.
  for (const deadline = Date.now() + 30_000; ; ) {
    if (exited) throw new Error(`node ${transport} exited while starting`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`node on ${port} never ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, port };
}

async function run(setup: Setup, load: Load, token: string, redisUrl: string) {
  const nodes = [];
  // A fresh key prefix per run: each setup starts from an empty history.
  const prefix = `bench${Date.now()}${Math.random().toString(36).slice(2, 6)}:`;
  for (const t of setup.nodes) {
    const url = t === 'redis' ? `${redisUrl}?prefix=${prefix}` : t;
    nodes.push(await startNode(url, setup.workers));
  }
  const ports = nodes.map((n) => n.port);
  const subs = new Subscribers();
  const agents = ports.map(() => new Agent({ keepAlive: true, maxSockets: load.inFlight }));
  try {
    await subs.open(ports, load.subscribers, load.topics);
    const perUpdate = load.subscribers / load.topics;
    const expected = Math.round(load.updates * perUpdate);
    const serverBefore = nodes.reduce((sum, n) => sum + treeCpuMs(n.child.pid!), 0);
    const clientBefore = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < load.updates) {
        const i = next++;
        const body = new URLSearchParams({
          topic: topicName(i % load.topics),
          data: `${i} ${now()}`,
        });
        // Publishes go round-robin to the nodes, as a load balancer would send them.
        const n = i % ports.length;
        await post(ports[n]!, agents[n]!, token, body.toString());
        if (load.inFlight === 1) await subs.until(Math.round((i + 1) * perUpdate));
      }
    };
    await Promise.all(Array.from({ length: load.inFlight }, worker));
    await subs.until(expected);
    const wallMs = performance.now() - t0;
    const serverMs = nodes.reduce((sum, n) => sum + treeCpuMs(n.child.pid!), 0) - serverBefore;
    const client = process.cpuUsage(clientBefore);
    const lat = subs.latencies.sort((a, b) => a - b);
    return {
      deliveries: subs.delivered,
      perSec: subs.delivered / (wallMs / 1000),
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      serverUs: (serverMs * 1000) / subs.delivered,
      clientUs: (client.user + client.system) / subs.delivered,
    };
  } finally {
    subs.close();
    for (const a of agents) a.destroy();
    for (const n of nodes) {
      n.child.kill('SIGTERM');
      await new Promise((r) => n.child.once('exit', r));
    }
  }
}

const redis = await startRedis();
try {
  const token = await benchToken();
  const f = (n: number, d = 1) => n.toFixed(d);
  console.log(
    'load | setup | deliveries/s | p50 ms | p99 ms | server CPU µs/delivery | redis CPU µs/delivery | client CPU µs/delivery',
  );
  for (const load of loads) {
    const label = `${load.subscribers} sub${load.subscribers > 1 ? 's' : ''}, ${load.topics} topic${load.topics > 1 ? 's' : ''}`;
    if (only !== undefined && !label.includes(only) && !setups.some((s) => s.name.includes(only))) {
      continue;
    }
    const baseline: Record<string, number> = {};
    for (const setup of setups) {
      if (only !== undefined && !label.includes(only) && !setup.name.includes(only)) continue;
      const redisBefore = redis.pid === undefined ? 0 : treeCpuMs(redis.pid);
      const r = await run(setup, load, token, redis.url);
      const redisUs =
        redis.pid === undefined
          ? Number.NaN
          : ((treeCpuMs(redis.pid) - redisBefore) * 1000) / r.deliveries;
      baseline[setup.name] = r.perSec;
      console.log(
        `${label} | ${setup.name} | ${f(r.perSec, 0)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.serverUs, 2)} | ${f(redisUs, 2)} | ${f(r.clientUs, 2)}`,
      );
    }
    const ratio = (a: string, b: string) =>
      baseline[a] === undefined || baseline[b] === undefined
        ? '–'
        : f(baseline[a] / baseline[b], 2);
    console.log(
      `${label} | ratios | 2 nodes / 1 node (redis) ×${ratio('2 nodes, one redis', '1 node, redis')} | redis / memory ×${ratio('1 node, redis', '1 node, memory')} | workers 2 / 1 ×${ratio('--workers 2, memory', '--workers 1, memory')}`,
    );
  }
} finally {
  redis.stop();
}
