import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { SseHubError } from '../errors.js';
import type { HubOptions, JwtIssuerOptions, JwtKeyOptions } from '../hub/options.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../server/limits.js';
import {
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  type ServerOptions,
} from '../server/options.js';
import { checkDurability, parseTransportUrl } from '../transport/url.js';
import { SERVE_SETTINGS, type ServeSetting } from './serve-settings.js';
import {
  parseBoolean,
  parseBytes,
  parseDuration,
  parseList,
  parseNonNegativeInt,
} from './units.js';
/** Raw values as the command line gave them (commander's parsed options), by setting key. */
export type ServeFlags = Readonly<Record<string, string | boolean | undefined>>;

/** What `ssehub serve` will run, after flags, environment and defaults are merged. */
export interface ServeConfig {
  /** Server options without the parts read from files (`tls`, `logger`). */
  server: Omit<ServerOptions, 'tls' | 'logger'> & { hub: HubOptions };
  /**
   * Processes serving the port (`--workers`): 1 runs the server in this process; more run a
   * cluster primary that forks them (see docs/server.md, "Workers").
   */
  workers: number;
  /** Certificate and key files to read, when TLS is on. */
  tlsFiles?: { cert: string; key: string };
  /**
   * Set when no key was configured: the HMAC secret generated for this process. Only for
   * development; the serve command logs it with a warning.
   */
  devSecret?: string;
}

type Value = string | number | boolean | string[];

/** Where a value came from, for error messages: `--port` or `SSEHUB_PORT`. */
function flagName(setting: ServeSetting): string {
  const long = setting.flag.split(/[ ,]+/).find((p) => p.startsWith('--'));
  return long ?? setting.flag;
}

function read(
  setting: ServeSetting,
  flags: ServeFlags,
  env: Readonly<Record<string, string | undefined>>,
): Value | undefined {
  const fromFlag = flags[setting.key];
  let raw: string | boolean | undefined;
  let source: string;
  if (fromFlag !== undefined) {
    raw = fromFlag;
    source = flagName(setting);
  } else {
    const name = setting.env.find((n) => env[n] !== undefined && env[n] !== '');
    if (name === undefined) return undefined;
    raw = env[name];
    source = name;
  }
  if (typeof raw === 'boolean') {
    if (setting.kind !== 'boolean') {
      throw new SseHubError('INVALID_CONFIG', `${source} needs a value`);
    }
    return raw;
  }
  const text = String(raw);
  switch (setting.kind) {
    case 'boolean':
      return parseBoolean(text, source);
    case 'port': {
      const port = parseNonNegativeInt(text, source);
      if (port > 65535) {
        throw new SseHubError('INVALID_CONFIG', `${source} must be between 0 and 65535`);
      }
      return port;
    }
    case 'integer':
    case 'duration': {
      const n =
        setting.kind === 'integer'
          ? parseNonNegativeInt(text, source)
          : parseDuration(text, source);
      if (setting.positive && n === 0) {
        throw new SseHubError('INVALID_CONFIG', `${source} must be greater than 0`);
      }
      return n;
    }
    case 'choice': {
      const choice = text.trim().toLowerCase();
      const choices = setting.choices ?? [];
      if (!choices.includes(choice)) {
        throw new SseHubError(
          'INVALID_CONFIG',
          `${source} must be one of ${choices.join(', ')} (got "${text}")`,
        );
      }
      return choice;
    }
    case 'workers': {
      const trimmed = text.trim().toLowerCase();
      if (trimmed === 'auto') return availableParallelism();
      const n = /^\d{1,4}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
      if (!(n >= 1 && n <= 1024)) {
        throw new SseHubError(
          'INVALID_CONFIG',
          `${source} must be an integer from 1 to 1024, or auto (got "${text}")`,
        );
      }
      return n;
    }
    case 'bytes':
      return parseBytes(text, source);
    case 'list':
      return parseList(text);
    case 'level': {
      const level = text.trim().toLowerCase();
      if (!(LOG_LEVELS as readonly string[]).includes(level)) {
        throw new SseHubError(
          'INVALID_CONFIG',
          `${source} must be one of ${LOG_LEVELS.join(', ')} (got "${text}")`,
        );
      }
      return level;
    }
    case 'string': {
      if (text.trim() === '') throw new SseHubError('INVALID_CONFIG', `${source} is empty`);
      return text;
    }
  }
}

