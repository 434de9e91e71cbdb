import type { IncomingMessage, ServerResponse } from 'node:http';
import { SseHubError } from '../../errors.js';
import { createEventStream } from '../../stream/adapters/node.js';
import type { EventStream } from '../../stream/event-stream.js';
import type { Claims } from '../auth/index.js';
import {
  EARLIEST,
  generateUpdateId,
  type HistoryReplay,
  pagedReplay,
  planHistory,
  Subscriber,
  type SubscriberEndReason,
} from '../core/index.js';
import { type Authentication, authenticate } from './authenticate.js';
import { clientKey, tokenSubject } from './client-identity.js';
import type { HubContext } from './context.js';
import { markLoggedByHub, unmarkLoggedByHub } from './logged-by-hub.js';
import { readSubscribeBody, unionOfParams } from './subscribe-body.js';
import { type ParsedSubscribeParams, parseSubscribeParams } from './subscribe-params.js';

/** When the stream must end: the token's `exp`, or the (jittered) maximum lifetime if sooner. */
function deadlineOf(ctx: HubContext, claims: Claims | undefined): number {
  let deadline = Number.POSITIVE_INFINITY;
  if (typeof claims?.exp === 'number') deadline = claims.exp * 1000;
  const { maxStreamLifetimeMs, lifetimeJitter } = ctx.options;
  if (maxStreamLifetimeMs > 0) {
    const lifetime = maxStreamLifetimeMs * (1 - lifetimeJitter * Math.random());
    deadline = Math.min(deadline, Date.now() + lifetime);
  }
  return deadline;
}

/**
 * The request's parameters and token. For `GET` only cheap checks (names, count, lengths) come
 * before the token is verified: compiling selectors costs CPU, which a request without a valid
 * token must not be able to spend. With a body (`QUERY`), the token comes first, so that a
 * request without a valid one never gets its body read; then the union of query and body goes
 * through the same checks.
 */
async function readRequest(
  ctx: HubContext,
  req: IncomingMessage,
  query: URLSearchParams,
  withBody: boolean,
): Promise<{ parsed: ParsedSubscribeParams; auth: Authentication }> {
  const { options } = ctx;
  if (!withBody) {
    const parsed = parseSubscribeParams(req, query, options, ctx.matchers);
    const auth = await authenticate(ctx, req, query, 'subscriber');
    if (auth.claims === undefined && !options.anonymous) throw new SseHubError('UNAUTHORIZED');
    return { parsed, auth };
  }
  const auth = await authenticate(ctx, req, query, 'subscriber');
  if (auth.claims === undefined && !options.anonymous) throw new SseHubError('UNAUTHORIZED');
  const body = await readSubscribeBody(req, options.maxBodyBytes);
  const parsed =
    body === undefined
      ? parseSubscribeParams(req, query, options, ctx.matchers)
      : parseSubscribeParams(req, unionOfParams(query, body), options, ctx.matchers, [query, body]);
  return { parsed, auth };
}

/**
 * `GET /.well-known/mercure` (and `QUERY` with the parameters in its body, `withBody`): opens a
 * subscriber stream. The subscriber is registered before its history is read (live updates
 * meanwhile are buffered), so resume neither loses nor repeats an update; the response headers,
 * which carry the `Last-Event-ID` answer, go out once the history is known.
 */
