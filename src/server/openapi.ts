import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { resourceMetadataPath } from '../hub/index.js';
import { DEFAULT_HUB_PATH } from '../hub/options.js';

/** Where the standalone server serves its OpenAPI document. */
export const OPENAPI_PATH = '/openapi.json';

/**
 * The checked-in document (the one source: `docs/` ships in the package). Resolved from this
 * module, so it is found from `src/server` (tsx) and from `dist/server` alike.
 */
export const OPENAPI_FILE = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));

/** The metadata path the checked-in document names: the one of the default hub path. */
const DOCUMENTED_METADATA_PATH = resourceMetadataPath(DEFAULT_HUB_PATH);

/** The option a path item needs, as the document marks it (`x-ssehub-requires`). */
type Feature = 'subscriptions' | 'metrics' | 'demo' | 'ui';

export interface OpenApiDocumentOptions {
  /** The hub's path (`--path`). */
  hubPath: string;
  /** The configured public URL (`--public-url`); without it the document names no server. */
  publicUrl?: string;
  /** Paths answering the protected resource metadata; default: the one of `hubPath`. */
  metadataPaths?: readonly string[];
  subscriptions: boolean;
  metrics: boolean;
  demo: boolean;
  /** The web console (`--ui`). */
  ui: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: a JSON document, read and rewritten by key only
type Json = Record<string, any>;

/**
 * The server URL of the document: the public URL less the hub path when it ends with it (a proxy
 * may mount the hub under a prefix), else its origin.
 */
function serverUrl(publicUrl: string, hubPath: string): string {
  const url = new URL(publicUrl);
  const path = url.pathname.replace(/\/$/, '');
  const suffix = hubPath === '/' ? '' : hubPath;
  const prefix = path.endsWith(suffix) ? path.slice(0, path.length - suffix.length) : '';
  return `${url.origin}${prefix}`;
}

/**
 * The document as a server with `options` serves it: the hub's paths under `hubPath`, the
 * metadata under its RFC 9728 path(s), without the routes of features that are off. Paths are
 * added in the router's order (the server's own, the hub's exact path, the demo's, then below the
 * hub's), so a path two routes would claim is described as the one that answers it.
 */
export function serverOpenApiDocument(
  options: OpenApiDocumentOptions,
  source: Json = loadOpenApiSource(),
): Json {
  const hubPrefix = options.hubPath === '/' ? '' : options.hubPath;
  const enabled = (item: Json) => {
    const feature = item['x-ssehub-requires'] as Feature | undefined;
    return feature === undefined || options[feature];
  };
  // 0: the server's own; 1: the hub's path; 2: the console's and the demo's (the router tries the
  // console first; their paths differ); 3: the metadata, then below the hub.
  const groups: [string, Json][][] = [[], [], [], []];
  for (const [path, item] of Object.entries(source.paths as Json)) {
    if (!enabled(item)) continue;
    if (path === DOCUMENTED_METADATA_PATH) {
      const metadata = options.metadataPaths ?? [resourceMetadataPath(options.hubPath)];
      // operationIds are unique in a document: a second path gets its own.
      groups[3]!.unshift(
        ...metadata.map((p, i): [string, Json] => [p, i === 0 ? item : renamed(item, i + 1)]),
      );
    } else if (path === DEFAULT_HUB_PATH) {
      groups[1]!.push([options.hubPath, item]);
    } else if (path.startsWith(`${DEFAULT_HUB_PATH}/`)) {
      groups[3]!.push([`${hubPrefix}${path.slice(DEFAULT_HUB_PATH.length)}`, item]);
    } else {
      const feature = item['x-ssehub-requires'];
      groups[feature === 'demo' || feature === 'ui' ? 2 : 0]!.push([path, item]);
    }
  }
  const paths: Json = {};
  for (const [path, item] of groups.flat()) {
    if (!(path in paths)) paths[path] = item;
  }
  const doc: Json = { ...source, paths };
  if (options.publicUrl !== undefined) {
    doc.servers = [
      {
        url: serverUrl(options.publicUrl, options.hubPath),
        description: 'The public URL of the hub (--public-url), less its path',
      },
    ];
  }
  return doc;
}

/** A copy of a path item whose operationIds end in `_${n}`. */
function renamed(item: Json, n: number): Json {
  const copy: Json = {};
  for (const [key, value] of Object.entries(item)) {
    copy[key] =
      value && typeof value === 'object' && typeof value.operationId === 'string'
        ? { ...value, operationId: `${value.operationId}_${n}` }
        : value;
  }
  return copy;
}

let source: Json | undefined;

/**
 * The checked-in document, read and parsed once per process (it is static). Synchronous: it runs
 * once, while startServer sets up, before the server listens.
 */
export function loadOpenApiSource(): Json {
  source ??= JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json;
  return source;
}

/**
 * `GET /openapi.json`: the document, serialized once. Public (it describes what any client can
 * probe) and readable cross-origin, so a hosted viewer can load it.
 */
export function createOpenApiRoute(doc: Json): (req: IncomingMessage, res: ServerResponse) => void {
  const body = Buffer.from(JSON.stringify(doc), 'utf8');
  return (req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': body.length,
      'cache-control': 'no-cache',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
