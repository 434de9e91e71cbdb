import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from '../hub/types.js';
import { hasHealth } from '../transport/capabilities.js';
import type { HealthReport, Transport } from '../transport/types.js';

/**
 * Default wait for the transport in a readiness check. 2 s: shorter than the 5 s probe timeout
 * most orchestrators use, so the probe reads our 503 rather than timing out itself.
 */
export const DEFAULT_READY_TIMEOUT_MS = 2_000;

export interface HealthOptions {
  hub: Pick<Hub, 'accepting'>;
  transport: Transport;
  /** True once the server began shutting down. */
  shuttingDown: () => boolean;
  readyTimeoutMs?: number;
  /** A further check after the transport's (a cluster worker: are all workers up). */
  extraCheck?: () => Promise<HealthReport>;
}

export type Readiness = { ready: true } | { ready: false; reason: string };

function answer(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    // Probes must see the live state, never a cached one.
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Liveness and readiness checks of the standalone server. */
export function createHealth(options: HealthOptions) {
  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;

  /** Ready = accepting requests and the transport answers a cheap read in time. */
  async function readiness(): Promise<Readiness> {
    if (options.shuttingDown() || !options.hub.accepting) {
      return { ready: false, reason: 'shutting down' };
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    try {
      const transport = options.transport;
      // A transport that can say how its store is doing does; otherwise a cheap read stands in.
      const check = hasHealth(transport)
        ? transport.health()
        : transport.lastId().then(() => ({ ok: true }) as HealthReport);
      const report = await Promise.race([check, timedOut]);
      if (report === false) return { ready: false, reason: 'transport unavailable' };
      if (!report.ok) {
        return { ready: false, reason: `transport unavailable: ${report.reason ?? 'not ready'}` };
      }
      if (!options.extraCheck) return { ready: true };
      const extra = await Promise.race([options.extraCheck(), timedOut]);
      if (extra === false) return { ready: false, reason: 'primary process not answering' };
      return extra.ok ? { ready: true } : { ready: false, reason: extra.reason ?? 'not ready' };
    } catch {
      return { ready: false, reason: 'transport unavailable' };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    readiness,
    /** `/healthz`: the process runs and its event loop answers. 200 until it exits. */
    liveness(_req: IncomingMessage, res: ServerResponse): void {
      answer(res, 200, { status: 'ok' });
    },
    /** `/readyz`: 200 when this node should get traffic, 503 otherwise (with the reason). */
    async readyz(_req: IncomingMessage, res: ServerResponse): Promise<void> {
      const state = await readiness();
      if (res.destroyed) return;
      if (state.ready) answer(res, 200, { status: 'ready' });
      else answer(res, 503, { status: 'unavailable', reason: state.reason });
    },
  };
}

export type Health = ReturnType<typeof createHealth>;
