import { resolve } from 'node:path';
import { SseHubError } from '../errors.js';
import { createMemoryTransport, type MemoryTransportOptions } from './memory.js';
import { createRedisTransport, type RedisTransportOptions } from './redis/index.js';
import { createSqliteTransport, type SqliteTransportOptions } from './sqlite.js';
import type { Transport } from './types.js';

/** What a transport URL names: which transport, with which options. */
export type TransportSpec =
  | { kind: 'memory'; options: MemoryTransportOptions }
  | { kind: 'sqlite'; options: SqliteTransportOptions }
  | { kind: 'redis'; options: RedisTransportOptions };

/** Options a URL cannot carry (callbacks, clocks); URL query parameters take precedence. */
export interface CreateTransportOptions {
  onError?: (err: unknown) => void;
  now?: () => number;
  maxHistory?: number;
  maxHistoryAgeMs?: number;
  /**
   * SQLite's `durability` (see `SqliteTransportOptions`), from a setting rather than the URL.
   * Refused for other transports, and when the URL says otherwise.
   */
  durability?: 'process' | 'power';
}

type Param =
  | 'maxHistory'
  | 'maxHistoryAgeMs'
  | 'durability'
  | 'trimBatchSize'
  | 'feedWindow'
  | 'trimIntervalMs'
  | 'busyTimeoutMs'
  | 'keyPrefix'
  | 'commandTimeoutMs'
  | 'connectTimeoutMs'
  | 'blockMs'
  | 'presenceTtlMs'
  | 'maxPresenceListing';

const MEMORY_PARAMS: readonly Param[] = ['maxHistory', 'maxHistoryAgeMs'];
const SQLITE_PARAMS: readonly Param[] = [
  'maxHistory',
  'maxHistoryAgeMs',
  'durability',
  'trimBatchSize',
  'trimIntervalMs',
  'busyTimeoutMs',
];

const REDIS_PARAMS: readonly Param[] = [
  'maxHistory',
  'maxHistoryAgeMs',
  'keyPrefix',
  'trimBatchSize',
  'feedWindow',
  'commandTimeoutMs',
  'connectTimeoutMs',
  'blockMs',
  'presenceTtlMs',
  'maxPresenceListing',
];

/** Query names accepted for another name (`prefix` is short for `keyPrefix`). */
const ALIASES: Readonly<Record<string, Param>> = { prefix: 'keyPrefix' };

/**
 * Reads a transport URL:
 * - `memory:` or `memory://`
 * - `sqlite:///abs/path.db`, `sqlite:/abs/path.db`, `sqlite:relative/path.db` (against the
 *   working directory), `sqlite::memory:`; percent-escapes are decoded.
 * Options go in the query: `?maxHistory=5000&maxHistoryAgeMs=3600000`, and for SQLite also
 * `durability=process|power`, `trimBatchSize`, `trimIntervalMs`, `busyTimeoutMs`.
 * - `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS); user and password are
 *   percent-decoded. Query: `maxHistory`, `maxHistoryAgeMs`, `prefix` (or `keyPrefix`),
 *   `trimBatchSize`, `feedWindow`, `commandTimeoutMs`, `connectTimeoutMs`, `blockMs`,
 *   `presenceTtlMs`, `maxPresenceListing`.
 * Throws INVALID_CONFIG on anything else. Error details never echo the URL (it may hold secrets
 * for other transports).
 */
export function parseTransportUrl(url: string): TransportSpec {
  if (typeof url !== 'string') throw invalid('the transport must be a URL string');
  const queryAt = url.indexOf('?');
  const base = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt + 1);
  const colon = base.indexOf(':');
  if (colon <= 0) throw invalid('the transport URL has no scheme (memory: or sqlite:)');
  const scheme = base.slice(0, colon).toLowerCase();
  const rest = base.slice(colon + 1);

  if (scheme === 'memory') {
    if (rest !== '' && rest !== '//') throw invalid('memory: takes no path');
    return { kind: 'memory', options: readParams(query, MEMORY_PARAMS) };
  }
  if (scheme === 'sqlite') {
    let path = rest;
    if (rest.startsWith('//')) {
      path = rest.slice(2);
      if (!path.startsWith('/')) {
        throw invalid('use sqlite:///absolute/path.db or sqlite:relative/path.db');
      }
    }
    path = decode(path);
    if (path === '') throw invalid('sqlite: needs a file path');
    if (path !== ':memory:') path = resolve(path);
    return { kind: 'sqlite', options: { ...readParams(query, SQLITE_PARAMS), path } };
  }
  if (scheme === 'redis' || scheme === 'rediss') {
    return {
      kind: 'redis',
      options: { ...readParams(query, REDIS_PARAMS), ...redisTarget(base, scheme) },
    };
  }
  throw invalid(`unsupported transport scheme "${scheme}"`);
}

