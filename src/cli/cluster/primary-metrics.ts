import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';

/**
 * `/metrics` of a cluster: every worker's registry merged by prom-client's AggregatorRegistry
 * (counters and gauges summed over workers, e.g. `ssehub_subscribers` is the machine's total),
 * followed by the primary's own: workers running and restarts.
 */
export function createClusterMetrics(sources: { running: () => number; expected: number }) {
  const aggregator = new AggregatorRegistry();
  const own = new Registry();
  new Gauge({
    name: 'ssehub_cluster_workers',
    help: 'Worker processes running (listening and connected to the primary)',
    registers: [own],
    collect() {
      this.set(sources.running());
    },
  });
  new Gauge({
    name: 'ssehub_cluster_workers_expected',
    help: 'Worker processes configured (--workers)',
    registers: [own],
    collect() {
      this.set(sources.expected);
    },
  });
  const restarts = new Counter({
    name: 'ssehub_cluster_worker_restarts_total',
    help: 'Workers restarted after they exited on their own (crash, kill)',
    registers: [own],
  });
  return {
    restarted(): void {
      restarts.inc();
    },
    /** Rejects when a worker did not answer in time (prom-client waits 5 s). */
    async collect(): Promise<{ contentType: string; body: string }> {
      const workers = await aggregator.clusterMetrics();
      const mine = await own.metrics();
      const body =
        workers === '' || workers.endsWith('\n') ? workers + mine : `${workers}\n${mine}`;
      return { contentType: aggregator.contentType, body };
    },
  };
}
