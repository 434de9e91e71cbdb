import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, isSseHubError, SseHubError } from '../../errors.js';
import { createEventStream } from '../../stream/adapters/node.js';
import { MIN_HEARTBEAT_MS } from '../../stream/options.js';
import { Broadcaster } from './broadcaster.js';
import { TimeTicker } from './clock.js';
import { applyCors, normalizeOrigins } from './cors.js';
import { type DemoHubOptions, HubFeed } from './hub-feed.js';
import { demoPage } from './page.js';

/** Paths of the demo's event stream: `/events`, and `/sse` as in the original tutorial. */
export const DEMO_STREAM_PATHS = ['/events', '/sse'] as const;
/** Path of the demo page. */
export const DEMO_PAGE_PATH = '/';
/** Methods of the page (HEAD: link checkers) and of the streams (OPTIONS: the CORS preflight). */
export const DEMO_PAGE_METHODS = ['GET', 'HEAD'] as const;
export const DEMO_STREAM_METHODS = ['GET', 'OPTIONS'] as const;
/** Default interval of the `currentTime` event, in ms. */
export const DEFAULT_DEMO_INTERVAL_MS = 1000;
/** Default `retry:` sent to demo clients, in ms: a quick reconnect shows resuming in action. */
export const DEFAULT_DEMO_RETRY_MS = 2000;
/** The first message of every demo stream. */
const HELLO = 'hello! A currentTime event follows every second.';
/** How long a browser may cache the answer to a preflight, in s. */
const PREFLIGHT_MAX_AGE_S = 600;

export interface DemoOptions {
  /**
   * Origins (`https://app.example`) whose pages may open the stream cross-origin, credentials
   * included. Default none: only same-origin pages. `*` is refused (never with credentials).
   */
  allowedOrigins?: readonly string[];
  /** Interval of the `currentTime` event, in ms. Default 1000. */
  intervalMs?: number;
  /** Heartbeat interval of the streams, in ms (see EventStreamOptions). Default 15 000. */
  heartbeatMs?: number;
  /** `retry:` sent to clients, in ms. Default {@link DEFAULT_DEMO_RETRY_MS}. */
  retry?: number;
  /**
   * Run the demo on top of a hub: the clock ticks all the time and every tick is also published
   * to the hub's demo topic, and the page subscribes through the hub instead of `/events`
   * (which keeps working as before).
   */
  hub?: DemoHubOptions;
}

/** The demo as a node:http handler. */
export interface DemoHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Paths the handler answers; anything else gets 404. */
  readonly paths: readonly string[];
  /** Open demo streams. */
  readonly streams: number;
  /** Stops the clock and ends every stream; later stream requests get 503. */
  close(): void;
}

function fail(res: ServerResponse, code: ErrorCode, headers: Record<string, string> = {}): void {
  const err = new SseHubError(code);
  res.writeHead(err.status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${err.message}\n`);
}

/**
 * The tutorial's demo: `/` serves a page whose EventSource shows the stream live, and `/events`
 * (also `/sse`) sends a `message` hello, then a `currentTime` event every second with a
 * monotonic id. One clock timer feeds every open stream with the same encoded bytes.
 */
export function createDemoHandler(options: DemoOptions = {}): DemoHandler {
  const allowed = normalizeOrigins(options.allowedOrigins ?? []);
  const intervalMs = options.intervalMs ?? DEFAULT_DEMO_INTERVAL_MS;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < MIN_HEARTBEAT_MS) {
    throw new SseHubError('INVALID_OPTION', `intervalMs must be an integer >= ${MIN_HEARTBEAT_MS}`);
  }
  const streamOptions = {
    retry: options.retry ?? DEFAULT_DEMO_RETRY_MS,
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
  };
  const page = Buffer.from(demoPage({ streamUrl: 'events' }), 'utf8');
  const feed = options.hub ? new HubFeed(options.hub) : undefined;
  const broadcaster = new Broadcaster((count) => {
    // On a hub the clock feeds subscribers the demo cannot count: it never pauses.
    if (feed) return;
    if (count === 0) ticker.stop();
    else ticker.start();
  });
  const ticker = new TimeTicker(intervalMs, (event) => {
    broadcaster.publish(event);
    feed?.tick(event);
  });
  if (feed) ticker.start();
  let closed = false;

  function sendPage(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  function servePage(req: IncomingMessage, res: ServerResponse): void {
    if (!feed) {
      sendPage(req, res, page);
      return;
    }
    const render = (streamUrl: string) =>
      Buffer.from(demoPage({ streamUrl, topic: feed.topic }), 'utf8');
    if (req.method === 'HEAD') {
      sendPage(req, res, render(feed.plainStreamUrl()));
      return;
    }
    if (closed) {
      fail(res, 'SHUTTING_DOWN');
      return;
    }
    feed.pageStreamUrl(HELLO).then(
      (streamUrl) => sendPage(req, res, render(streamUrl)),
      (err: unknown) => {
        options.hub?.onError?.(err);
        if (!res.headersSent) fail(res, isSseHubError(err) ? err.code : 'TRANSPORT_FAILURE');
      },
    );
  }

  function serveStream(req: IncomingMessage, res: ServerResponse): void {
    const verdict = applyCors(req, res, allowed);
    if (req.method === 'OPTIONS') {
      if (verdict !== 'allowed') {
        fail(res, 'ORIGIN_NOT_ALLOWED');
        return;
      }
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, OPTIONS',
        // EventSource polyfills send these; a browser's own EventSource needs no preflight.
        'access-control-allow-headers': 'Last-Event-ID, Cache-Control, Accept',
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
      });
      res.end();
      return;
    }
    if (verdict === 'denied') {
      fail(res, 'ORIGIN_NOT_ALLOWED');
      return;
    }
    if (closed) {
      fail(res, 'SHUTTING_DOWN');
      return;
    }
    const stream = createEventStream(req, res, streamOptions);
    const resumed = stream.lastEventId ? ` Resuming after event ${stream.lastEventId}.` : '';
    // No id on the hello: it must not move the client's Last-Event-ID.
    stream.send({ data: `${HELLO}${resumed}` });
    broadcaster.add(stream);
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    const isStream = (DEMO_STREAM_PATHS as readonly string[]).includes(path);
    if (!isStream && path !== DEMO_PAGE_PATH) {
      fail(res, 'NOT_FOUND');
      return;
    }
    const method = req.method ?? 'GET';
    const methods: readonly string[] = isStream ? DEMO_STREAM_METHODS : DEMO_PAGE_METHODS;
    if (!methods.includes(method)) {
      fail(res, 'METHOD_NOT_ALLOWED', { allow: methods.join(', ') });
      return;
    }
    if (isStream) serveStream(req, res);
    else servePage(req, res);
  };

  return Object.defineProperties(handler, {
    paths: { value: [DEMO_PAGE_PATH, ...DEMO_STREAM_PATHS], enumerable: true },
    streams: { get: () => broadcaster.size, enumerable: true },
    close: {
      value: () => {
        closed = true;
        ticker.stop();
        broadcaster.closeAll();
      },
      enumerable: true,
    },
  }) as DemoHandler;
}