function keyOptions(
  key: string | undefined,
  jwksUrl: string | undefined,
  algorithms: string[] | undefined,
): JwtKeyOptions | undefined {
  if (key === undefined && jwksUrl === undefined) return undefined;
  const out: JwtKeyOptions = {};
  if (key !== undefined) out.key = key;
  if (jwksUrl !== undefined) out.jwksUrl = jwksUrl;
  if (algorithms !== undefined) out.algorithms = algorithms;
  return out;
}

function checkUrl(value: string | undefined, what: string): void {
  if (value === undefined) return;
  let ok = false;
  try {
    const u = new URL(value);
    ok = u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    ok = false;
  }
  if (!ok) throw new SseHubError('INVALID_CONFIG', `${what} must be an http(s) URL`);
}

/**
 * `--jwt-issuer` entries: `id` (bound to the top-level keys), `id=<http(s) JWKS URL>` or
 * `id=@<file>` (an HMAC secret or a PEM public key, read now; a secret's trailing newline is
 * dropped). Inline keys are not taken: a secret in a flag shows in `ps`.
 */
function issuerOptions(entries: string[]): JwtIssuerOptions[] {
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    if (eq === -1) return { issuer: entry };
    const issuer = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (issuer === '' || value === '') {
      throw new SseHubError('INVALID_CONFIG', `--jwt-issuer: "${entry}" must be id or id=keys`);
    }
    if (value.startsWith('@')) {
      let key: string;
      try {
        key = readFileSync(value.slice(1), 'utf8');
      } catch (err) {
        throw new SseHubError(
          'INVALID_CONFIG',
          `--jwt-issuer ${issuer}: cannot read ${value.slice(1)}: ${(err as Error).message}`,
        );
      }
      if (!key.includes('-----BEGIN ')) key = key.replace(/\r?\n$/, '');
      return { issuer, jwt: { key } };
    }
    checkUrl(value, `--jwt-issuer ${issuer}: the keys (a JWKS URL, or @file)`);
    return { issuer, jwt: { jwksUrl: value } };
  });
}

/** 32 random bytes: the HMAC-SHA256 key size, far past brute force. */
function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Maps command-line flags and environment variables onto server and hub options. Pure apart from
 * `generateSecret` (called only when no key is configured). A flag wins over its environment
 * variable; unset settings are left out so the server and hub apply their own defaults.
 * Throws INVALID_CONFIG with a message naming the flag or variable at fault.
 */
