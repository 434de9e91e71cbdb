import type { IncomingMessage, ServerResponse } from 'node:http';
import { SseHubError } from '../../errors.js';
import type { Claims } from '../auth/index.js';
import { publishInputFromForm, validatePublish } from '../core/index.js';
import { authenticate } from './authenticate.js';
import { readFormBody } from './body.js';
import { clientKey, tokenSubject } from './client-identity.js';
import type { HubContext } from './context.js';
import { isPublishOriginAllowed, requestOrigin } from './cors.js';
import { markLoggedByHub } from './logged-by-hub.js';

/** Throws FORBIDDEN unless every topic matches one of the token's publish selectors. */
export function authorizePublish(ctx: HubContext, claims: Claims, topics: readonly string[]): void {
  const matchers = ctx.matchers.granted(claims, 'publish');
  for (const topic of topics) {
    if (!matchers.some((m) => m.matches(topic))) {
      throw new SseHubError('FORBIDDEN', 'a topic is outside the publish selectors');
    }
  }
}

/**
 * `POST /.well-known/mercure`: authenticate (401), check the Origin of cookie-authenticated
 * requests (403, the CSRF guard), read the form (415, 413), validate (400), authorize every topic
 * (403), store (a reused id is stored too: ids are unique only by recommendation); answer 200 with
 * the id as text/plain.
 */
export async function handlePublish(
  ctx: HubContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const { options } = ctx;
  const auth = await authenticate(ctx, req, query, 'publisher');
  if (auth.claims === undefined) throw new SseHubError('UNAUTHORIZED');
  if (
    auth.source === 'cookie' &&
    !isPublishOriginAllowed(requestOrigin(req), options.publishOrigins)
  ) {
    // A browser sends cookies along with cross-site form posts; only listed origins may publish.
    throw new SseHubError('ORIGIN_NOT_ALLOWED');
  }
  // Once the publisher is known (its token verified), before its body is read.
  const address = ctx.clientAddress(req);
  ctx.limits.publishAttempt(clientKey(address, tokenSubject(auth.token)), address);
  const form = await readFormBody(req, options.maxBodyBytes);
  const update = validatePublish(publishInputFromForm(form), options);
  authorizePublish(ctx, auth.claims, update.topics);
  const id = await ctx.publish(update, 'http');
  markLoggedByHub(res);
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(id),
    'Cache-Control': 'no-store',
  });
  res.end(id);
}
