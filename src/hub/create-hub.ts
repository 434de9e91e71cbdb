import type { IncomingMessage } from 'node:http';
import { isSseHubError, SseHubError } from '../errors.js';
import { hasPresence } from '../transport/capabilities.js';
import type { FeedGap, Update } from '../transport/types.js';
import { type TokenRole, VerifiedTokenCache } from './auth/index.js';
import {
  DeadlineTimer,
  generateUpdateId,
  HistoryPages,
  HubCore,
  LoopSlicer,
  SubscriptionRegistry,
  subscriptionsPrefix,
  type ValidUpdate,
  validatePublish,
} from './core/index.js';
import type { HubContext, PublishVia } from './http/index.js';
import { asAuthError, ClientLimits, clientAddress, createRequestHandler } from './http/index.js';
import { type HubOptions, parseTrustedProxies, resolveHubOptions } from './options.js';
import { MatcherCache } from './selectors/index.js';
import type { Hub, PublishInput, TokenCheck } from './types.js';

/**
 * Creates a Mercure hub: the pub/sub core over `options.transport` (in memory by default) and its
 * HTTP surface as `hub.handler`, mountable in node:http, Express, Koa and Fastify.
 */
export function createHub(options: HubOptions = {}): Hub {
  const opts = resolveHubOptions(options);
  const { transport, logger } = opts;
  // One slicer for fan-out and replays: together they yield the loop once per slice.
  const slicer = new LoopSlicer(opts.loopSliceMs);
  const core = new HubCore(logger, slicer);
  const history = new HistoryPages(transport, slicer, {
    pageSize: opts.replayPageSize,
    maxBytes: opts.historyCacheBytes,
  });
  const deadlines = new DeadlineTimer();
  let accepting = true;
  // Subscription events in flight; shutdown lets them reach the transport before closing it.
  const inflight = new Set<Promise<void>>();

  const store = async (update: Update): Promise<void> => {
    try {
      await transport.publish(update);
    } catch (err) {
      if (isSseHubError(err)) throw err;
      throw new SseHubError('TRANSPORT_FAILURE', undefined, { cause: err });
    }
  };

  let published = 0;
  const publish = async (valid: ValidUpdate, via: PublishVia): Promise<string> => {
    // Refused before it is stored: an accepted update is never dropped, so the bound applies here.
    if (core.backlog.queued >= opts.maxDispatchBacklog) {
      throw new SseHubError('HUB_OVERLOADED', `${core.backlog.queued} updates wait for fan-out`);
    }
    const update: Update = { ...valid, id: valid.id ?? generateUpdateId() };
    await store(update);
    published++;
    logger.info(
      {
        event: 'publish',
        id: update.id,
        topic: update.topics[0],
        topics: update.topics.length,
        private: update.private,
        bytes: Buffer.byteLength(update.data),
        via,
      },
      'update published',
    );
    return update.id;
  };

  const subscriptionsTopic = subscriptionsPrefix(opts.path);
  const registry = opts.subscriptions
    ? new SubscriptionRegistry(
        (event) => {
          const done = store({ ...event, id: generateUpdateId() }).catch((err: unknown) => {
            logger.warn({ err, topic: event.topics[0] }, 'subscription event not stored');
          });
          inflight.add(done);
          void done.finally(() => inflight.delete(done));
        },
        hasPresence(transport) ? transport : undefined,
        (err) => {
          logger.warn({ err }, 'subscription presence not shared with the other nodes');
        },
        subscriptionsTopic,
      )
    : undefined;

  const limits = new ClientLimits(opts, logger);
  const proxies = parseTrustedProxies(opts.trustedProxies);
  const trusted = 'list' in proxies && opts.trustedProxies.length > 0 ? proxies.list : undefined;
  const addressOf = (req: IncomingMessage): string => clientAddress(req, trusted);

  const ctx: HubContext = {
    options: opts,
    core,
    history,
    matchers: new MatcherCache(opts.publicUrl, opts.maxSelectorCost),
    deadlines,
    tokens: new VerifiedTokenCache(opts.tokenCacheSize, opts.tokenCacheTtlMs),
    limits,
    clientAddress: addressOf,
    registry,
    get accepting() {
      return accepting;
    },
    publish,
  };
  const onGap = (gap: FeedGap): void => {
    feedGaps[gap.reason]++;
    history.useEpoch(gap.epoch);
    const ended = core.resetAfterGap(gap.resumeAfter);
    logger.warn(
      { event: 'feed-gap', reason: gap.reason, resumeAfter: gap.resumeAfter, endedStreams: ended },
      gap.reason === 'lost'
        ? 'the store lost updates: every stream ended so that clients resume and learn of the loss'
        : 'this node fell behind the history: every stream ended so that clients resume',
    );
  };
  const feedGaps = { lagged: 0, lost: 0 };
  const unsubscribe = transport.subscribe(
    (update, position) => core.dispatch(update, position),
    onGap,
  );
  const handler = createRequestHandler(ctx);
  let shutdown: Promise<void> | undefined;

  return {
    handler,
    clientAddress: addressOf,
    async publish(input: PublishInput): Promise<string> {
      if (!accepting) throw new SseHubError('SHUTTING_DOWN');
      return publish(validatePublish(input, opts), 'api');
    },
    get subscriberCount() {
      return core.size;
    },
    get stats() {
      const { queued, pauses } = core.backlog;
      return {
        dispatchBacklog: queued,
        dispatchPauses: pauses,
        historyCacheBytes: history.cachedBytes,
        feedGaps: { ...feedGaps },
        published,
        deliveries: core.deliveries,
        cutOffs: core.cutOffs,
        rateLimited: limits.refused,
      };
    },
    async checkToken(token: string, role: TokenRole, topic?: string): Promise<TokenCheck> {
      let claims = ctx.tokens.get(role, token);
      if (claims === undefined) {
        try {
          claims = await opts.authorizer.verify(token, role);
        } catch (err) {
          throw asAuthError(err);
        }
      }
      const action = role === 'publisher' ? 'publish' : 'subscribe';
      const matches =
        topic !== undefined && ctx.matchers.granted(claims, action).some((m) => m.matches(topic));
      return { claims, matches };
    },
    subscriptionsTopic,
    subscriptionsEnabled: registry !== undefined,
    get accepting() {
      return accepting;
    },
    shutdown(): Promise<void> {
      shutdown ??= (async () => {
        accepting = false;
        const open = core.size;
        for (const subscriber of [...core.subscribers()]) subscriber.close('server');
        await Promise.allSettled([...inflight]);
        unsubscribe();
        deadlines.stop();
        await transport.close();
        logger.info({ event: 'shutdown', closedStreams: open }, 'hub shut down');
      })();
      return shutdown;
    },
  };
}
