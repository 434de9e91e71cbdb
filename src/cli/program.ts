import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isSseHubError } from '../errors.js';
import { CliExit, type CliIo, describeError, processIo } from './io.js';
import { registerPublish } from './publish.js';
import { registerServe } from './serve.js';
import { registerSubscribe } from './subscribe.js';
import { registerToken } from './token.js';

/** The package version; package.json sits two levels up from both src/cli and dist/cli. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The `ssehub` command with its subcommands. */
export function createProgram(io: CliIo = processIo): Command {
  const program = new Command('ssehub')
    .description(
      'Server-Sent Events for Node.js: a Mercure-protocol hub you can run, publish to and subscribe to from the command line.',
    )
    .version(version(), '-V, --version', 'print the version')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServe(program, io);
  registerToken(program, io);
  registerPublish(program, io);
  registerSubscribe(program, io);
  program.addHelpText(
    'after',
    `
Quick start:
  ssehub serve                        # hub on http://localhost:3000 (development defaults)
  ssehub token --secret "$SSEHUB_JWT_KEY" --publish '*'    # a publisher token
  ssehub publish https://example.com/books/1 --data hello --hub http://localhost:3000 --token "$TOKEN"
  ssehub subscribe https://example.com/books/1 --hub http://localhost:3000

Run "ssehub <command> --help" for the options of a command.`,
  );
  return program;
}

/**
 * Parses `argv` and runs the command. Resolves with the exit status for commands that finish
 * (`serve` and `subscribe` keep the process alive until a signal).
 */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" with status 0; usage errors were printed already.
      return err.exitCode;
    }
    io.stderr(`ssehub: ${describeError(err)}\n`);
    if (err instanceof CliExit) return err.exitCode;
    // Bad configuration is a usage error (2); anything else a failure (1).
    return isSseHubError(err, 'INVALID_CONFIG') || isSseHubError(err, 'INVALID_OPTION') ? 2 : 1;
  }
}
