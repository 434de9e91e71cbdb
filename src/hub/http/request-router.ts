import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSseHubError, SseHubError } from '../../errors.js';
import type { HubContext } from './context.js';
import { applyCors, setPreflightHeaders } from './cors.js';
import { sendError } from './error-response.js';
import { parseQuery } from './form-decoding.js';
import { markLoggedByHub } from './logged-by-hub.js';
import { handlePublish } from './publish-handler.js';
import {
  resourceMetadata,
  resourceMetadataPaths,
  resourceMetadataUrl,
  sendResourceMetadata,
} from './resource-metadata.js';
import { handleSubscribe } from './subscribe-handler.js';
import { handleSubscriptions } from './subscriptions-handler.js';

/** The hub's Node request handler (`Hub.handler`). */
export type HubRequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (err?: unknown) => void,
) => void;

/** A route of the hub; `unknown` is any other path below the hub's (404, and 204 to a preflight). */
type Route = keyof typeof HUB_ROUTES | 'unknown';

/** Where a hub route's OpenAPI paths start: the hub's path, or its metadata document's path. */
export type HubRouteBase = 'hub' | 'metadata';

export interface HubRouteSpec {
  readonly base: HubRouteBase;
  /** OpenAPI path templates after the base (`''`: the base itself). */
  readonly paths: readonly string[];
  /** Methods served besides OPTIONS, which every route answers (the CORS preflight). */
  readonly methods: readonly string[];
  /** The option without which the route is not served. */
  readonly requires?: 'subscriptions';
}

/**
 * The hub's routes: the methods the router dispatches for each (the handler table below must have
 * exactly these) and the paths they answer, as OpenAPI templates. The OpenAPI route-coverage test
 * reads this table, so a route added here and not to docs/openapi.json fails it.
 */
export const HUB_ROUTES = {
  // QUERY (RFC 10008): subscribe with the parameters in a form body too (Mercure's MAY).
  hub: { base: 'hub', paths: [''], methods: ['GET', 'POST', 'QUERY'] },
  subscriptions: {
    base: 'hub',
    // At most three segments after `/subscriptions` (see routeSubscriptions).
    paths: [
      '/subscriptions',
      '/subscriptions/{match_type_or_topic}',
      '/subscriptions/{match_type_or_topic}/{match_or_subscriber}',
      '/subscriptions/{match_type}/{match}/{subscriber}',
    ],
    methods: ['GET'],
    requires: 'subscriptions',
  },
  metadata: { base: 'metadata', paths: [''], methods: ['GET'] },
} as const satisfies Record<string, HubRouteSpec>;

type RouteHandler = (
  ctx: HubContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: string,
  rest: string,
) => Promise<void>;

/** Exactly the methods of HUB_ROUTES, each with its handler. */
type RouteHandlers = {
  readonly [R in keyof typeof HUB_ROUTES]: Readonly<
    Record<(typeof HUB_ROUTES)[R]['methods'][number], RouteHandler>
  >;
};

// Strict: invalid UTF-8 in a query name or value is a 400 (INVALID_ENCODING), never U+FFFD. It
// throws synchronously, before the handler's promise: the router catches it on the same path.
const subscribe: RouteHandler = (ctx, req, res, query) =>
  handleSubscribe(ctx, req, res, parseQuery(query));
const subscribeWithBody: RouteHandler = (ctx, req, res, query) =>
  handleSubscribe(ctx, req, res, parseQuery(query), true);
const publish: RouteHandler = (ctx, req, res, query) =>
  handlePublish(ctx, req, res, parseQuery(query));
const subscriptions: RouteHandler = (ctx, req, res, query, rest) =>
  handleSubscriptions(ctx, req, res, parseQuery(query), rest);

const ALLOW: Record<Route, string> = {
  hub: [...HUB_ROUTES.hub.methods, 'OPTIONS'].join(', '),
  subscriptions: [...HUB_ROUTES.subscriptions.methods, 'OPTIONS'].join(', '),
  metadata: [...HUB_ROUTES.metadata.methods, 'OPTIONS'].join(', '),
  unknown: 'OPTIONS',
};

