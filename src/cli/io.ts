import { isSseHubError } from '../errors.js';

/** What a command may touch of the process; injected so commands can run in tests. */
export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: CliIo = {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * Output streams whose errors a command handles itself, so the CLI's own EPIPE handler (exit:
 * the reader is done) stays out of the way. `serve` logs to stdout through a BoundedLogStream,
 * which stops logging on EPIPE: a server must outlive its log reader.
 */
export const selfHandledStreams = new WeakSet<NodeJS.WritableStream>();

/**
 * Raised by a command to stop with a message and an exit status, without a stack trace: the
 * user did something wrong or the hub said no, and the message says what.
 */
export class CliExit extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliExit';
    this.exitCode = exitCode;
  }
}

/** The one-line message for an error reaching the top of the CLI. */
export function describeError(err: unknown): string {
  if (err instanceof CliExit) return err.message;
  if (isSseHubError(err)) return err.message;
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
