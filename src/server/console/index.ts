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

  const redirect = secured((_req, res) => {
    res.writeHead(308, { location: CONSOLE_PATH, 'content-length': 0 });
    res.end();
  });

  const staticFile = (name: string): Handler =>
    secured((req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        sendJson(res, 405, { status: 405, code: 'METHOD_NOT_ALLOWED' });
        return;
      }
      return assets.serve(name, req, res);
    });

  const handlers = new Map<string, Handler>();
  for (const [path, handler] of apiRoutes) handlers.set(path, secured(handler));
  handlers.set(CONSOLE_PATH.slice(0, -1), redirect);
  handlers.set(CONSOLE_PATH, staticFile('index.html'));
  for (const name of ['index.html', 'console.js', 'console.js.map', 'console.css']) {
    handlers.set(`${CONSOLE_PATH}${name}`, staticFile(name));
  }

  return {
    match: (path) => handlers.get(path),
    stop: () => sampler.stop(),
  };
}
