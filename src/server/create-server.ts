import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { errorTable, SseHubError } from '../errors.js';
import { createHub } from '../hub/create-hub.js';
import {
  RateLimitedWarning,
  RESOURCE_METADATA_SEGMENT,
  resourceMetadataPaths,
} from '../hub/index.js';
import { DEFAULT_HUB_PATH } from '../hub/options.js';
import type { Hub } from '../hub/types.js';
import type { Transport } from '../transport/types.js';
import { createTransport } from '../transport/url.js';
import { createRefuser } from './connection-limit.js';
import { type ConsoleRoutes, createConsoleRoutes } from './console/index.js';
import { createDemoRoutes, type DemoRoutes } from './demo-routes.js';
import { createHealth } from './health.js';
import { connectionsCheckingInterval, FD_RESERVE, resolveConnectionLimits } from './limits.js';
import { BoundedLogStream, createLogger, logRequest } from './logging.js';
import { createMetrics, type Metrics } from './metrics.js';
import {
  createOpenApiRoute,
  OPENAPI_FILE,
  OPENAPI_PATH,
  type OpenApiDocumentOptions,
  serverOpenApiDocument,
} from './openapi.js';
import type { RunningServer, ServerOptions } from './options.js';
import { lineFormatter } from './pretty-log.js';
import {
  ConnectionTracker,
  DEFAULT_DRAIN_DELAY_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  gracefulShutdown,
} from './shutdown.js';

export const DEFAULT_PORT = 3000;
export const DEFAULT_TRANSPORT_URL = 'memory:';
/** The browser client bundle `npm run build` writes. */
export const DEFAULT_BROWSER_BUNDLE = fileURLToPath(
  new URL('../../dist/browser/ssehub-client.js', import.meta.url),
);

/** The web console's files `npm run build` writes. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface ServerRouteSpec {
  /** Methods served; any other is answered 405. */
  readonly methods: readonly string[];
  /** The server option without which the route is not served. */
  readonly requires?: 'metrics';
}

/**
 * The standalone server's own routes, which win over the hub's and the demo's. The router
 * dispatches from this table (the handler record in startServer must have exactly these paths),
 * and the OpenAPI route-coverage test reads it, so a route added here and not to
 * docs/openapi.json fails it.
 */
export const SERVER_ROUTES = {
  '/healthz': { methods: ['GET', 'HEAD'] },
  '/readyz': { methods: ['GET', 'HEAD'] },
  '/metrics': { methods: ['GET', 'HEAD'], requires: 'metrics' },
  [OPENAPI_PATH]: { methods: ['GET', 'HEAD'] },
} as const satisfies Record<string, ServerRouteSpec>;

interface FixedRoute {
  handler: Handler;
  methods: ReadonlySet<string>;
  allow: string;
}

function checkOptions(options: ServerOptions): void {
  const { port, drainDelayMs, shutdownGraceMs, readyTimeoutMs } = options;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new SseHubError('INVALID_OPTION', 'port must be an integer from 0 to 65535');
  }
  for (const [name, value] of [
    ['drainDelayMs', drainDelayMs],
    ['shutdownGraceMs', shutdownGraceMs],
    ['readyTimeoutMs', readyTimeoutMs],
  ] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new SseHubError('INVALID_OPTION', `${name} must be a non-negative integer`);
    }
  }
}

function notFound(res: ServerResponse): void {
  const body = `${errorTable.NOT_FOUND.message}\n`;
  res.writeHead(404, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * The `/openapi.json` handler, its document computed once for this server's options; none (a
 * warning, and the path answers 404) when the document is not installed beside the code.
 */
function openApiRoute(log: Logger, options: OpenApiDocumentOptions): Handler | undefined {
  try {
    return createOpenApiRoute(serverOpenApiDocument(options));
  } catch (err) {
    log.warn({ err, file: OPENAPI_FILE }, 'OpenAPI document not found: /openapi.json is off');
    return undefined;
  }
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  const body = `${errorTable.METHOD_NOT_ALLOWED.message}\n`;
  res.writeHead(405, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    allow,
  });
  res.end(body);
}

