export { Broadcaster } from './broadcaster.js';
export { currentTimeEvent, MonotonicIds, TimeTicker } from './clock.js';
export type { OriginVerdict } from './cors.js';
export { applyCors, normalizeOrigins } from './cors.js';
export type { DemoHandler, DemoOptions } from './handler.js';
export {
  createDemoHandler,
  DEFAULT_DEMO_INTERVAL_MS,
  DEFAULT_DEMO_RETRY_MS,
  DEMO_PAGE_METHODS,
  DEMO_PAGE_PATH,
  DEMO_STREAM_METHODS,
  DEMO_STREAM_PATHS,
} from './handler.js';
export {
  DEMO_HELLO_TOPIC_PREFIX,
  DEMO_TOPIC,
  type DemoHubOptions,
  HubFeed,
} from './hub-feed.js';
export type { DemoPageOptions } from './page.js';
export { demoPage } from './page.js';