/** Host, port, db, credentials and TLS of a `redis://` / `rediss://` URL (without its query). */
function redisTarget(base: string, scheme: 'redis' | 'rediss'): RedisTransportOptions {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw invalid(`the ${scheme}: URL is malformed`);
  }
  if (url.hash !== '') throw invalid(`a ${scheme}: URL takes no #fragment`);
  // new URL keeps a host's brackets ([::1]); ioredis wants the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw invalid(`${scheme}: needs a host`);
  const out: RedisTransportOptions = { host, port: url.port === '' ? 6379 : Number(url.port) };
  const path = url.pathname;
  if (path !== '' && path !== '/') {
    if (!/^\/\d{1,5}$/.test(path))
      throw invalid(`the path of a ${scheme}: URL is a database number`);
    out.db = Number(path.slice(1));
  }
  if (url.username !== '') out.username = decode(url.username);
  if (url.password !== '') out.password = decode(url.password);
  if (scheme === 'rediss') out.tls = true;
  return out;
}

/** Creates the transport a URL names (see {@link parseTransportUrl}). */
export async function createTransport(
  url: string,
  options: CreateTransportOptions = {},
): Promise<Transport> {
  const spec = parseTransportUrl(url);
  checkDurability(spec, options.durability);
  switch (spec.kind) {
    case 'memory': {
      const { durability: _unused, ...memoryOptions } = options;
      return createMemoryTransport({ ...memoryOptions, ...spec.options });
    }
    case 'sqlite':
      return createSqliteTransport({ ...options, ...spec.options });
    case 'redis': {
      const { durability: _unused, ...redisOptions } = options;
      return createRedisTransport({ ...redisOptions, ...spec.options });
    }
  }
}

/**
 * Throws INVALID_CONFIG when a durability setting cannot apply to `spec`: the transport is not
 * SQLite (memory keeps nothing to make durable), or the URL's own `durability` differs.
 */
export function checkDurability(
  spec: TransportSpec,
  durability: 'process' | 'power' | undefined,
): void {
  if (durability === undefined) return;
  if (spec.kind !== 'sqlite') {
    throw invalid(`durability applies to the sqlite: transport only, not ${spec.kind}:`);
  }
  if (spec.options.durability !== undefined && spec.options.durability !== durability) {
    throw invalid(
      `durability ${durability} conflicts with durability=${spec.options.durability} in the transport URL`,
    );
  }
}

type ParamValues = Partial<Omit<SqliteTransportOptions, 'path'>> &
  Partial<Pick<RedisTransportOptions, Param & keyof RedisTransportOptions>>;

function readParams(query: string, allowed: readonly Param[]): ParamValues {
  const out: ParamValues = {};
  const seen = new Set<string>();
  for (const [given, value] of new URLSearchParams(query)) {
    const name = ALIASES[given] ?? given;
    if (!(allowed as readonly string[]).includes(name)) {
      throw invalid(`unknown transport option "${given}"`);
    }
    if (seen.has(name)) throw invalid(`transport option "${name}" given twice`);
    seen.add(name);
    const param = name as Param;
    switch (param) {
      case 'keyPrefix':
        out.keyPrefix = value;
        break;
      case 'durability':
        if (value !== 'process' && value !== 'power') {
          throw invalid('durability must be process or power');
        }
        out.durability = value;
        break;
      case 'maxHistory':
        out.maxHistory = value === 'Infinity' ? Number.POSITIVE_INFINITY : integer(name, value, 0);
        break;
      case 'busyTimeoutMs':
        out.busyTimeoutMs = integer(name, value, 0);
        break;
      default:
        out[param] = integer(name, value, 1);
    }
  }
  return out;
}

function integer(name: string, value: string, min: number): number {
  const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min)) throw invalid(`transport option "${name}" must be an integer >= ${min}`);
  return n;
}

function decode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw invalid('the transport path has a bad percent-escape');
  }
}

function invalid(detail: string): SseHubError {
  return new SseHubError('INVALID_CONFIG', detail);
}