function failed(res: ServerResponse, logger: Logger, err: unknown): void {
  logger.error({ err }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof SseHubError ? err.status : 500;
  const body =
    err instanceof SseHubError ? `${errorTable[err.code].message}\n` : 'Internal error\n';
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

/** `http://host:port`, with a wildcard bind shown as loopback so the URL can be opened. */
function baseUrl(host: string | undefined, port: number, secure: boolean): string {
  let shown = host ?? '127.0.0.1';
  if (shown === '0.0.0.0' || shown === '::' || shown === '') shown = '127.0.0.1';
  if (shown.includes(':')) shown = `[${shown}]`;
  return `${secure ? 'https' : 'http'}://${shown}:${port}`;
}

/**
 * Starts the standalone server: the hub at its path (`/.well-known/mercure` by default),
 * `/healthz`, `/readyz`, `/metrics` when enabled, and the demo when enabled. With `tls` it speaks
 * HTTP/2 over TLS with an HTTP/1.1 fallback. Resolves once it listens.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  checkOptions(options);
  const limits = resolveConnectionLimits(options);
  let logStream = options.logStream;
  let logger = options.logger;
  if (!logger) {
    logStream = new BoundedLogStream(
      process.stdout,
      options.maxLogBufferBytes,
      lineFormatter(options.logFormat ?? 'auto', process.stdout),
    );
    logger = createLogger(options.logLevel ?? 'info', logStream);
  }
  const log: Logger = logger;
  const hubOptions = options.hub ?? {};
  if (hubOptions.transport && options.durability !== undefined) {
    throw new SseHubError(
      'INVALID_OPTION',
      'durability applies to a transport URL, not hub.transport',
    );
  }
  const transport: Transport =
    hubOptions.transport ??
    (await createTransport(options.transportUrl ?? DEFAULT_TRANSPORT_URL, {
      onError: (err) => log.error({ err }, 'transport error'),
      ...(options.durability !== undefined ? { durability: options.durability } : {}),
    }));
  let hub: Hub;
  try {
    hub = createHub({
      // This server's shutdown ends every stream and its access log follows detached ones, so
      // streams may drop the HTTP objects they no longer need (see HubOptions.detachStreams).
      detachStreams: true,
      ...hubOptions,
      transport,
      logger: hubOptions.logger ?? log,
    });
  } catch (err) {
    // The transport is ours when we created it: release it (a SQLite file lock) before failing.
    if (!hubOptions.transport) await transport.close().catch(() => {});
    throw err;
  }

  // The hub's own path: createHub validated it (leading slash, no trailing one except for `/`).
  const hubPath = hubOptions.path ?? DEFAULT_HUB_PATH;
  // Below the hub path on a segment boundary: `/hub/x`, never `/hubx`.
  const hubBelow = hubPath === '/' ? '/' : `${hubPath}/`;
  // The hub's protected resource metadata sits outside its path (RFC 9728): the hub answers it,
  // or sends the request back to notFound.
  const isMetadata = (path: string) =>
    path === RESOURCE_METADATA_SEGMENT || path.startsWith(`${RESOURCE_METADATA_SEGMENT}/`);
  let shuttingDown = false;
  const health = createHealth({
    hub,
    transport,
    shuttingDown: () => shuttingDown,
    ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    ...(options.cluster ? { extraCheck: options.cluster.readiness } : {}),
  });
  // Assigned just below; the metrics read it only when scraped.
  let connections: ConnectionTracker | undefined;
  const metrics: Metrics | undefined = options.metrics
    ? createMetrics(hub, {
        connections: () => connections?.size ?? 0,
        ...(logStream ? { droppedLogLines: () => logStream.dropped } : {}),
        ...(options.cluster ? { collect: options.cluster.metrics } : {}),
      })
    : undefined;
  if (metrics) options.cluster?.registerMetrics?.(metrics.registry);
  const workerHeader = options.cluster ? String(options.cluster.workerId) : undefined;
  const demo: DemoRoutes | undefined =
    options.demo === false
      ? undefined
      : createDemoRoutes({
          hub,
          hubPath,
          logger: log,
          bundlePath: options.browserBundlePath ?? DEFAULT_BROWSER_BUNDLE,
        });

  const webConsole: ConsoleRoutes | undefined = options.console
    ? createConsoleRoutes({
        hub,
        hubPath,
        assetsDir: options.consoleAssetsDir ?? DEFAULT_CONSOLE_DIR,
      })
    : undefined;

  const timeouts = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: connectionsCheckingInterval(limits),
  };
  let server: HttpServer | Http2SecureServer;
  if (options.tls) {
    const secure = createSecureServer({
      cert: options.tls.cert,
      key: options.tls.key,
      allowHTTP1: true,
      // A client that never finishes its TLS handshake is a slowloris too (Node waits 120 s).
      handshakeTimeout: limits.headersTimeoutMs,
      // Without it one connection carries any number of streams, past maxConnections.
      settings: { maxConcurrentStreams: limits.maxStreamsPerConnection },
    });
    // The HTTP/1.1 fallback reads these from the server object (not constructor options);
    // without keepAliveTimeout an idle HTTP/1.1-over-TLS connection would never be closed.
    Object.assign(secure, timeouts);
    server = secure;
  } else {
    server = createHttpServer(timeouts);
  }
  const refusals = new RateLimitedWarning(log, 'connection limit reached: connections refused', {
    maxConnections: limits.maxConnections,
  });
  const refuse = createRefuser({ tls: options.tls !== undefined });
  const tracker = new ConnectionTracker(server, {
    maxConnections: limits.maxConnections,
    refuse(socket) {
      refusals.record();
      metrics?.connectionRefused();
      refuse(socket);
    },
  });
  connections = tracker;

  const openapi = openApiRoute(log, {
    hubPath,
    ...(hubOptions.publicUrl !== undefined ? { publicUrl: hubOptions.publicUrl } : {}),
    metadataPaths: [
      ...resourceMetadataPaths({
        path: hubPath,
        // The resolved default (the public URL, whose default path is the hub's) adds no path.
        jwtAudience: hubOptions.jwtAudience ?? hubOptions.publicUrl ?? '',
      }),
    ],
    subscriptions: hubOptions.subscriptions === true,
    metrics: metrics !== undefined,
    demo: demo !== undefined,
    ui: webConsole !== undefined,
  });
  const handlers: Record<keyof typeof SERVER_ROUTES, Handler | undefined> = {
    '/healthz': health.liveness,
    '/readyz': health.readyz,
    '/metrics': metrics?.handler,
    [OPENAPI_PATH]: openapi,
  };
  const fixed = new Map<string, FixedRoute>();
  for (const [path, spec] of Object.entries(SERVER_ROUTES)) {
    const handler = handlers[path as keyof typeof SERVER_ROUTES];
    if (handler) {
      fixed.set(path, { handler, methods: new Set(spec.methods), allow: spec.methods.join(', ') });
    }
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    // Health and metrics win over everything, so a hub mounted at `/` cannot shadow them; then
    // the hub's exact path, the demo's pages, and last whatever lies below the hub path.
    const fixedRoute = fixed.get(path);
    const consoleHandler = fixedRoute || path === hubPath ? undefined : webConsole?.match(path);
    const demoHandler =
      fixedRoute || consoleHandler || path === hubPath ? undefined : demo?.match(path);
    const isHub =
      !fixedRoute &&
      !consoleHandler &&
      !demoHandler &&
      (path === hubPath || path.startsWith(hubBelow) || isMetadata(path));
    const name = isHub
      ? 'hub'
      : fixedRoute
        ? path.slice(1)
        : consoleHandler
          ? 'console'
          : demoHandler
            ? 'demo'
            : 'not_found';
    tracker.track(req, res);
    // Which worker answered: for operators and tests of `--workers`, never a pid.
    if (workerHeader !== undefined) res.setHeader('ssehub-worker', workerHeader);
    logRequest(log, req, res, name, metrics?.observe, hub.clientAddress(req));
    try {
      if (isHub) {
        // A path below `/` that the hub does not serve comes back here.
        hub.handler(req, res, () => notFound(res));
        return;
      }
      if (fixedRoute && !fixedRoute.methods.has(req.method ?? 'GET')) {
        methodNotAllowed(res, fixedRoute.allow);
        return;
      }
      const handler = fixedRoute?.handler ?? consoleHandler ?? demoHandler;
      if (!handler) {
        notFound(res);
        return;
      }
      const result = handler(req, res);
      if (result) result.catch((err: unknown) => failed(res, log, err));
    } catch (err) {
      failed(res, log, err);
    }
  }

  // The compatibility API hands http2 requests to the same handler (the hub supports it).
  (server as Http2SecureServer).on('request', route as never);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    demo?.stop();
    webConsole?.stop();
    await hub.shutdown().catch(() => {});
    throw err;
  });
  // Accept failures: EMFILE/ENFILE when out of descriptors (only when libuv's own reserve-fd
  // trick cannot shed the connection, which then goes unseen), rate-limited like refusals.
  const acceptErrors = new RateLimitedWarning(log, 'server error: cannot accept connections', {
    fdLimit: limits.fdLimit,
    maxConnections: limits.maxConnections,
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.syscall === 'accept') acceptErrors.record({ code: err.code });
    else log.error({ err }, 'server error');
  });

  const port = (server.address() as AddressInfo).port;
  const url = baseUrl(options.host, port, options.tls !== undefined);

  let shutdown: ReturnType<typeof gracefulShutdown> | undefined;
  const running: RunningServer = {
    url,
    port,
    get shuttingDown() {
      return shuttingDown;
    },
    close() {
      if (!shutdown) {
        shuttingDown = true;
        shutdown = gracefulShutdown({
          server,
          connections: tracker,
          logger: log,
          drainDelayMs: options.drainDelayMs ?? DEFAULT_DRAIN_DELAY_MS,
          graceMs: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
          stopHub: async () => {
            demo?.stop();
            webConsole?.stop();
            await hub.shutdown();
          },
        });
      }
      return shutdown.done;
    },
    skipDrain() {
      shutdown?.skipDrain();
    },
  };
  log.info(
    {
      url,
      hub: `${url}${hubPath}`,
      ...(webConsole ? { console: `${url}/ui/` } : {}),
      http2: options.tls !== undefined,
      maxConnections: limits.maxConnections,
      ...(options.tls ? { maxStreamsPerConnection: limits.maxStreamsPerConnection } : {}),
      fdLimit: limits.fdLimit,
    },
    `ssehub listening on ${url}`,
  );
  if (limits.exceedsFdLimit) {
    log.warn(
      { maxConnections: limits.maxConnections, fdLimit: limits.fdLimit, reserve: FD_RESERVE },
      'maxConnections plus a reserve for files exceeds the open-file limit: at the limit the kernel refuses connections unlogged; raise the limit (ulimit -n) or lower maxConnections',
    );
  } else if (limits.lowered) {
    log.warn(
      { maxConnections: limits.maxConnections, fdLimit: limits.fdLimit, reserve: FD_RESERVE },
      'maxConnections lowered to fit the open-file limit (ulimit -n)',
    );
  }
  return running;
}
