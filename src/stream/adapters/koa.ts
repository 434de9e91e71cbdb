import type { EventStream } from '../event-stream.js';
import type { EventStreamOptions } from '../types.js';
import { createEventStream, type NodeRequest, type NodeResponse } from './node.js';

/** The part of a Koa context the adapter uses (structural, so Koa stays a dev dependency). */
export interface KoaContextLike {
  req: NodeRequest;
  res: NodeResponse;
  respond?: boolean;
}

/**
 * Turns a Koa context into an event stream. Koa stops handling the response (`ctx.respond =
 * false`), so the middleware may return at once; headers set with `ctx.set` are kept.
 */
export function koaEventStream(ctx: KoaContextLike, options?: EventStreamOptions): EventStream {
  const stream = createEventStream(ctx.req, ctx.res, options);
  ctx.respond = false;
  return stream;
}
