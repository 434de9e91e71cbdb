import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Hub } from '../hub/types.js';

/**
 * Prometheus metrics of one server. A registry of its own (not prom-client's global one), so that
 * several servers in one process — tests, an app embedding two hubs — do not collide.
 */
export function createMetrics(
  hub: Pick<Hub, 'subscriberCount' | 'stats'>,
  sources: {
    /** Open client connections (the connection tracker's count). */
    connections?: () => number;
    /** Log lines dropped so far because stdout did not take them. */
    droppedLogLines?: () => number;
    /**
     * Where `/metrics` gets its text instead of this registry (a cluster worker: every worker's
     * metrics, merged by the primary).
     */
    collect?: () => Promise<{ contentType: string; body: string }>;
  } = {},
) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ssehub_' });
  // Labelled by route name, never by raw path: paths are unbounded, route names are not.
  const requests = new Counter({
    name: 'ssehub_http_requests_total',
    help: 'HTTP requests and streams that ended, by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ssehub_http_request_duration_seconds',
    help: 'Duration of HTTP requests and streams, by route',
    labelNames: ['route'] as const,
    // Up to an hour: subscriber streams are long-lived by design.
    buckets: [0.005, 0.025, 0.1, 0.5, 2.5, 10, 60, 300, 3600],
    registers: [registry],
  });
  new Gauge({
    name: 'ssehub_subscribers',
    help: 'Open subscriber streams on this node',
    registers: [registry],
    collect() {
      this.set(hub.subscriberCount);
    },
  });

  new Gauge({
    name: 'ssehub_dispatch_backlog',
    help: 'Updates waiting for fan-out behind the one under way',
    registers: [registry],
    collect() {
      this.set(hub.stats.dispatchBacklog);
    },
  });
  followTotals(
    registry,
    'ssehub_dispatch_pauses_total',
    'Times a fan-out paused to let pending I/O (health checks, publishes) run first',
    () => ({ '': hub.stats.dispatchPauses }),
  );
  new Gauge({
    name: 'ssehub_history_cache_bytes',
    help: 'Estimated bytes of history pages kept for concurrent replays to share',
    registers: [registry],
    collect() {
      this.set(hub.stats.historyCacheBytes);
    },
  });

  followTotals(
    registry,
    'ssehub_feed_gaps_total',
    'Gaps in the live feed (lagged: this node fell behind retention; lost: the store lost data)',
    () => hub.stats.feedGaps,
    'reason',
  );

  followTotals(
    registry,
    'ssehub_rate_limited_total',
    'Requests refused by a per-client limit (streams: maxStreamsPerClient; subscribe: maxSubscribeRate; publish: maxPublishRate)',
    () => hub.stats.rateLimited,
    'limit',
  );

  const { connections, droppedLogLines } = sources;
  if (connections) {
    new Gauge({
      name: 'ssehub_connections',
      help: 'Open client connections (TCP), streams and keep-alive ones alike',
      registers: [registry],
      collect() {
        this.set(connections());
      },
    });
  }
  const refused = new Counter({
    name: 'ssehub_connections_refused_total',
    help: 'Connections refused because maxConnections were open',
    registers: [registry],
  });
  if (droppedLogLines) {
    followTotals(
      registry,
      'ssehub_log_lines_dropped_total',
      'Log lines dropped because stdout did not take them (stalled or closed)',
      () => ({ '': droppedLogLines() }),
    );
  }

  return {
    registry,
    /** Counts one connection refused at the limit. */
    connectionRefused(): void {
      refused.inc();
    },
    /** Records one finished request. */
    observe(route: string, status: number, durationMs: number): void {
      requests.inc({ route, status: String(status) });
      duration.observe({ route }, durationMs / 1000);
    },
    /** `/metrics` in the Prometheus text format. */
    async handler(_req: IncomingMessage, res: ServerResponse): Promise<void> {
      let body: string;
      let contentType: string = registry.contentType;
      if (sources.collect) {
        try {
          ({ body, contentType } = await sources.collect());
        } catch {
          // A worker that does not answer the primary in time: no partial sums passed as whole.
          if (res.destroyed) return;
          res.writeHead(503, {
            'content-type': 'text/plain; charset=utf-8',
            'cache-control': 'no-store',
          });
          res.end('metrics of every worker could not be collected\n');
          return;
        }
      } else {
        body = await registry.metrics();
      }
      if (res.destroyed) return;
      res.writeHead(200, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
      });
      res.end(body);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A counter that follows running totals kept elsewhere (the hub's, the log stream's): at each
 * scrape it adds what each total grew by. `read` gives one total per value of `labelName`, or
 * the one total under '' for an unlabelled counter.
 */
function followTotals(
  registry: Registry,
  name: string,
  help: string,
  read: () => Readonly<Record<string, number>>,
  labelName?: string,
): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: labelName === undefined ? [] : [labelName],
    registers: [registry],
    collect() {
      for (const [label, now] of Object.entries(read())) {
        const grown = now - (seen.get(label) ?? 0);
        seen.set(label, now);
        if (grown <= 0) continue;
        if (labelName === undefined) this.inc(grown);
        else this.inc({ [labelName]: label }, grown);
      }
    },
  });
}
