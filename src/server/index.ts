export { DEFAULT_PORT, DEFAULT_TRANSPORT_URL, startServer } from './create-server.js';
export { BROWSER_BUNDLE_PATH, createDemoRoutes } from './demo-routes.js';
export { createHealth, DEFAULT_READY_TIMEOUT_MS, type Health, type Readiness } from './health.js';
export {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  FD_RESERVE,
  planConnections,
  readOpenFilesLimit,
} from './limits.js';
export {
  BoundedLogStream,
  createLogger,
  DEFAULT_MAX_LOG_BUFFER_BYTES,
  SECRET_QUERY_PARAMS,
  safeRequestPath,
} from './logging.js';
export { createMetrics, type Metrics } from './metrics.js';
export {
  OPENAPI_FILE,
  OPENAPI_PATH,
  type OpenApiDocumentOptions,
  serverOpenApiDocument,
} from './openapi.js';
export { LOG_LEVELS, type LogLevel, type RunningServer, type ServerOptions } from './options.js';
export {
  DEFAULT_DRAIN_DELAY_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  gracefulShutdown,
  handleSignals,
  type SignalOptions,
} from './shutdown.js';
