import type { Command } from 'commander';
import { subscribe as openSubscription } from '../client/subscribe.js';
import type { SseEvent } from '../client/types.js';
import { hubEndpoint } from './hub-url.js';
import { CliExit, type CliIo } from './io.js';

export interface SubscribeFlags {
  hub?: string;
  token?: string;
  lastEventId?: string;
  format?: string;
}

/**
 * Reconnect when the hub sent nothing for this long. 60 s: four missed 15 s heartbeats, so a
 * dead connection behind a silent proxy is noticed without tripping on a slow one.
 */
export const SUBSCRIBE_HEARTBEAT_TIMEOUT_MS = 60_000;

const FORMATS = ['text', 'json'] as const;

/** One event for the terminal: SSE-like blocks (`text`) or one JSON object per line (`json`). */
export function formatEvent(event: SseEvent, format: (typeof FORMATS)[number]): string {
  if (format === 'json') {
    return `${JSON.stringify({ id: event.lastEventId, type: event.type, data: event.data })}\n`;
  }
  let out = '';
  if (event.lastEventId !== '') out += `id: ${event.lastEventId}\n`;
  if (event.type !== 'message') out += `event: ${event.type}\n`;
  for (const line of event.data.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** The subscribe URL of a hub for the given topic selectors (draft 07 `topic=`, read by both drafts' hubs). */
export function subscribeUrl(hub: URL, topics: string[]): URL {
  const url = new URL(hub);
  for (const topic of topics) url.searchParams.append('topic', topic);
  return url;
}

/**
 * Prints events until `signal` aborts (Ctrl-C). Reconnects and resumes by itself; rejects with a
 * CliExit when the hub refuses for good (bad token, unknown path).
 */
export async function runSubscribe(
  topics: string[],
  flags: SubscribeFlags,
  io: CliIo,
  signal: AbortSignal,
): Promise<void> {
  const format = (flags.format ?? 'text') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) {
    throw new CliExit(`--format must be text or json (got "${flags.format}")`, 2);
  }
  const url = subscribeUrl(hubEndpoint(flags.hub ?? io.env.SSEHUB_HUB_URL), topics);
  const token = flags.token ?? io.env.SSEHUB_TOKEN;
  const subscription = openSubscription(url, {
    signal,
    heartbeatTimeoutMs: SUBSCRIBE_HEARTBEAT_TIMEOUT_MS,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    ...(flags.lastEventId !== undefined ? { lastEventId: flags.lastEventId } : {}),
    // Status goes to stderr so that stdout holds only events (pipe it into jq).
    onOpen: () => io.stderr(`connected to ${url.origin}${url.pathname}\n`),
    onReconnecting: (info) =>
      io.stderr(`${info.error.message}; reconnecting in ${Math.round(info.delayMs)} ms\n`),
    onHistoryLost: (info) =>
      io.stderr(
        `warning: the hub no longer has event ${info.requested}; some events were missed\n`,
      ),
  });
  try {
    for await (const event of subscription) io.stdout(formatEvent(event, format));
  } catch (err) {
    throw new CliExit(err instanceof Error ? err.message : String(err));
  }
}

export function registerSubscribe(program: Command, io: CliIo): void {
  program
    .command('subscribe')
    .summary('print the updates of topics as they arrive')
    .description(
      'Subscribe to topics on a Mercure hub and print every update as it arrives, until Ctrl-C. Reconnects by itself and resumes from the last event received. Status messages go to stderr, events to stdout.',
    )
    .argument('<topic...>', 'topics or topic selectors (URI templates, or * for all)')
    .option('--hub <url>', 'hub URL or server origin (env: SSEHUB_HUB_URL)')
    .option('--token <jwt>', 'subscriber JWT for private updates (env: SSEHUB_TOKEN)')
    .option('--last-event-id <id>', 'resume after this event id (earliest = all history)')
    .option('--format <format>', 'text (SSE-like blocks) or json (one object per line)', 'text')
    .addHelpText(
      'after',
      `
Example:
  ssehub subscribe 'https://example.com/books/{id}' --hub http://localhost:3000 --format json`,
    )
    .action(async (topics: string[], flags: SubscribeFlags) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await runSubscribe(topics, flags, io, controller.signal);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
