import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { SseHubError } from '../errors.js';
import { startServer } from '../server/create-server.js';
import { BoundedLogStream, createLogger } from '../server/logging.js';
import { lineFormatter } from '../server/pretty-log.js';
import {
  DEFAULT_DRAIN_DELAY_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  handleSignals,
} from '../server/shutdown.js';
import { runPrimary } from './cluster/primary.js';
import { DEV_SECRET_ENV, WORKER_ENV } from './cluster/protocol.js';
import { runWorker } from './cluster/worker.js';
import { resolveServeConfig, type ServeFlags } from './config.js';
import { type CliIo, selfHandledStreams } from './io.js';
import { SERVE_SETTINGS } from './serve-settings.js';

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SseHubError('INVALID_CONFIG', `cannot read the ${what} file: ${reason}`);
  }
}

/** Adds `serve`'s options from the settings table, grouped as in docs/server.md. */
function addSettings(command: Command): void {
  for (const setting of SERVE_SETTINGS) {
    const parts = [setting.description];
    const notes: string[] = [];
    if (setting.defaultText) notes.push(`default: ${setting.defaultText}`);
    notes.push(`env: ${setting.env.join(', ')}`);
    const description = `${parts.join('')} (${notes.join('; ')})`;
    const option = new Option(setting.flag, description).helpGroup(`${setting.group} options:`);
    command.addOption(option);
    if (setting.negate) {
      // Declaring both forms leaves the value undefined unless one is given, so the
      // environment variable still applies.
      command.addOption(
        new Option(setting.negate, `turn off ${setting.flag}`).helpGroup(
          `${setting.group} options:`,
        ),
      );
    }
  }
}

function logDevSecret(
  devSecret: string | undefined,
  logger: ReturnType<typeof createLogger>,
): void {
  if (devSecret === undefined) return;
  // The generated secret is logged on purpose: it exists only for this process (and its workers)
  // and a developer needs it to mint tokens. A configured secret is never logged.
  logger.warn(
    {
      mint: `ssehub token --secret '${devSecret}' --publish '*' --subscribe '*'`,
    },
    'No JWT key configured: using a random development secret, and subscribers without a token are allowed. Set SSEHUB_JWT_KEY (or --jwt-key) in production. Mint a token with the "mint" command shown here.',
  );
}

/** Runs `ssehub serve` until SIGTERM/SIGINT (with `--workers N`, as a cluster primary). */
export async function serve(flags: ServeFlags, io: CliIo): Promise<void> {
  // A worker of `--workers N` resolves the same flags and environment as its primary, but takes
  // the primary's development secret so that one token works on every worker.
  const isWorker = cluster.isWorker && io.env[WORKER_ENV] === '1';
  const inherited = isWorker ? io.env[DEV_SECRET_ENV] : undefined;
  const config =
    inherited === undefined
      ? resolveServeConfig(flags, io.env)
      : resolveServeConfig(flags, io.env, () => inherited);
  // Never blocks, never buffers without bound, survives EPIPE: see BoundedLogStream.
  const logStream = new BoundedLogStream(
    process.stdout,
    config.server.maxLogBufferBytes,
    lineFormatter(config.server.logFormat ?? 'auto', process.stdout),
  );
  selfHandledStreams.add(process.stdout);
  const logger = createLogger(config.server.logLevel, logStream);
  const tls = config.tlsFiles
    ? {
        cert: readPem(config.tlsFiles.cert, 'TLS certificate'),
        key: readPem(config.tlsFiles.key, 'TLS key'),
      }
    : undefined;
  if (isWorker) {
    await runWorker(config, { logger, logStream, ...(tls ? { tls } : {}) });
    return;
  }
  if (config.workers > 1) {
    logDevSecret(config.devSecret, logger);
    await runPrimary(config, { logger, logStream });
    return;
  }
  const running = await startServer({
    ...config.server,
    logger,
    logStream,
    ...(tls ? { tls } : {}),
  });
  logDevSecret(config.devSecret, logger);
  handleSignals(running, logger, {
    flushLogs: (ms) => logStream.settle(ms),
    shutdownBudgetMs:
      (config.server.drainDelayMs ?? DEFAULT_DRAIN_DELAY_MS) +
      (config.server.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS),
  });
}

export function registerServe(program: Command, io: CliIo): void {
  const command = program
    .command('serve')
    .summary('run the hub as a standalone server')
    .description(
      'Run the Mercure hub as a standalone HTTP server: the hub at /.well-known/mercure, health checks at /healthz and /readyz, the demo page at /, and in development the web console at /ui/. Every option can also be set through its environment variable; a flag wins over the variable.\n\nWith no JWT key configured, the server generates a random secret for this process, lets subscribers in without a token, and logs how to mint a token: fine for development, never for production.',
    );
  addSettings(command);
  command
    .addHelpText(
      'after',
      `
Examples:
  ssehub serve                                  # development: random secret, demo on :3000
  SSEHUB_JWT_KEY=change-me ssehub serve --port 8080 --transport sqlite:./hub.db --no-demo
  ssehub serve --tls-cert cert.pem --tls-key key.pem   # HTTP/2 with HTTP/1.1 fallback
  ssehub serve --workers auto --transport sqlite:./hub.db   # every core, one shared history`,
    )
    .action(async (flags: ServeFlags) => {
      await serve(flags, io);
    });
}
