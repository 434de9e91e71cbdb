import { resolve } from 'node:path';
import { SseHubError } from '../errors.js';
import { createMemoryTransport, type MemoryTransportOptions } from './memory.js';
import { createSqliteTransport, type SqliteTransportOptions } from './sqlite.js';
import type { Transport } from './types.js';

/** What a transport URL names: which transport, with which options. */
export type TransportSpec =
  | { kind: 'memory'; options: MemoryTransportOptions }
  | { kind: 'sqlite'; options: SqliteTransportOptions };

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
  | 'trimIntervalMs'
  | 'busyTimeoutMs';

const MEMORY_PARAMS: readonly Param[] = ['maxHistory', 'maxHistoryAgeMs'];
const SQLITE_PARAMS: readonly Param[] = [
  'maxHistory',
  'maxHistoryAgeMs',
  'durability',
  'trimBatchSize',
  'trimIntervalMs',
  'busyTimeoutMs',
];

/**
 * Reads a transport URL:
 * - `memory:` or `memory://`
 * - `sqlite:///abs/path.db`, `sqlite:/abs/path.db`, `sqlite:relative/path.db` (against the
 *   working directory), `sqlite::memory:`; percent-escapes are decoded.
 * Options go in the query: `?maxHistory=5000&maxHistoryAgeMs=3600000`, and for SQLite also
 * `durability=process|power`, `trimBatchSize`, `trimIntervalMs`, `busyTimeoutMs`.
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
  throw invalid(`unsupported transport scheme "${scheme}"`);
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

function readParams(query: string, allowed: readonly Param[]): Partial<SqliteTransportOptions> {
  const out: Partial<SqliteTransportOptions> = {};
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw invalid(`unknown transport option "${name}"`);
    }
    if (seen.has(name)) throw invalid(`transport option "${name}" given twice`);
    seen.add(name);
    const param = name as Param;
    switch (param) {
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
