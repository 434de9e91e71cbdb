export { VerifiedTokenCache } from './auth/token-cache.js';
export { type DeadlineEntry, DeadlineTimer } from './core/deadline-timer.js';
export {
  EARLIEST,
  type HistoryPlan,
  type HistoryReplay,
  pagedReplay,
  planHistory,
} from './core/history.js';
export { type HistoryEntry, HistoryGapError, HistoryPages } from './core/history-pages.js';
export { HubCore } from './core/hub-core.js';
export { LoopSlicer, yieldToLoop } from './core/loop-slicer.js';
export {
  isReservedTopic,
  type PublishLimits,
  publishInputFromForm,
  type ValidUpdate,
  validatePublish,
} from './core/publish-validation.js';
export { Subscriber, type SubscriberEndReason } from './core/subscriber.js';
export { SubscriberIndex } from './core/subscriber-index.js';
export {
  MERCURE_CONTEXT,
  SUBSCRIPTIONS_TOPIC_PREFIX,
  type SubscriptionDocument,
  SubscriptionRegistry,
  subscriptionTopic,
} from './core/subscriptions.js';
export { encodeUpdate } from './core/update-frame.js';
export { generateUpdateId } from './core/update-id.js';
export { createHub } from './create-hub.js';
export type { HubContext, PublishVia } from './http/context.js';
export { type DiscoveryOptions, discoveryLinkHeader, setDiscoveryLink } from './http/discovery.js';
export { type ExtractedToken, extractToken, type TokenSource } from './http/token-extraction.js';
export {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HISTORY_CACHE_BYTES,
  DEFAULT_HUB_PATH,
  DEFAULT_LIFETIME_JITTER,
  DEFAULT_LOOP_SLICE_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_DISPATCH_BACKLOG,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_MAX_REPLAY,
  DEFAULT_MAX_STREAM_LIFETIME_MS,
  DEFAULT_MAX_TOPIC_LENGTH,
  DEFAULT_MAX_TOPICS_PER_REQUEST,
  DEFAULT_REPLAY_PAGE_SIZE,
  DEFAULT_TOKEN_CACHE_SIZE,
  DEFAULT_TOKEN_CACHE_TTL_MS,
  type HubOptions,
  type JwtKeyOptions,
  type ResolvedHubOptions,
  resolveHubOptions,
} from './options.js';
export { MatcherCache } from './selectors/matcher-cache.js';
export type { Selector, SelectorMode } from './selectors/selector.js';
export type {
  Authorizer,
  Claims,
  Hub,
  HubStats,
  PublishInput,
  SelectorSyntax,
  TokenRole,
  TopicMatcher,
} from './types.js';
