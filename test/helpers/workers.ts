// Helpers of tests that run `ssehub serve --workers 2`.
import assert from 'node:assert/strict';
import { openSse, type SseConnection } from './sse-client.js';

/** Opens subscriptions (a new TCP connection each) until two workers answered, at most 20. */
export async function subscribersOnBothWorkers(
  base: string,
  topic: string,
): Promise<SseConnection[]> {
  const conns: SseConnection[] = [];
  const workers = new Set<string>();
  for (let i = 0; i < 20 && (workers.size < 2 || conns.length < 4); i++) {
    const conn = await openSse(`${base}/.well-known/mercure?topic=${encodeURIComponent(topic)}`);
    assert.equal(conn.status, 200);
    workers.add(String(conn.headers['ssehub-worker']));
    conns.push(conn);
  }
  assert.equal(workers.size, 2, 'the cluster spread connections over both workers');
  return conns;
}
