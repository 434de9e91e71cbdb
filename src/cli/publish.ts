import type { Command } from 'commander';
import { hubEndpoint } from './hub-url.js';
import { CliExit, type CliIo } from './io.js';
import { parseDuration } from './units.js';

export interface PublishFlags {
  hub?: string;
  token?: string;
  data?: string;
  private?: boolean;
  id?: string;
  type?: string;
  retry?: string;
}

/**
 * Most bytes of a hub's error answer echoed to the terminal. 4 KiB holds any useful message; a
 * proxy's HTML error page is cut rather than flooding the screen.
 */
export const MAX_ERROR_ECHO_BYTES = 4096;

/** The form body of a Mercure publish request. */
export function publishForm(topics: string[], flags: PublishFlags): URLSearchParams {
  const form = new URLSearchParams();
  for (const topic of topics) form.append('topic', topic);
  if (flags.data !== undefined) form.set('data', flags.data);
  if (flags.private) form.set('private', 'on');
  if (flags.id !== undefined) form.set('id', flags.id);
  if (flags.type !== undefined) form.set('type', flags.type);
  if (flags.retry !== undefined) {
    form.set('retry', String(parseDuration(flags.retry, '--retry')));
  }
  return form;
}

/** POSTs one update; resolves with the id the hub assigned. Throws CliExit with the hub's answer. */
export async function publish(
  topics: string[],
  flags: PublishFlags,
  env: CliIo['env'],
): Promise<string> {
  const endpoint = hubEndpoint(flags.hub ?? env.SSEHUB_HUB_URL);
  const token = flags.token ?? env.SSEHUB_TOKEN;
  if (!token) {
    throw new CliExit('publishing needs a token: pass --token or set SSEHUB_TOKEN', 2);
  }
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: publishForm(topics, flags),
    });
  } catch (err) {
    const cause =
      err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new CliExit(`could not reach the hub at ${endpoint.origin}${cause}`);
  }
  const text = await res.text();
  if (!res.ok) {
    const body = text.slice(0, MAX_ERROR_ECHO_BYTES).trim();
    throw new CliExit(`the hub answered ${res.status}${body ? `: ${body}` : ''}`);
  }
  return text.trim();
}

export function registerPublish(program: Command, io: CliIo): void {
  program
    .command('publish')
    .summary('publish one update to a hub and print its id')
    .description(
      'Publish one update to a Mercure hub (the first topic is canonical, the others alternates) and print the id the hub assigned.',
    )
    .argument('<topic...>', 'topic URL(s) of the update')
    .option('--hub <url>', 'hub URL or server origin (env: SSEHUB_HUB_URL)')
    .option('--token <jwt>', 'publisher JWT (env: SSEHUB_TOKEN); mint one with `ssehub token`')
    .option('-d, --data <text>', 'the update data')
    .option('--private', 'only subscribers whose token allows one of the topics receive it')
    .option('--id <id>', 'id of the update (default: the hub assigns a urn:uuid)')
    .option('--type <type>', 'SSE event type (event: field)')
    .option('--retry <duration>', 'reconnection delay sent with the update, e.g. 5s')
    .addHelpText(
      'after',
      `
Example:
  ssehub publish https://example.com/books/1 --data '{"title":"Dune"}' \\
    --hub http://localhost:3000 --token "$TOKEN"`,
    )
    .action(async (topics: string[], flags: PublishFlags) => {
      io.stdout(`${await publish(topics, flags, io.env)}\n`);
    });
}
