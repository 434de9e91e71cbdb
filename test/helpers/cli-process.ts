// Spawns the real `ssehub` CLI (src/cli/main.ts through tsx) and lets a test wait for its output
// lines or its exit without sleeping. `startServe` parses the "listening on" log line to learn the
// port of `serve --port 0`.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WAIT_MS, Waiters } from './waiters.js';

export { DEFAULT_WAIT_MS };

const root = fileURLToPath(new URL('../..', import.meta.url));
export const CLI_MAIN = 'src/cli/main.ts';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The environment of a spawned CLI: the test's own, minus any SSEHUB_* setting, plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('SSEHUB_') && k !== 'PORT') env[k] = v;
  }
  return { ...env, ...extra };
}

/** One running CLI process with its output collected line by line. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  readonly exited: Promise<Exit>;
  /** Set at 'close': the process ended and its output streams are done. */
  exit: Exit | undefined;
  /**
   * Set at 'exit': the process ended, whatever became of its output (a stalled stdout that was
   * never read to its end holds 'close' back).
   */
  processExit: Exit | undefined;
  readonly #waiters = new Waiters(() => `\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`);

  constructor(args: string[], env: NodeJS.ProcessEnv = cliEnv()) {
    this.child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#collect(this.child.stdout, this.stdoutLines);
    this.#collect(this.child.stderr, this.stderrLines);
    this.child.once('exit', (code, signal) => {
      this.processExit = { code, signal };
      this.#waiters.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        this.#waiters.notify();
        resolve(this.exit);
      });
    });
  }

  get stdout(): string {
    return this.stdoutLines.join('\n');
  }

  get stderr(): string {
    return this.stderrLines.join('\n');
  }

  /** stdout lines that are JSON objects (pino log records). */
  get logs(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.stdoutLines) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log record
      }
    }
    return out;
  }

  /** Resolves once `check()` holds, re-checked on every line and at exit. */
  waitFor(check: () => boolean, label: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.#waiters.waitFor(check, label, timeoutMs);
  }

  /** Waits for a line of `stream` matching `pattern` and returns its match. */
  async waitForLine(
    pattern: RegExp,
    timeoutMs?: number,
    stream: 'stdout' | 'stderr' = 'stdout',
  ): Promise<RegExpMatchArray> {
    const lines = stream === 'stdout' ? this.stdoutLines : this.stderrLines;
    let match: RegExpMatchArray | null = null;
    await this.waitFor(
      () => {
        for (const line of lines) {
          match = line.match(pattern);
          if (match) return true;
        }
        return false;
      },
      `a ${stream} line matching ${pattern}`,
      timeoutMs,
    );
    return match as unknown as RegExpMatchArray;
  }

  /** Waits for the exit; fails if it takes longer than `timeoutMs`. */
  async waitForExit(timeoutMs = DEFAULT_WAIT_MS): Promise<Exit> {
    await this.waitFor(() => this.exit !== undefined, 'the process to exit', timeoutMs);
    return this.exit as Exit;
  }

  /**
   * Waits for the process itself to end ('exit'), for tests whose stdout is stalled or closed;
   * fails if it takes longer than `timeoutMs`.
   */
  async waitForProcessExit(timeoutMs = DEFAULT_WAIT_MS): Promise<Exit> {
    await this.waitFor(() => this.processExit !== undefined, 'the process to exit', timeoutMs);
    return this.processExit as Exit;
  }

  /**
   * Stops reading the child's stdout, like a log collector that stalled: once our side's buffer
   * and the kernel's are full, the child's writes to stdout no longer complete. Lines already
   * received stay in `stdoutLines`. After the child exits the rest is discarded, so that
   * 'close' (and `dispose`) still happen.
   */
  stallStdout(): void {
    const stdout = this.child.stdout;
    if (!stdout) return;
    stdout.removeAllListeners('data');
    stdout.pause();
    this.child.once('exit', () => stdout.destroy());
  }

  /** Closes our end of the child's stdout, like `| head` exiting: its writes then fail (EPIPE). */
  closeStdout(): void {
    this.child.stdout?.destroy();
  }

  /** Sends a signal if the process still runs. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.processExit === undefined && this.child.exitCode === null) this.child.kill(signal);
  }

  /** For `after` hooks: SIGKILL if still running, then wait for the exit. */
  async dispose(): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }

  #collect(stream: NodeJS.ReadableStream | null, lines: string[]): void {
    if (!stream) return;
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      if (parts.length === 0) return;
      lines.push(...parts);
      this.#waiters.notify();
    });
    stream.on('end', () => {
      if (pending !== '') lines.push(pending);
      pending = '';
      this.#waiters.notify();
    });
  }
}

/** Runs a CLI command to completion and returns its status and output. */
export async function runCli(
  args: string[],
  env?: NodeJS.ProcessEnv,
  timeoutMs = DEFAULT_WAIT_MS * 2,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = new CliProcess(args, env);
  try {
    const exit = await proc.waitForExit(timeoutMs);
    // 'close' fires after the pipes ended, so the output is complete.
    return { code: exit.code, stdout: proc.stdout, stderr: proc.stderr };
  } finally {
    proc.kill('SIGKILL');
  }
}

/** A running `ssehub serve` and the base URL it announced. */
export interface ServeProcess extends CliProcess {
  url: string;
  port: number;
}

/**
 * Starts `ssehub serve --port 0 --host 127.0.0.1 …` and resolves once it logged its URL.
 * Pass `env` to configure it through variables.
 */
export async function startServe(
  args: string[] = [],
  env?: NodeJS.ProcessEnv,
  timeoutMs = DEFAULT_WAIT_MS * 2,
): Promise<ServeProcess> {
  const proc = new CliProcess(['serve', '--port', '0', '--host', '127.0.0.1', ...args], env);
  try {
    const match = await Promise.race([
      proc.waitForLine(/listening on (https?:\/\/[^\s"]+)/, timeoutMs),
      proc.exited.then((exit) => {
        throw new Error(
          `serve exited early (${exit.code ?? exit.signal})\n${proc.stdout}\n${proc.stderr}`,
        );
      }),
    ]);
    const url = match[1] as string;
    return Object.assign(proc, { url, port: Number(new URL(url).port) });
  } catch (err) {
    await proc.dispose();
    throw err;
  }
}