export async function handleSubscribe(
  ctx: HubContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  withBody = false,
): Promise<void> {
  const { options, core } = ctx;
  const logger = options.logger;
  const address = ctx.clientAddress(req);
  // First: a client looping on reconnects must not get to verify tokens or replay history.
  ctx.limits.subscribeAttempt(address);
  // Only cheap checks (names, count, lengths) before the token is verified (and, for QUERY,
  // before its body is read): compiling selectors costs CPU a request without a valid token
  // must not be able to spend.
  const { parsed, auth } = await readRequest(ctx, req, query, withBody);
  const params = parsed.compile();
  if (!ctx.accepting) throw new SseHubError('SHUTTING_DOWN');
  // Last of the checks that can refuse, so a refused request holds no slot; the slot is given back
  // when the subscriber ends, however it ends.
  const releaseSlot =
    options.maxStreamsPerClient === 0
      ? () => {}
      : ctx.limits.acquireStream(clientKey(address, tokenSubject(auth.token)), address);

  const subscriber = new Subscriber({
    id: generateUpdateId(),
    selectors: params.selectors,
    claims: auth.claims,
    readMatchers: ctx.matchers.granted(auth.claims, 'subscribe'),
    // Live updates that arrive during a replay wait in the subscriber, bounded like a slow
    // client's queue: past it the subscriber gets its history, then ends and resumes.
    maxBufferBytes: options.maxQueueBytes,
  });
  let opened = false;
  subscriber.onEnd((reason: SubscriberEndReason) => {
    releaseSlot();
    core.delete(subscriber);
    ctx.deadlines.delete(subscriber);
    if (reason === 'overflow') core.countCutOff();
    if (!opened) return;
    ctx.registry?.deactivate(subscriber);
    logger.info(
      {
        event: 'stream_close',
        subscriber: subscriber.id,
        reason,
        durationMs: Date.now() - subscriber.openedAt,
      },
      'stream closed',
    );
  });
  core.add(subscriber);

  let history: HistoryReplay | undefined;
  const onEarlyClose = (): void => subscriber.close('client');
  res.on('close', onEarlyClose);
  try {
    // An empty cursor names no event: nothing to replay (as upstream), yet it is answered below.
    if (params.lastEventId !== undefined && params.lastEventId !== '') {
      const plan = await planHistory(
        options.transport,
        ctx.history,
        (update) => subscriber.accepts(update),
        params.lastEventId,
        options.maxReplay,
      );
      history = pagedReplay(ctx.history, plan);
    }
  } catch (err) {
    subscriber.close('error');
    throw err;
  } finally {
    res.off('close', onEarlyClose);
  }
  if (subscriber.ended) {
    // The client left, or shutdown began, while the history was read.
    if (res.destroyed) return;
    if (!ctx.accepting) throw new SseHubError('SHUTTING_DOWN');
    // Ended by a gap in the live feed while its history was planned: the client must come back
    // and resume. An empty stream that ends at once makes any EventSource do that, where an
    // error status would make a browser's give up.
    createEventStream(req, res, {
      heartbeatMs: 0,
      ...(options.retryMs > 0 ? { retry: options.retryMs } : {}),
    }).close();
    return;
  }

  const headers: Record<string, string> = {};
  // Answered whenever a cursor was sent (Reconciliation: "MUST set"), an empty one included:
  // `earliest` is the spec's value when "the requested event does not exist".
  const answer = history?.plan.lastEventId ?? (params.lastEventId === '' ? EARLIEST : undefined);
  if (answer !== undefined) {
    const value = headerValue(answer);
    headers['last-event-id'] = value;
    headers['mercure-last-event-id'] = value;
  }
  if (auth.source === 'query') {
    // RFC 6750 section 2.3: a response to a request with a token in its URL must not be shared.
    headers['cache-control'] = 'private, no-cache, no-transform';
  }
  let stream: EventStream;
  // Before the head goes out: a detached stream's request log reads the mark then.
  markLoggedByHub(res);
  try {
    stream = createEventStream(req, res, {
      heartbeatMs: options.heartbeatMs,
      maxQueueBytes: options.maxQueueBytes,
      detach: options.detachStreams,
      headers,
      ...(options.retryMs > 0 ? { retry: options.retryMs } : {}),
    });
  } catch (err) {
    // Registered but never opened: unregister it, or it would stay in the core for good.
    unmarkLoggedByHub(res);
    subscriber.close('error');
    throw err;
  }
  opened = true;
  logger.info(
    {
      event: 'stream_open',
      subscriber: subscriber.id,
      selectors: subscriber.selectors.length,
      authenticated: auth.claims !== undefined,
      address,
      ...(params.lastEventId !== undefined
        ? { lastEventId: params.lastEventId, replayFrom: history?.plan.lastEventId }
        : {}),
    },
    'stream opened',
  );
  // The replay is paced by the socket; its synchronous part runs now, the rest meanwhile.
  const replay = subscriber.start(stream, history);
  if (!subscriber.ended) {
    const deadline = deadlineOf(ctx, auth.claims);
    if (deadline !== Number.POSITIVE_INFINITY) ctx.deadlines.add(subscriber, deadline);
    ctx.registry?.activate(subscriber);
  }
  await replay;
}

/**
 * A header value for an id: Node writes header strings as Latin-1, so the id's UTF-8 bytes go
 * out as one Latin-1 character each; a client decoding the header as UTF-8 reads the id back.
 */
function headerValue(id: string): string {
  return Buffer.from(id, 'utf8').toString('latin1');
}
