// The pub/sub core, without HTTP: subscribers, dispatch, history replay, subscription events,
// deadlines, update validation and framing. Imports auth/ and selectors/ (through their indexes).
export { type DeadlineEntry, DeadlineTimer } from './deadline-timer.js';
export {
  EARLIEST,
  type HistoryPlan,
  type HistoryReplay,
  pagedReplay,
  planHistory,
} from './history.js';
export { type HistoryEntry, HistoryGapError, HistoryPages } from './history-pages.js';
export { HubCore } from './hub-core.js';
export { LoopSlicer, yieldToLoop } from './loop-slicer.js';
export {
  checkTopicText,
  hasIdControlCharacter,
  isReservedTopic,
  type PublishLimits,
  publishInputFromForm,
  reservedPaths,
  type ValidUpdate,
  validatePublish,
} from './publish-validation.js';
export { Subscriber, type SubscriberEndReason } from './subscriber.js';
export { SubscriberIndex } from './subscriber-index.js';
export {
  type AnySubscriptionDocument,
  type Draft07SubscriptionDocument,
  encodeSegment,
  isMatchType,
  MATCH_TYPES,
  type MatchType,
  MERCURE_CONTEXT,
  matcherSubscriptionTopic,
  SUBSCRIPTION_EVENT_TYPE,
  SUBSCRIPTIONS_TOPIC_PREFIX,
  type SubscriptionDocument,
  type SubscriptionShape,
  subscriptionsPrefix,
  subscriptionTopic,
} from './subscription-documents.js';
export {
  type MatcherFilter,
  SubscriptionRegistry,
  subscriptionPayload,
} from './subscriptions.js';
export type { PublishInput } from './types.js';
export { encodeUpdate } from './update-frame.js';
export { generateUpdateId } from './update-id.js';
