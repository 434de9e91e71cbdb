import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  DEFAULT_MINT_AUDIENCE,
  DEFAULT_MINT_ISSUER,
  DEFAULT_TOKEN_LIFETIME_SEC,
  type MintClaims,
  type MintKey,
  type MintSelector,
  mintToken,
} from '../hub/auth/index.js';
import { CliExit, type CliIo } from './io.js';
import { parseDuration } from './units.js';

export interface TokenFlags {
  publish?: string[];
  subscribe?: string[];
  secret?: string;
  privateKey?: string;
  algorithm?: string;
  expires?: string;
  draft?: string;
  payload?: string;
  subject?: string;
  issuer?: string;
  audience?: string;
  clientId?: string;
}

/**
 * A `--publish` / `--subscribe` value: draft 08 reads a `urlpattern:` or `exact:` prefix as the
 * matcher type (`urlpattern:https://example.com/books/:id`); draft 07 takes the text as it is.
 */
function selector(text: string, draft: '07' | '08'): MintSelector {
  if (draft === '08') {
    for (const type of ['urlpattern', 'exact'] as const) {
      if (text.startsWith(`${type}:`))
        return { match: text.slice(type.length + 1), match_type: type };
    }
  }
  return text;
}

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

/** The claims and key a `token` command line asks for. Throws CliExit on a usage error. */
export function tokenRequest(
  flags: TokenFlags,
  env: CliIo['env'],
): { claims: MintClaims; key: MintKey } {
  if (!flags.publish?.length && !flags.subscribe?.length) {
    throw new CliExit('give at least one --publish or --subscribe selector', 2);
  }
  const claims: MintClaims = {};
  const draft = flags.draft ?? '07';
  if (draft !== '07' && draft !== '08') {
    throw new CliExit(`--draft must be 07 or 08 (got "${draft}")`, 2);
  }
  claims.draft = draft;
  if (flags.publish?.length) claims.publish = flags.publish.map((t) => selector(t, draft));
  if (flags.subscribe?.length) claims.subscribe = flags.subscribe.map((t) => selector(t, draft));
  if (draft === '07' && flags.clientId !== undefined) {
    throw new CliExit('--client-id needs --draft 08 (draft-07 tokens carry no client_id)', 2);
  }
  // A bare number is seconds here: a JWT counts its lifetime in seconds.
  const lifetimeMs = parseDuration(
    flags.expires ?? String(DEFAULT_TOKEN_LIFETIME_SEC),
    '--expires',
    's',
  );
  if (lifetimeMs < 1000) throw new CliExit('--expires must be at least 1s', 2);
  claims.expiresIn = Math.floor(lifetimeMs / 1000);
  if (flags.payload !== undefined) {
    try {
      claims.payload = JSON.parse(flags.payload);
    } catch {
      throw new CliExit('--payload must be JSON, e.g. \'{"user":"alice"}\'', 2);
    }
  }
  if (flags.subject !== undefined) claims.subject = flags.subject;
  if (flags.issuer !== undefined) claims.issuer = flags.issuer;
  if (flags.audience !== undefined) claims.audience = flags.audience;
  if (flags.clientId !== undefined) claims.clientId = flags.clientId;

  const key: MintKey = {};
  if (flags.privateKey !== undefined) {
    if (flags.secret !== undefined) {
      throw new CliExit('give either --secret or --private-key, not both', 2);
    }
    try {
      key.privateKey = readFileSync(flags.privateKey, 'utf8');
    } catch (err) {
      throw new CliExit(`cannot read --private-key: ${(err as Error).message}`, 2);
    }
  } else {
    const secret = flags.secret ?? env.SSEHUB_JWT_KEY;
    if (!secret) {
      throw new CliExit(
        'no signing key: pass --secret (or set SSEHUB_JWT_KEY), or --private-key <pem file>',
        2,
      );
    }
    key.secret = secret;
  }
  if (flags.algorithm !== undefined) key.alg = flags.algorithm;
  return { claims, key };
}

export function registerToken(program: Command, io: CliIo): void {
  program
    .command('token')
    .summary('mint a JWT that lets its bearer publish and/or subscribe')
    .description(
      'Mint a Mercure JWT for the given topic selectors and print it. For development and tests: in production, tokens usually come from your application or identity provider.',
    )
    .option(
      '--publish <selector>',
      'topic selector the bearer may publish to (repeatable; * = all)',
      collect,
    )
    .option(
      '--subscribe <selector>',
      'topic selector whose private updates the bearer may receive (repeatable)',
      collect,
    )
    .option('--secret <secret>', 'HMAC secret to sign with (env: SSEHUB_JWT_KEY)')
    .option('--private-key <file>', 'PEM private key to sign with (RSA, EC or Ed25519)')
    .option('--algorithm <alg>', 'signing algorithm (default: HS256, or the one the key implies)')
    .option('--expires <duration>', 'lifetime, e.g. 30m, 1h, 7d; a bare number is seconds', '1h')
    .addOption(
      new Option(
        '--draft <draft>',
        'claim format: 07 (mercure claim) or 08 (RFC 9068 access token with authorization_details, typ at+jwt, iss, aud, sub, client_id, iat, exp, jti)',
      )
        .choices(['07', '08'])
        .default('07'),
    )
    .option('--payload <json>', 'JSON attached to the subscriber (shown in subscription events)')
    .option('--subject <sub>', 'the sub claim (draft 08 default: the client id)')
    .option('--issuer <iss>', `the iss claim (draft 08 default: ${DEFAULT_MINT_ISSUER})`)
    .option('--audience <aud>', `the aud claim (draft 08 default: ${DEFAULT_MINT_AUDIENCE})`)
    .option('--client-id <id>', 'the client_id claim (draft 08 only; default: the issuer)')
    .addHelpText(
      'after',
      `
Examples:
  ssehub token --secret "$SSEHUB_JWT_KEY" --publish '*'
  ssehub token --secret "$SSEHUB_JWT_KEY" --subscribe 'https://example.com/users/{id}' --expires 15m
  ssehub token --draft 08 --secret "$SSEHUB_JWT_KEY" --subscribe 'urlpattern:https://example.com/books/:id'`,
    )
    .action(async (flags: TokenFlags) => {
      const { claims, key } = tokenRequest(flags, io.env);
      io.stdout(`${await mintToken(claims, key)}\n`);
    });
}
