// Starts Debian's nginx in a temporary prefix of its own (no root paths, no daemon): as a load
// balancer in front of hub nodes, with the proxy settings docs/scaling.md recommends, or with any
// configuration (test/deploy/nginx-proxy.test.ts runs deploy/nginx.conf).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { DEFAULT_WAIT_MS } from './waiters.js';

export const NGINX = '/usr/sbin/nginx';

/** Why nginx cannot run here, or undefined when it can. */
export function nginxMissing(): string | undefined {
  const probe = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return probe.error === undefined ? undefined : `no nginx at ${NGINX} (apt-get install nginx)`;
}

/**
 * A whole nginx.conf in `dir` around `http`, the contents of the http {} context: no daemon, one
 * worker, every path inside `dir`.
 */
export function nginxMainConfig(dir: string, http: string): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
}
`;
}

/** The server block of docs/scaling.md, for upstreams on 127.0.0.1. */
export function nginxConfig(dir: string, port: number, upstreams: readonly number[]): string {
  const servers = upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`);
  return nginxMainConfig(
    dir,
    `  upstream ssehub {
${servers.join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://ssehub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout;
      add_header X-Upstream $upstream_addr always;
    }
  }`,
  );
}

export interface RunningNginx {
  port: number;
  /** What nginx logged so far (its error log, warnings and up). */
  errorLog(): string;
  stop(): Promise<void>;
}

/** Starts nginx on a free port in front of `upstreams`; resolves once it accepts connections. */
export function startNginx(upstreams: readonly number[]): Promise<RunningNginx> {
  return startNginxWith((dir, port) => nginxConfig(dir, port, upstreams));
}

/**
 * Starts nginx with the nginx.conf `config(dir, port)` returns, for a free `port` it must listen
 * on (127.0.0.1) and its own temporary `dir`; resolves once it accepts connections.
 */
export async function startNginxWith(
  config: (dir: string, port: number) => string,
): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config(dir, port));
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', conf, '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => {
    let log = stderr;
    try {
      log += readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      // nothing logged yet
    }
    return log;
  };
  try {
    await waitForListening(port, exited, errorLog);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    errorLog,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `port` accepts a connection; fails when nginx exits or after a bound. */
async function waitForListening(
  port: number,
  exited: Promise<void>,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + DEFAULT_WAIT_MS;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (;;) {
    if (gone) throw new Error(`nginx exited\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nginx not listening on ${port}\n${output()}`);
    // nginx gives no readiness signal but its socket: poll it, politely, until the deadline.
    await new Promise<void>((resolve) => setTimeout(resolve, 25));
  }
}
