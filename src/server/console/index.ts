import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from '../../hub/types.js';
import { createConsoleApi } from './api.js';
import { ConsoleAssets } from './assets.js';
import { CONSOLE_PATH, sendJson, setSecurityHeaders } from './headers.js';
import { StatsSampler } from './sampler.js';

export { CONSOLE_CSP, CONSOLE_PATH } from './headers.js';
export type { Sample } from './sampler.js';
export { StatsSampler } from './sampler.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const STATIC_FILES = ['index.html', 'console.js', 'console.js.map', 'console.css'] as const;

/**
 * The console's routes and their methods: what `createConsoleRoutes` serves (it is built from this
 * table) and what the OpenAPI route-coverage test reads, so a route added here and not to
 * docs/openapi.json fails it.
 */
export const CONSOLE_ROUTES: Readonly<Record<string, { readonly methods: readonly string[] }>> = {
  [CONSOLE_PATH.slice(0, -1)]: { methods: ['GET', 'HEAD'] },
  [CONSOLE_PATH]: { methods: ['GET', 'HEAD'] },
  ...Object.fromEntries(
    STATIC_FILES.map((name) => [`${CONSOLE_PATH}${name}`, { methods: ['GET', 'HEAD'] }]),
  ),
  [`${CONSOLE_PATH}api/stats`]: { methods: ['GET', 'HEAD'] },
  [`${CONSOLE_PATH}api/check-token`]: { methods: ['POST'] },
};

export interface ConsoleRoutesOptions {
  hub: Pick<
    Hub,
    'stats' | 'subscriberCount' | 'checkToken' | 'subscriptionsTopic' | 'subscriptionsEnabled'
  >;
  /** Path of the hub, which the console publishes and subscribes through. */
  hubPath: string;
  /** Folder of the built console (`dist/console/`, written by `npm run build`). */
  assetsDir: string;
}

export interface ConsoleRoutes {
  /** The handler for `path`, or undefined when the console does not serve it. */
  match(path: string): Handler | undefined;
  /** Stops the sampler. */
  stop(): void;
}

/**
 * The web console at `/ui/`: its static files (public: they hold no data), and its API under
 * `/ui/api/`, which requires a console token (see `consoleAccess`). Every response carries the
 * console's strict CSP and `nosniff`.
 */
export function createConsoleRoutes(options: ConsoleRoutesOptions): ConsoleRoutes {
  const sampler = new StatsSampler(options.hub);
  sampler.start();
  const assets = new ConsoleAssets(options.assetsDir);
  const api = createConsoleApi(options.hub, sampler, options.hubPath);
  const apiRoutes = new Map<string, Handler>([
    [`${CONSOLE_PATH}api/stats`, api.stats],
    [`${CONSOLE_PATH}api/check-token`, api.checkToken],
  ]);

  const secured =
    (handler: Handler): Handler =>
    (req, res) => {
      setSecurityHeaders(res);
      return handler(req, res);
    };

  const getOnly =
    (handler: Handler): Handler =>
    (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        sendJson(res, 405, { status: 405, code: 'METHOD_NOT_ALLOWED' });
        return;
      }
      return handler(req, res);
    };

  const redirect = secured(
    getOnly((_req, res) => {
      res.writeHead(308, { location: CONSOLE_PATH, 'content-length': 0 });
      res.end();
    }),
  );

  const staticFile = (name: string): Handler =>
    secured(getOnly((req, res) => assets.serve(name, req, res)));

  const byPath = new Map<string, Handler>([
    [CONSOLE_PATH.slice(0, -1), redirect],
    [CONSOLE_PATH, staticFile('index.html')],
    ...STATIC_FILES.map((name): [string, Handler] => [`${CONSOLE_PATH}${name}`, staticFile(name)]),
    ...[...apiRoutes].map(([path, handler]): [string, Handler] => [path, secured(handler)]),
  ]);
  // Exactly the table's paths, each with its handler.
  const handlers = new Map<string, Handler>();
  for (const path of Object.keys(CONSOLE_ROUTES)) {
    const handler = byPath.get(path);
    if (handler === undefined) throw new Error(`console route ${path} has no handler`);
    handlers.set(path, handler);
  }

  return {
    match: (path) => handlers.get(path),
    stop: () => sampler.stop(),
  };
}
