export type { FastifyReplyLike, FastifyRequestLike } from './fastify.js';
export { fastifyEventStream } from './fastify.js';
export type { EventStreamResponseOptions, FetchRequestLike } from './fetch.js';
export { DEFAULT_BODY_HIGH_WATER_MARK, eventStreamResponse } from './fetch.js';
export { eventStreamFromHttp2Stream } from './http2.js';
export type { KoaContextLike } from './koa.js';
export { koaEventStream } from './koa.js';
export type { NodeRequest, NodeResponse } from './node.js';
export { createEventStream, lastEventIdFrom } from './node.js';
