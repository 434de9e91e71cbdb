import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Hub } from '../hub/types.js';
import {
  createDemoHandler,
  DEMO_PAGE_METHODS,
  DEMO_PAGE_PATH,
  DEMO_STREAM_METHODS,
  DEMO_STREAM_PATHS,
  type DemoHandler,
} from './demo/index.js';

/** Where the browser client bundle is served. */
export const BROWSER_BUNDLE_PATH = '/ssehub-client.js';
const BUNDLE_METHODS = ['GET', 'HEAD'] as const;

/**
 * The demo's routes and the methods each serves: what `match` answers (the handlers check the
 * methods), and what the OpenAPI route-coverage test reads, so a route added here and not to
 * docs/openapi.json fails it.
 */
export const DEMO_ROUTES: Readonly<Record<string, { readonly methods: readonly string[] }>> = {
  [DEMO_PAGE_PATH]: { methods: DEMO_PAGE_METHODS },
  ...Object.fromEntries(DEMO_STREAM_PATHS.map((path) => [path, { methods: DEMO_STREAM_METHODS }])),
  [BROWSER_BUNDLE_PATH]: { methods: BUNDLE_METHODS },
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface DemoRoutesOptions {
  hub: Pick<Hub, 'publish'>;
  /** Path of the hub the demo page subscribes through. */
  hubPath: string;
  logger: Logger;
  /** File of the browser client bundle (built by `npm run build`). */
  bundlePath: string;
}

/** The demo's routes on the standalone server. */
export interface DemoRoutes {
  /** The handler for `path`, or undefined when the demo does not serve it. */
  match(path: string): Handler | undefined;
  /** Stops the clock and ends the demo streams. */
  stop(): void;
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * The demo on top of the hub: the page at `/` subscribes through the hub to the clock's topic,
 * `/events` and `/sse` keep serving the tutorial's stream, and `/ssehub-client.js` serves the
 * browser bundle of the client (read once, on first request).
 */
export function createDemoRoutes(options: DemoRoutesOptions): DemoRoutes {
  const demo: DemoHandler = createDemoHandler({
    hub: {
      publish: (input) => options.hub.publish(input),
      hubUrl: options.hubPath,
      onError: (err) => options.logger.warn({ err }, 'demo update not published'),
    },
  });
  // Dispatched from the table; the bundle is answered here, the rest by the demo handler.
  const demoPaths = new Set(Object.keys(DEMO_ROUTES));
  let bundle: Promise<Buffer | undefined> | undefined;

  async function serveBundle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', BUNDLE_METHODS.join(', '));
      text(res, 405, 'Method not allowed\n');
      return;
    }
    bundle ??= readFile(options.bundlePath).catch(() => undefined);
    const body = await bundle;
    if (!body) {
      // Not cached: a build may add the file while the server runs.
      bundle = undefined;
      text(res, 404, 'The browser client is not built; run `npm run build`.\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  return {
    match(path) {
      if (path === BROWSER_BUNDLE_PATH) return serveBundle;
      return demoPaths.has(path) ? demo : undefined;
    },
    stop() {
      demo.close();
    },
  };
}
