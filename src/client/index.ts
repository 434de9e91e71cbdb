export type { ErrorCode } from '../errors.js';
export { isSseHubError, SseHubError } from '../errors.js';
export {
  defaultRetryDelay,
  MIN_RECONNECT_DELAY_MS,
  nextDelay,
  parseRetryAfter,
} from './backoff.js';
export type { DiscoveredHub, DiscoverOptions } from './discovery.js';
export { discoverHub } from './discovery.js';
export type { ReadyState } from './engine.js';
export { CLOSED, CONNECTING, OPEN } from './engine.js';
export type { EventSourceEventMap } from './event-source.js';
export { EventSource } from './event-source.js';
export { HistoryLostEvent, OpenEvent, ReconnectingEvent, SseErrorEvent } from './events.js';
export { SseHubHttpError } from './http-error.js';
export type { Link } from './link-header.js';
export { parseLinkHeader } from './link-header.js';
export type {
  MercureDraft,
  MercureTopicsOptions,
  MercureUpdate,
  PublishOptions,
} from './mercure.js';
export {
  MERCURE_HEARTBEAT_TIMEOUT_MS,
  mercureEventSource,
  mercureSubscribeUrl,
  publish,
  subscribeTopics,
} from './mercure.js';
export { CLIENT_DEFAULTS } from './options.js';
export type { SubscribeOptions, Subscription } from './subscribe.js';
export { DEFAULT_MAX_QUEUED_EVENTS, subscribe } from './subscribe.js';
export type {
  ClientOptions,
  FetchLike,
  HistoryLostInfo,
  OpenInfo,
  ReconnectInfo,
  ReplayableBody,
  RetryInfo,
  Scheduler,
  SseEvent,
} from './types.js';
