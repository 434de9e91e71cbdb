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

type Route = 'hub' | 'subscriptions' | 'metadata' | 'unknown';

const ALLOW: Record<Route, string> = {
  hub: 'GET, POST, OPTIONS',
  subscriptions: 'GET, OPTIONS',
  metadata: 'GET, OPTIONS',
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
    if (route === 'metadata' && method === 'GET') {
      sendResourceMetadata(res, metadataBody);
      return;
    }
    let handle: (params: URLSearchParams) => Promise<void>;
    if (route === 'hub' && method === 'GET') handle = (q) => handleSubscribe(ctx, req, res, q);
    else if (route === 'hub' && method === 'POST') handle = (q) => handlePublish(ctx, req, res, q);
    else if (route === 'subscriptions' && method === 'GET') {
      handle = (q) => handleSubscriptions(ctx, req, res, q, rest);
    } else {
      fail(new SseHubError('METHOD_NOT_ALLOWED', method), { Allow: ALLOW[route] });
      return;
    }
    let work: Promise<void>;
    try {
      // Strict: invalid UTF-8 in a query name or value is a 400 (INVALID_ENCODING), never U+FFFD.
      // It throws synchronously, outside the handler's promise, so it joins the same error path.
      work = handle(parseQuery(query));
    } catch (err) {
      work = Promise.reject(err);
    }
    work.catch(fail);
  };
}
