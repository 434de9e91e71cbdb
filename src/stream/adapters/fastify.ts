import { SseHubError } from '../../errors.js';
import type { EventStream } from '../event-stream.js';
import type { EventStreamOptions } from '../types.js';
import { createEventStream, type NodeRequest, type NodeResponse } from './node.js';

/** The part of a Fastify request the adapter uses (structural: Fastify stays a dev dependency). */
export interface FastifyRequestLike {
  raw: NodeRequest;
}

/** The part of a Fastify reply the adapter uses. */
export interface FastifyReplyLike {
  raw: NodeResponse;
  readonly sent: boolean;
  hijack(): unknown;
  getHeaders(): Record<string, string | number | string[] | undefined>;
}

/**
 * Turns a Fastify request/reply into an event stream. The reply is hijacked (Fastify no longer
 * sends it); headers set earlier with `reply.header` (e.g. by @fastify/cors) are carried over.
 */
export function fastifyEventStream(
  request: FastifyRequestLike,
  reply: FastifyReplyLike,
  options: EventStreamOptions = {},
): EventStream {
  if (reply.sent) throw new SseHubError('STREAM_HEADERS_SENT');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value : String(value);
  }
  const stream = createEventStream(request.raw, reply.raw, {
    ...options,
    headers: { ...headers, ...options.headers },
  });
  reply.hijack();
  return stream;
}
