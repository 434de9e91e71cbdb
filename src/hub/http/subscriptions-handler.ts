import type { IncomingMessage, ServerResponse } from 'node:http';
import { SseHubError } from '../../errors.js';
import {
  EARLIEST,
  MERCURE_CONTEXT,
  matcherSubscriptionTopic,
  SUBSCRIPTION_EVENT_TYPE,
  subscriptionTopic,
} from '../core/index.js';
import { authenticate } from './authenticate.js';
import type { HubContext } from './context.js';
import { routeSubscriptions, type SubscriptionsRoute } from './subscriptions-route.js';

/** Escapes a Link parameter's quoted-string (RFC 8288): only `"` and `\` need it. */
function linkQuote(value: string): string {
  return value.replace(/["\\]/g, (c) => `\\${c}`);
}

/**
 * Node writes header strings as Latin-1: an id's UTF-8 bytes go out as one Latin-1 character
 * each, so a client decoding the header as UTF-8 reads the id back (as for `Last-Event-ID`).
 */
function latin1(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/**
 * An entity-tag (RFC 9110 §8.8.3) for the cursor: DQUOTE-wrapped etagc bytes. Ids may hold
 * spaces, quotes and other bytes outside etagc, so those are percent-encoded, and `%` too, so
 * two ids never share a tag. Bytes from 0x80 are etagc (obs-text) and stay.
 */
export function etagFor(lastEventId: string): string {
  let tag = '';
  for (const c of latin1(lastEventId)) {
    const code = c.charCodeAt(0);
    tag +=
      code < 0x21 || c === '"' || c === '%' || code === 0x7f
        ? `%${code.toString(16).toUpperCase().padStart(2, '0')}`
        : c;
  }
  return `"${tag}"`;
}

/** The `rel="mercure"` Link carrying the reconciliation cursor (and, for the current shape, the type of its events). */
export function subscriptionsLink(hubUrl: string, lastEventId: string, current: boolean): string {
  let link = `<${hubUrl}>; rel="mercure"; last-event-id="${latin1(linkQuote(lastEventId))}"`;
  if (current) link += `; type="${SUBSCRIPTION_EVENT_TYPE}"; content-type="application/json"`;
  return link;
}

function ifNoneMatch(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/** The canonical relative URL of the requested resource: the topic its grants are matched with. */
function canonicalPath(route: SubscriptionsRoute, prefix: string): string {
  return route.shape === 'current'
    ? matcherSubscriptionTopic(route.matchType, route.match, route.subscriber, prefix)
    : subscriptionTopic(route.topic, route.subscriber, prefix);
}

function appendVary(res: ServerResponse, name: string): void {
  const existing = res.getHeader('vary');
  res.setHeader('Vary', existing === undefined ? name : `${String(existing)}, ${name}`);
}

/**
 * `GET {hub}/subscriptions[…]`: the active subscriptions, in the current spec's shape (JSON, the
 * cursor in a `Link` header, ETag) or draft 07's (JSON-LD, the cursor in the body) as the request
 * shows (see subscriptions-route.ts). Allowed when a subscribe selector of the requester's token
 * matches the requested URL in its canonical form (the same form as the subscription events'
 * topics), so one selector covers the events and the API alike.
 */
export async function handleSubscriptions(
  ctx: HubContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  rest: string,
): Promise<void> {
  const registry = ctx.registry;
  if (registry === undefined) throw new SseHubError('NOT_FOUND');
  const route = routeSubscriptions(rest, req.headers.accept);
  const canonical = canonicalPath(route, registry.prefix);

  const auth = await authenticate(ctx, req, query, 'subscriber');
  if (auth.claims === undefined) throw new SseHubError('UNAUTHORIZED');
  const allowed = ctx.matchers.granted(auth.claims, 'subscribe').some((m) => m.matches(canonical));
  if (!allowed) throw new SseHubError('FORBIDDEN', 'no subscribe selector matches');

  const lastEventId = (await ctx.options.transport.lastId()) ?? EARLIEST;
  const headers: Record<string, string | number> = {
    Link: subscriptionsLink(ctx.options.publicUrl, lastEventId, route.shape === 'current'),
  };
  // The bare collection and the one- and two-segment paths answer by Accept.
  if (route.shape === 'draft07' || route.subscriber === undefined) appendVary(res, 'Accept');
  let body: unknown;
  if (route.shape === 'current') {
    const etag = etagFor(lastEventId);
    headers.ETag = etag;
    // Volatile: a cache must ask each time, and may reuse its copy while the cursor is the same.
    headers['Cache-Control'] = 'must-revalidate';
    if (ifNoneMatch(req, etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['Content-Type'] = 'application/json';
    if (route.subscriber !== undefined) {
      body = await registry.get(route.matchType!, route.match!, route.subscriber);
      if (body === undefined) throw new SseHubError('NOT_FOUND', 'no such active subscription');
    } else {
      body = {
        id: canonical,
        type: 'subscriptions',
        subscriptions: await registry.list(
          route.matchType === undefined
            ? undefined
            : route.match === undefined
              ? { matchType: route.matchType }
              : { matchType: route.matchType, match: route.match },
        ),
      };
    }
  } else {
    headers['Content-Type'] = 'application/ld+json';
    headers['Cache-Control'] = 'no-cache';
    if (route.topic !== undefined && route.subscriber !== undefined) {
      const doc = await registry.getDraft07(route.topic, route.subscriber);
      if (doc === undefined) throw new SseHubError('NOT_FOUND', 'no such active subscription');
      body = { '@context': MERCURE_CONTEXT, ...doc, lastEventID: lastEventId };
    } else {
      body = {
        '@context': MERCURE_CONTEXT,
        id: canonical,
        type: 'Subscriptions',
        lastEventID: lastEventId,
        subscriptions: await registry.listDraft07(route.topic),
      };
    }
  }
  const json = JSON.stringify(body);
  headers['Content-Length'] = Buffer.byteLength(json);
  res.writeHead(200, headers);
  res.end(json);
}
