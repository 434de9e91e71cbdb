// The peers of the side-by-side benchmark, each started fresh for one run on a free loopback
// port: ssehub (`dist/cli/main.js serve`, also as `--workers 2` and as two nodes on one Redis),
// the raw node:http broadcaster, nginx+nchan and better-sse. In pinned mode every server process
// (Redis included) runs on CPU 0 through `taskset -c 0`; the load generator gets CPU 1.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SECRET = 'bench-secret-bench-secret-bench-secret';
export const NGINX = '/usr/sbin/nginx';
export const NCHAN_MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so';

export type PeerName =
  | 'ssehub'
  | 'ssehub-base'
  | 'raw'
  | 'nchan'
  | 'better-sse'
  | 'ssehub-w2'
  | 'ssehub-redis2';
export const ALL_PEERS: readonly PeerName[] = [
  'ssehub',
  'ssehub-base',
  'raw',
  'nchan',
  'better-sse',
  'ssehub-w2',
  'ssehub-redis2',
];

/** What the load generator needs to know about a peer. */
export interface LoadTarget {
  subAddrs: string[];
  subPath: string;
  pubUrl: string;
  pubStyle: 'form' | 'body';
  topicFmt: string;
  token?: string;
}

export interface RunningPeer {
  name: PeerName;
  target: LoadTarget;
  /** Root processes of the server side (their descendants count too). */
  pids: number[];
  stop(): Promise<void>;
}

/**
 * The checkout `ssehub-base` runs (`--base <dir>`, with its own `dist/` built): the same hub at
 * another commit, measured in the same run, for before/after ratios of a change.
 */
let baseRoot: string | undefined;
export function setBaseRoot(dir: string | undefined): void {
  baseRoot = dir;
}

/** Why a peer cannot run on this machine, or undefined. */
export function peerMissing(name: PeerName): string | undefined {
  if (name === 'ssehub-base') {
    if (baseRoot === undefined) return 'no --base checkout given';
    if (!existsSync(join(baseRoot, 'dist/cli/main.js'))) {
      return `${baseRoot}/dist/cli/main.js missing (npm run build there)`;
    }
    return undefined;
  }
  if (name === 'nchan' && !(existsSync(NGINX) && existsSync(NCHAN_MODULE))) {
    return `nginx+nchan missing (${NGINX}, ${NCHAN_MODULE})`;
  }
  if (name === 'ssehub-redis2' && spawnSync('redis-server', ['--version']).error) {
    return 'redis-server missing';
  }
  if (name.startsWith('ssehub') && !existsSync(join(ROOT, 'dist/cli/main.js'))) {
    return 'dist/cli/main.js missing (npm run build)';
  }
  return undefined;
}

