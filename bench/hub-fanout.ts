// Publish → deliver benchmark: ssehub's hub against a minimal raw node:http broadcaster, in one
// run, on loopback. Reports server CPU per delivery and p50/p99 publish→receive latency, and the
// hub/raw ratios. Run: npm run build && node --import tsx bench/hub-fanout.ts [--quick]
import { type ChildProcess, fork } from 'node:child_process';
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { benchToken, now, pct, post, Subscribers, topicName } from './fixtures/load-client.js';

const quick = process.argv.includes('--quick');

interface Scenario {
  name: string;
  subscribers: number;
  topics: number; // subscriber i listens to topic i % topics
  updates: number;
  inFlight: number; // publishes in flight at once
}

const scenarios: Scenario[] = quick
  ? [
      { name: '200 subs, 1 topic', subscribers: 200, topics: 1, updates: 50, inFlight: 1 },
      { name: '500 subs, 500 topics', subscribers: 500, topics: 500, updates: 500, inFlight: 20 },
    ]
  : [
      { name: '1k subs, 1 topic', subscribers: 1_000, topics: 1, updates: 300, inFlight: 1 },
      { name: '10k subs, 1 topic', subscribers: 10_000, topics: 1, updates: 60, inFlight: 1 },
      {
        name: '10k subs, 10k topics',
        subscribers: 10_000,
        topics: 10_000,
        updates: 10_000,
        inFlight: 32,
      },
    ];

function startServer(kind: 'hub' | 'raw'): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL('./fixtures/fanout-server.ts', import.meta.url).pathname, [kind], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m) => resolve({ child, port: (m as { port: number }).port }));
  });
}

function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMsg = (m: unknown) => {
      const cpu = (m as { cpu?: NodeJS.CpuUsage }).cpu;
      if (!cpu) return;
      child.off('message', onMsg);
      resolve((cpu.user + cpu.system) / 1000); // ms
    };
    child.on('message', onMsg);
    child.send('cpu');
  });
}

async function run(kind: 'hub' | 'raw', s: Scenario, token: string) {
  const { child, port } = await startServer(kind);
  const subs = new Subscribers();
  const agent = new Agent({ keepAlive: true, maxSockets: s.inFlight });
  try {
    await subs.open(port, s.subscribers, s.topics);
    const perUpdate = s.subscribers / s.topics; // deliveries each update makes
    const expected = Math.round(s.updates * perUpdate);
    const cpuBefore = await cpuOf(child);
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < s.updates) {
        const i = next++;
        const body = new URLSearchParams({ topic: topicName(i % s.topics), data: `${i} ${now()}` });
        await post(port, agent, token, body.toString());
        // One update at a time on a single topic: wait for its fan-out before the next.
        if (s.inFlight === 1) await subs.until(Math.round((i + 1) * perUpdate));
      }
    };
    await Promise.all(Array.from({ length: s.inFlight }, worker));
    await subs.until(expected);
    const wallMs = performance.now() - t0;
    const cpuMs = (await cpuOf(child)) - cpuBefore;
    const lat = subs.latencies.sort((a, b) => a - b);
    return {
      deliveries: subs.delivered,
      cpuUsPerDelivery: (cpuMs * 1000) / subs.delivered,
      deliveriesPerSec: subs.delivered / (wallMs / 1000),
      p50: pct(lat, 50),
      p99: pct(lat, 99),
    };
  } finally {
    subs.close();
    agent.destroy();
    child.send('exit');
    await new Promise((r) => child.once('exit', r));
  }
}

const token = await benchToken();

const f = (n: number, d = 1) => n.toFixed(d);
console.log('scenario | server | deliveries | CPU µs/delivery | deliveries/s | p50 ms | p99 ms');
for (const s of scenarios) {
  const raw = await run('raw', s, token);
  const hub = await run('hub', s, token);
  for (const [name, r] of [
    ['raw', raw],
    ['hub', hub],
  ] as const) {
    console.log(
      `${s.name} | ${name} | ${r.deliveries} | ${f(r.cpuUsPerDelivery, 2)} | ${f(r.deliveriesPerSec, 0)} | ${f(r.p50)} | ${f(r.p99)}`,
    );
  }
  console.log(
    `${s.name} | hub/raw | CPU per delivery ×${f(hub.cpuUsPerDelivery / raw.cpuUsPerDelivery, 2)} | p50 ×${f(hub.p50 / raw.p50, 2)} | p99 ×${f(hub.p99 / raw.p99, 2)}`,
  );
}
