export type { HubContext, PublishVia } from './context.js';
export { createHub } from './create-hub.js';
export { type DeadlineEntry, DeadlineTimer } from './deadline-timer.js';
export {
  EARLIEST,
  type HistoryPlan,
  type HistoryReplay,
  pagedReplay,
  planHistory,
} from './history.js';
export { type HistoryEntry, HistoryGapError, HistoryPages } from './history-pages.js';
export { type DiscoveryOptions, discoveryLinkHeader, setDiscoveryLink } from './http/discovery.js';
export { type ExtractedToken, extractToken, type TokenSource } from './http/token-extraction.js';
export { HubCore } from './hub-core.js';
export { LoopSlicer, yieldToLoop } from './loop-slicer.js';
export { MatcherCache } from './matcher-cache.js';
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
export {
  isReservedTopic,
  type PublishLimits,
  publishInputFromForm,
  type ValidUpdate,
  validatePublish,
} from './publish-validation.js';
export type { Selector, SelectorMode } from './selector.js';
export { Subscriber, type SubscriberEndReason } from './subscriber.js';
export { SubscriberIndex } from './subscriber-index.js';
export {
  MERCURE_CONTEXT,
  SUBSCRIPTIONS_TOPIC_PREFIX,
  type SubscriptionDocument,
  SubscriptionRegistry,
  subscriptionTopic,
} from './subscriptions.js';
export { VerifiedTokenCache } from './token-cache.js';
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
export { encodeUpdate } from './update-frame.js';
export { generateUpdateId } from './update-id.js';