function pathAndQuery(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  // Absolute-form request targets (sent to proxies) carry scheme and host.
  if (!path.startsWith('/')) {
    try {
      path = new URL(path).pathname;
    } catch {
      path = '';
    }
  }
  return { path, query: q === -1 ? '' : url.slice(q + 1) };
}

const DONE: Promise<void> = Promise.resolve();

function noContent(res: ServerResponse, status: number, headers: Record<string, string>): void {
  res.writeHead(status, headers);
  res.end();
}

/**
 * The hub's request handler: routes `/.well-known/mercure` (subscribe, publish),
 * `/.well-known/mercure/subscriptions…` (when enabled) and the protected resource metadata at
 * `/.well-known/oauth-protected-resource/.well-known/mercure` (outside the hub's path: RFC 9728
 * puts the well-known segment first), answers CORS preflights, and passes any other path to
 * `next` (or answers 404).
 */
export function createRequestHandler(ctx: HubContext): HubRequestHandler {
  const base = ctx.options.path;
  const metadataPaths = resourceMetadataPaths(ctx.options);
  // Fixed for the hub's life: made once, not per request.
  const metadataBody = JSON.stringify(resourceMetadata(ctx.options));
  const metadataUrl = resourceMetadataUrl(ctx.options);
  const subscriptionsBase = `${base === '/' ? '' : base}/subscriptions`;
  const below = `${base === '/' ? '' : base}/`;
  const handlers: RouteHandlers = {
    hub: { GET: subscribe, POST: publish, QUERY: subscribeWithBody },
    subscriptions: { GET: subscriptions },
    // Public and the same for every request (no query is read).
    metadata: {
      GET: (_ctx, _req, res) => {
        sendResourceMetadata(res, metadataBody);
        return DONE;
      },
    },
  };
  // Maps, made once per hub: dispatching allocates nothing, and a method named like an Object
  // property (`constructor`) finds no handler.
  const dispatch = new Map(
    Object.entries(handlers).map(([route, methods]) => [
      route,
      new Map<string, RouteHandler>(Object.entries(methods)),
    ]),
  );
  return (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    const { path, query } = pathAndQuery(req.url ?? '/');
    let route: Route;
    let rest = '';
    if (path === base) {
      route = 'hub';
    } else if (metadataPaths.has(path)) {
      route = 'metadata';
    } else if (
      ctx.options.subscriptions &&
      (path === subscriptionsBase || path.startsWith(`${subscriptionsBase}/`))
    ) {
      route = 'subscriptions';
      rest = path.slice(subscriptionsBase.length);
    } else if (path.startsWith(below) && base !== '/') {
      route = 'unknown';
    } else {
      if (next) next();
      else sendError(res, new SseHubError('NOT_FOUND'), ctx.options.logger);
      return;
    }

    const logger = ctx.options.logger;
    const fail = (err: unknown, headers?: Record<string, string>) => {
      // A per-client limit logged its refusal (one warning a second, with the count).
      if (isSseHubError(err) && err.status === 429) markLoggedByHub(res);
      sendError(res, err, logger, headers, metadataUrl);
    };
    const corsAllowed = applyCors(req, res, ctx.options.corsOrigins);
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      if (!corsAllowed) {
        fail(new SseHubError('ORIGIN_NOT_ALLOWED'));
        return;
      }
      if (req.headers.origin !== undefined) setPreflightHeaders(res);
      noContent(res, 204, { Allow: ALLOW[route] });
      return;
    }
    if (!ctx.accepting) {
      fail(new SseHubError('SHUTTING_DOWN'), { 'Retry-After': '1' });
      return;
    }
    if (route === 'unknown') {
      fail(new SseHubError('NOT_FOUND'));
      return;
    }
    const handle = dispatch.get(route)?.get(method);
    if (handle === undefined) {
      fail(new SseHubError('METHOD_NOT_ALLOWED', method), { Allow: ALLOW[route] });
      return;
    }
    let work: Promise<void>;
    try {
      work = handle(ctx, req, res, query, rest);
    } catch (err) {
      work = Promise.reject(err);
    }
    work.catch(fail);
  };
}
