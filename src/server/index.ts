export { DEFAULT_PORT, DEFAULT_TRANSPORT_URL, startServer } from './create-server.js';
export { BROWSER_BUNDLE_PATH, createDemoRoutes } from './demo-routes.js';
export { createHealth, DEFAULT_READY_TIMEOUT_MS, type Health, type Readiness } from './health.js';
export { createLogger, SECRET_QUERY_PARAMS, safeRequestPath } from './logging.js';
export { createMetrics, type Metrics } from './metrics.js';
export { LOG_LEVELS, type LogLevel, type RunningServer, type ServerOptions } from './options.js';
export {
  DEFAULT_DRAIN_DELAY_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  gracefulShutdown,
  handleSignals,
} from './shutdown.js';