export function resolveServeConfig(
  flags: ServeFlags,
  env: Readonly<Record<string, string | undefined>>,
  generateSecret: () => string = randomSecret,
): ServeConfig {
  const v: Record<string, Value | undefined> = {};
  for (const setting of SERVE_SETTINGS) v[setting.key] = read(setting, flags, env);
  const str = (k: string) => v[k] as string | undefined;
  const num = (k: string) => v[k] as number | undefined;
  const bool = (k: string) => v[k] as boolean | undefined;
  const list = (k: string) => v[k] as string[] | undefined;

  const transportUrl = str('transport') ?? 'memory:';
  const transportSpec = parseTransportUrl(transportUrl);
  const durability = str('durability') as ServerOptions['durability'];
  if (durability !== undefined && transportSpec.kind !== 'sqlite') {
    throw new SseHubError(
      'INVALID_CONFIG',
      `--durability (SSEHUB_DURABILITY) applies to a sqlite: transport only; the transport is ${transportSpec.kind}:`,
    );
  }
  checkDurability(transportSpec, durability);

  const hub: HubOptions = {};
  const algorithms = list('jwtAlgorithms');
  if (algorithms?.some((a) => a.toLowerCase() === 'none')) {
    throw new SseHubError('INVALID_CONFIG', 'the JWT algorithm "none" is never allowed');
  }
  for (const [k, what] of [
    ['publicUrl', '--public-url'],
    ['jwksUrl', '--jwks-url'],
    ['publisherJwksUrl', '--publisher-jwks-url'],
    ['subscriberJwksUrl', '--subscriber-jwks-url'],
  ] as const) {
    checkUrl(str(k), what);
  }
  const shared = keyOptions(str('jwtKey'), str('jwksUrl'), algorithms);
  const publisher = keyOptions(str('publisherJwtKey'), str('publisherJwksUrl'), algorithms);
  const subscriber = keyOptions(str('subscriberJwtKey'), str('subscriberJwksUrl'), algorithms);
  const issuerList = list('jwtIssuer');
  const issuers = issuerList === undefined ? undefined : issuerOptions(issuerList);
  if (issuers !== undefined) hub.jwtIssuers = issuers;
  const issuerKeys = issuers?.some((i) => i.jwt !== undefined) ?? false;
  let devSecret: string | undefined;
  let anonymous = bool('anonymous');
  if (!shared && !publisher && !subscriber && !issuerKeys) {
    // Development default: `npm start` must work with nothing configured.
    devSecret = generateSecret();
    hub.jwt = { key: devSecret };
    anonymous ??= true;
  } else {
    if (shared) hub.jwt = shared;
    if (publisher) hub.publisherJwt = publisher;
    if (subscriber) hub.subscriberJwt = subscriber;
    if (!shared && !publisher && !issuerKeys) {
      throw new SseHubError(
        'INVALID_CONFIG',
        'no key verifies publisher tokens: set --jwt-key (SSEHUB_JWT_KEY), --publisher-jwt-key or a JWKS URL',
      );
    }
    if (!shared && !subscriber && !issuerKeys && anonymous !== true) {
      throw new SseHubError(
        'INVALID_CONFIG',
        'no key verifies subscriber tokens: set --jwt-key (SSEHUB_JWT_KEY), --subscriber-jwt-key, or --anonymous',
      );
    }
  }
  if (anonymous !== undefined) hub.anonymous = anonymous;

  // Every other hub setting maps onto its option as read; unset ones get the hub's own default.
  const hubRecord = hub as Record<string, unknown>;
  for (const setting of SERVE_SETTINGS) {
    if (setting.hub === undefined || setting.hub === 'anonymous') continue;
    const value = v[setting.key];
    if (value !== undefined) hubRecord[setting.hub] = value;
  }
  if (hub.path !== undefined && (!hub.path.startsWith('/') || hub.path.includes('?'))) {
    throw new SseHubError('INVALID_CONFIG', '--path must start with / and hold no query');
  }

  const server: ServeConfig['server'] = {
    port: num('port') ?? 3000,
    transportUrl,
    demo: bool('demo') ?? true,
    metrics: bool('metrics') ?? false,
    // `auto`: on in development only; with a configured key, only when asked for (`--ui on`).
    console: (str('ui') ?? 'auto') === 'auto' ? devSecret !== undefined : str('ui') === 'on',
    logLevel: (str('logLevel') as LogLevel | undefined) ?? 'info',
    logFormat: (str('logFormat') as LogFormat | undefined) ?? 'auto',
    hub,
  };
  const host = str('host');
  if (host !== undefined) server.host = host;
  const drain = num('drainDelay');
  if (drain !== undefined) server.drainDelayMs = drain;
  const grace = num('shutdownGrace');
  if (grace !== undefined) server.shutdownGraceMs = grace;
  if (durability !== undefined) server.durability = durability;
  const serverNumbers: [keyof ServerOptions, number | undefined][] = [
    ['maxConnections', num('maxConnections')],
    ['maxStreamsPerConnection', num('maxStreamsPerConnection')],
    ['headersTimeoutMs', num('headersTimeout')],
    ['requestTimeoutMs', num('requestTimeout')],
    ['keepAliveTimeoutMs', num('keepAliveTimeout')],
    ['maxLogBufferBytes', num('maxLogBuffer')],
  ];
  const serverRecord = server as Record<string, unknown>;
  for (const [key, value] of serverNumbers) if (value !== undefined) serverRecord[key] = value;
  const streams = num('maxStreamsPerConnection');
  if (streams !== undefined && streams > 2 ** 32 - 1) {
    // An HTTP/2 SETTINGS value is 32 bits.
    throw new SseHubError(
      'INVALID_CONFIG',
      '--max-streams-per-connection must be at most 4294967295',
    );
  }
  const headers = num('headersTimeout');
  if (headers !== undefined && headers > (num('requestTimeout') ?? DEFAULT_REQUEST_TIMEOUT_MS)) {
    throw new SseHubError(
      'INVALID_CONFIG',
      '--headers-timeout must not exceed --request-timeout (the headers are part of the request)',
    );
  }

  const config: ServeConfig = { server, workers: num('workers') ?? 1 };
  const cert = str('tlsCert');
  const key = str('tlsKey');
  if ((cert === undefined) !== (key === undefined)) {
    throw new SseHubError(
      'INVALID_CONFIG',
      'TLS needs both --tls-cert (SSEHUB_TLS_CERT) and --tls-key (SSEHUB_TLS_KEY)',
    );
  }
  if (cert !== undefined && key !== undefined) config.tlsFiles = { cert, key };
  if (devSecret !== undefined) config.devSecret = devSecret;
  return config;
}
