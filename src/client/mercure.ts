import { isSseHubError, SseHubError } from '../errors.js';
import { EventSource } from './event-source.js';
import { readLimitedText, SseHubHttpError } from './http-error.js';
import { CLIENT_DEFAULTS } from './options.js';
import { type SubscribeOptions, type Subscription, subscribe } from './subscribe.js';
import type { ClientOptions, FetchLike } from './types.js';
import { resolveUrl } from './url.js';

/**
 * Hubs send heartbeats (ours every 15 s, Mercure.rocks every 40 s by default), so silence well past
 * both means a dead connection.
 */
export const MERCURE_HEARTBEAT_TIMEOUT_MS = 60_000;

/** Which Mercure generation the hub speaks: 7 (`topic=`, hub 0.x) or 8 (`match=`, hub 1.0). */
export type MercureDraft = 7 | 8;

/** What a Mercure subscription adds to the client options. */
export interface MercureTopicsOptions {
  /** Topics or topic selectors; at least one. */
  topics: readonly string[];
  /** Default 7, which is what most deployed hubs speak. */
  draft?: MercureDraft;
  /**
   * Subscriber JWT, sent as `Authorization: Bearer`. A function is called before every
   * connection, so a refreshed token is used on reconnect. Omit it to use the hub's cookie
   * (with `withCredentials: true`) or to subscribe anonymously.
   */
  token?: string | (() => string);
}

/** The hub URL with one `topic=` (draft 07) or `match=` (draft 08) parameter per topic. */
export function mercureSubscribeUrl(
  hubUrl: string | URL,
  topics: readonly string[],
  draft: MercureDraft = 7,
): string {
  if (topics.length === 0) throw new SseHubError('MISSING_TOPIC');
  const url = new URL(resolveUrl(hubUrl));
  const name = draft === 8 ? 'match' : 'topic';
  for (const topic of topics) url.searchParams.append(name, topic);
  return url.href;
}

function withMercureDefaults<O extends ClientOptions>(options: O & MercureTopicsOptions): O {
  const { topics: _topics, draft: _draft, token, ...rest } = options;
  const client = {
    ...rest,
    heartbeatTimeoutMs: rest.heartbeatTimeoutMs ?? MERCURE_HEARTBEAT_TIMEOUT_MS,
  } as unknown as O;
  if (token === undefined) return client;
  const userHeaders = options.headers;
  client.headers = () => {
    const headers = new Headers(typeof userHeaders === 'function' ? userHeaders() : userHeaders);
    headers.set('Authorization', `Bearer ${typeof token === 'function' ? token() : token}`);
    return headers;
  };
  return client;
}

/** `subscribe()` to Mercure topics: `for await (const update of subscribeTopics(hub, { topics }))`. */
export function subscribeTopics(
  hubUrl: string | URL,
  options: SubscribeOptions & MercureTopicsOptions,
): Subscription {
  const url = mercureSubscribeUrl(hubUrl, options.topics, options.draft);
  return subscribe(url, withMercureDefaults<SubscribeOptions>(options));
}

/** An EventSource on Mercure topics (with a token header, which the browser's cannot send). */
export function mercureEventSource(
  hubUrl: string | URL,
  options: ClientOptions & MercureTopicsOptions,
): EventSource {
  const url = mercureSubscribeUrl(hubUrl, options.topics, options.draft);
  return new EventSource(url, withMercureDefaults<ClientOptions>(options));
}

/** One update to publish (the Mercure publish form fields). */
export interface MercureUpdate {
  /** The canonical topic first, then alternates. */
  topics: readonly string[] | string;
  data?: string;
  /** Deliver only to subscribers authorized for one of the topics. */
  private?: boolean;
  /** Default: the hub assigns one. */
  id?: string;
  /** The SSE event type. */
  type?: string;
  /** Reconnection time subscribers should use, in ms. */
  retry?: number;
}

export interface PublishOptions {
  /** Default the global `fetch`. */
  fetch?: FetchLike;
  headers?: HeadersInit;
  /** Authenticate with the hub's cookie instead of (or beside) a token. */
  withCredentials?: boolean;
  signal?: AbortSignal;
}

/**
 * Publishes an update (POST, `application/x-www-form-urlencoded`) and resolves with the id the
 * hub assigned or accepted. `token` is the publisher JWT, sent as `Authorization: Bearer`.
 * Rejects with HTTP_ERROR (a SseHubHttpError with `httpStatus` and `body`) when the hub refuses,
 * CONNECTION_LOST when the request fails, ABORTED when `signal` aborts it.
 */
export async function publish(
  hubUrl: string | URL,
  update: MercureUpdate,
  token?: string,
  options: PublishOptions = {},
): Promise<string> {
  const topics = typeof update.topics === 'string' ? [update.topics] : update.topics;
  if (topics.length === 0) throw new SseHubError('MISSING_TOPIC');
  if (update.retry !== undefined && !(Number.isSafeInteger(update.retry) && update.retry >= 0)) {
    throw new SseHubError('INVALID_RETRY', String(update.retry));
  }
  const form = new URLSearchParams();
  for (const topic of topics) form.append('topic', topic);
  if (update.data !== undefined) form.append('data', update.data);
  if (update.private) form.append('private', 'on');
  if (update.id !== undefined) form.append('id', update.id);
  if (update.type !== undefined) form.append('type', update.type);
  if (update.retry !== undefined) form.append('retry', String(update.retry));

  const headers = new Headers(options.headers);
  headers.set('Content-Type', 'application/x-www-form-urlencoded');
  if (token !== undefined) headers.set('Authorization', `Bearer ${token}`);
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  try {
    response = await fetchFn(resolveUrl(hubUrl), {
      method: 'POST',
      headers,
      body: form.toString(),
      credentials: options.withCredentials ? 'include' : 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if (isSseHubError(err)) throw err;
    if (options.signal?.aborted) throw new SseHubError('ABORTED', 'publish', { cause: err });
    const detail = err instanceof Error ? err.message : String(err);
    throw new SseHubError('CONNECTION_LOST', detail, { cause: err });
  }
  const body = await readLimitedText(response, CLIENT_DEFAULTS.maxErrorBodyBytes);
  if (!response.ok) throw new SseHubHttpError(response.status, body, response.headers);
  // Ids cannot contain line breaks, so a trailing one is the hub's formatting, not the id.
  return body.replace(/[\r\n]+$/, '');
}
