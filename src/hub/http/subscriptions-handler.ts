import type { IncomingMessage, ServerResponse } from 'node:http';
import { SseHubError } from '../../errors.js';
import { EARLIEST, MERCURE_CONTEXT, subscriptionTopic } from '../core/index.js';
import { authenticate } from './authenticate.js';
import type { HubContext } from './context.js';
import { decodeComponent, hasMalformedEscape } from './form-decoding.js';

// A malformed escape names no topic (404, as before); well-formed escapes of invalid UTF-8 are the
// same 400 INVALID_ENCODING as in a query or a form. `+` is literal in a path.
function decodeSegment(segment: string): string {
  if (hasMalformedEscape(segment)) throw new SseHubError('NOT_FOUND', 'malformed percent-encoding');
  return decodeComponent(segment, false);
}

/**
 * `GET /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]`: the active subscriptions as
 * JSON-LD. Allowed when a subscribe selector of the requester's token matches the requested URL
 * in its canonical form (the same form as the subscription events' topics), so one selector such
 * as `/.well-known/mercure/subscriptions{/topic}{/subscriber}` covers both.
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
  const segments = rest === '' || rest === '/' ? [] : rest.slice(1).split('/');
  if (segments.length > 2 || segments.some((s) => s === '')) throw new SseHubError('NOT_FOUND');
  const topic = segments[0] === undefined ? undefined : decodeSegment(segments[0]);
  const subscriber = segments[1] === undefined ? undefined : decodeSegment(segments[1]);
  const canonical = subscriptionTopic(topic, subscriber);

  const auth = await authenticate(ctx, req, query, 'subscriber');
  if (auth.claims === undefined) throw new SseHubError('UNAUTHORIZED');
  const allowed = ctx.matchers.granted(auth.claims, 'subscribe').some((m) => m.matches(canonical));
  if (!allowed) throw new SseHubError('FORBIDDEN', 'no subscribe selector matches');

  const lastEventID = (await ctx.options.transport.lastId()) ?? EARLIEST;
  let body: Record<string, unknown>;
  if (topic !== undefined && subscriber !== undefined) {
    const doc = await registry.get(topic, subscriber);
    if (doc === undefined) throw new SseHubError('NOT_FOUND', 'no such active subscription');
    body = { '@context': MERCURE_CONTEXT, ...doc, lastEventID };
  } else {
    body = {
      '@context': MERCURE_CONTEXT,
      id: canonical,
      type: 'Subscriptions',
      lastEventID,
      subscriptions: await registry.list(topic),
    };
  }
  const json = JSON.stringify(body);
  res.writeHead(200, {
    'Content-Type': 'application/ld+json',
    'Content-Length': Buffer.byteLength(json),
    'Cache-Control': 'no-cache',
  });
  res.end(json);
}
