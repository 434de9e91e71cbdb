import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

// A redis-server of a test file's own, on a free port, without persistence unless a test asks
// for a restart that keeps the data. With REDIS_URL set, that server is used instead (and the
// tests that stop or restart the server are skipped).

/** Generous bound for the server to start or stop: slow CI is fine, a hang fails. */
const START_TIMEOUT_MS = 20_000;

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` (or REDIS_URL). */
  url: string;
  host: string;
  port: number;
  /** False with REDIS_URL: the server is not ours to stop. */
  controllable: boolean;
  /**
   * Stops the server: killed (its data gone) by default; with `keepData` it saves to disk first and
   * `start()` loads it back.
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Starts it again on the same port (after `stop`). */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers. */
  freeze(): void;
  /** Lets a frozen process go on (SIGCONT). */
  thaw(): void;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
}

let prefixes = 0;
/** A key prefix no other test uses, so tests can share one server. */
export function uniquePrefix(label = 't'): string {
  prefixes++;
  return `ssehub-test:${process.pid}:${label}${prefixes}:`;
}

/**
 * Starts a server of the test file's own (or returns REDIS_URL's). `extraArgs` go to
 * redis-server (e.g. `['--requirepass', 'x']`); a test that passes some needs its own server,
 * so `own: true` ignores REDIS_URL.
 */
export async function startRedisServer(
  options: { extraArgs?: readonly string[]; own?: boolean } = {},
): Promise<RedisServer> {
  const external = options.own ? undefined : process.env.REDIS_URL;
  if (external) {
    const u = new URL(external);
    return {
      url: external,
      host: u.hostname,
      port: Number(u.port || 6379),
      controllable: false,
      stop: async () => {
        throw new Error('REDIS_URL server cannot be stopped by tests');
      },
      start: async () => {},
      freeze: () => {
        throw new Error('REDIS_URL server cannot be frozen by tests');
      },
      thaw: () => {},
      dispose: async () => {},
    };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-redis-'));
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--dbfilename',
        'dump.rdb',
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`redis-server did not start in ${START_TIMEOUT_MS} ms:\n${output}`));
      }, START_TIMEOUT_MS);
      const onData = (): void => {
        if (output.includes('Ready to accept connections')) {
          cleanup();
          resolve();
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`redis-server exited (${code}) while starting:\n${output}`));
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      function cleanup(): void {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.off('exit', onExit);
        proc.off('error', onError);
      }
      proc.stdout?.on('data', onData);
      proc.once('exit', onExit);
      proc.once('error', onError);
      onData();
    });
  }

  async function stop(how: { keepData?: boolean } = {}): Promise<void> {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null) return;
    child = undefined;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (how.keepData) {
      await command(port, 'SHUTDOWN SAVE').catch(() => proc.kill('SIGKILL'));
    } else {
      proc.kill('SIGKILL'); // a crash: whatever was in memory is gone
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      exited,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          proc.kill('SIGKILL');
          resolve();
        }, START_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    await exited;
    if (!how.keepData) rmSync(join(dir, 'dump.rdb'), { force: true });
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    controllable: true,
    stop,
    start,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    dispose: async () => {
      child?.kill('SIGCONT');
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on now: the OS picks one for a listener that is closed at once. */
/** Sends one inline command and resolves on the first reply (or the server closing). */
function command(port: number, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.setTimeout(START_TIMEOUT_MS, () => socket.destroy(new Error('no reply')));
    socket.once('error', reject);
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.once('close', () => resolve());
    socket.connect(port, '127.0.0.1', () => socket.write(`${line}\r\n`));
  });
}