/** Installs Debian's nginx and the nchan module when they are missing (root only). */
export function ensureNchan(log: (s: string) => void): void {
  if (peerMissing('nchan') === undefined) return;
  if (process.getuid?.() !== 0) return;
  log('installing nginx + libnginx-mod-nchan with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  spawnSync('apt-get', ['install', '-y', '-qq', 'libnginx-mod-nchan'], { stdio: 'ignore', env });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function httpOk(port: number, path: string): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** A server process with its stderr kept for error messages. */
class Proc {
  readonly child: ChildProcess;
  output = '';
  exited = false;
  readonly done: Promise<void>;

  constructor(cmd: string, args: string[], pinned: boolean, cwd = ROOT) {
    const [file, argv] = pinned ? ['taskset', ['-c', '0', cmd, ...args]] : [cmd, args];
    this.child = spawn(file, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.done = new Promise((resolve) =>
      this.child.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async waitUntil(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.exited) throw new Error(`${what} exited\n${this.output}`);
      if (await ok()) return;
      if (Date.now() > deadline)
        throw new Error(`${what} not ready after ${ms} ms\n${this.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.done;
    clearTimeout(timer);
  }
}

export function publisherToken(): Promise<string> {
  return new SignJWT({ mercure: { publish: ['*'], subscribe: ['*'] } })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
}

const HUB = '/.well-known/mercure';

const LIMIT_FLAGS = ['--max-streams-per-client', '--max-subscribe-rate', '--max-publish-rate'];
const limitsOffByRoot = new Map<string, string[]>();

/** The per-client limit flags `root`'s `ssehub serve` knows, each set to 0 (off). */
function limitsOff(root: string): string[] {
  let flags = limitsOffByRoot.get(root);
  if (flags === undefined) {
    const help = spawnSync(process.execPath, ['dist/cli/main.js', 'serve', '--help'], {
      cwd: root,
      encoding: 'utf8',
    }).stdout;
    flags = LIMIT_FLAGS.filter((flag) => help.includes(flag)).flatMap((flag) => [flag, '0']);
    limitsOffByRoot.set(root, flags);
  }
  return flags;
}

async function startSsehub(
  port: number,
  pinned: boolean,
  extra: string[],
  root = ROOT,
): Promise<Proc> {
  const args = [
    'dist/cli/main.js',
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--jwt-key',
    SECRET,
    '--anonymous',
    '--no-demo',
    '--heartbeat',
    '0',
    '--log-level',
    'warn',
    '--max-connections',
    '30000',
    // Every load-generator client connects from 127.0.0.1: the per-client limits would refuse
    // all but 64 streams, 40 subscribes at once and publishes past 2000 at once. Each is turned
    // off where the checkout has it (a base checkout older than a flag would refuse the flag).
    ...limitsOff(root),
    ...extra,
  ];
  const p = new Proc(process.execPath, args, pinned, root);
  await p.waitUntil('ssehub', () => httpOk(port, '/readyz'));
  return p;
}

function nchanConfig(dir: string, port: number): string {
  return `daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
load_module ${NCHAN_MODULE};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  nchan_shared_memory_size 256m;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /pub {
      nchan_publisher;
      nchan_channel_id $arg_id;
      nchan_message_buffer_length 200;
      nchan_message_timeout 1h;
    }
    location = /sub {
      nchan_subscriber eventsource;
      nchan_channel_id $arg_id;
      nchan_subscriber_first_message newest;
      nchan_eventsource_ping_interval 0;
    }
  }
}
`;
}

export async function startPeer(name: PeerName, pinned: boolean): Promise<RunningPeer> {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const topicFmt = 'https://bench.local/t/%d';
  if (name === 'raw' || name === 'better-sse') {
    const script = join(ROOT, 'bench/peers/servers', name === 'raw' ? 'raw.mjs' : 'better-sse.mjs');
    const p = new Proc(process.execPath, [script, String(port)], pinned);
    await p.waitUntil(name, () => tcpOpen(port));
    return {
      name,
      target: {
        subAddrs: [addr],
        subPath: '/?topic=',
        pubUrl: `http://${addr}/`,
        pubStyle: 'form',
        topicFmt,
      },
      pids: [p.pid],
      stop: () => p.stop(),
    };
  }
  if (name === 'nchan') {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-bench-nchan-'));
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nchanConfig(dir, port));
    const p = new Proc(NGINX, ['-p', dir, '-c', conf, '-e', 'stderr'], pinned);
    await p.waitUntil('nginx', () => tcpOpen(port));
    return {
      name,
      target: {
        subAddrs: [addr],
        subPath: '/sub?id=',
        pubUrl: `http://${addr}/pub?id=`,
        pubStyle: 'body',
        topicFmt: 't%d',
      },
      pids: [p.pid],
      stop: async () => {
        await p.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const token = await publisherToken();
  const hubTarget = (ports: number[]): LoadTarget => ({
    subAddrs: ports.map((p) => `127.0.0.1:${p}`),
    subPath: `${HUB}?topic=`,
    pubUrl: `http://127.0.0.1:${ports[0]}${HUB}`,
    pubStyle: 'form',
    topicFmt,
    token,
  });
  if (name === 'ssehub' || name === 'ssehub-base' || name === 'ssehub-w2') {
    const extra = name === 'ssehub-w2' ? ['--workers', '2'] : [];
    const root = name === 'ssehub-base' ? (baseRoot as string) : ROOT;
    const p = await startSsehub(port, pinned, extra, root);
    return { name, target: hubTarget([port]), pids: [p.pid], stop: () => p.stop() };
  }
  // Two nodes on one Redis of our own.
  const redisPort = await freePort();
  const redisDir = mkdtempSync(join(tmpdir(), 'ssehub-bench-redis-'));
  const redis = new Proc(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    pinned,
    redisDir,
  );
  await redis.waitUntil('redis-server', () => tcpOpen(redisPort));
  const transport = `redis://127.0.0.1:${redisPort}?prefix=bench${process.pid}:`;
  const second = await freePort();
  const nodes: Proc[] = [];
  try {
    nodes.push(await startSsehub(port, pinned, ['--transport', transport]));
    nodes.push(await startSsehub(second, pinned, ['--transport', transport]));
  } catch (err) {
    for (const n of nodes) await n.stop();
    await redis.stop();
    throw err;
  }
  return {
    name,
    target: hubTarget([port, second]),
    pids: [redis.pid, ...nodes.map((n) => n.pid)],
    stop: async () => {
      for (const n of nodes) await n.stop();
      await redis.stop();
      rmSync(redisDir, { recursive: true, force: true });
    },
  };
}
