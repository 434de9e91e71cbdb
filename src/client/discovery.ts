import { isSseHubError, SseHubError } from '../errors.js';
import { readLimitedText, SseHubHttpError } from './http-error.js';
import { parseLinkHeader } from './link-header.js';
import { CLIENT_DEFAULTS } from './options.js';
import type { FetchLike } from './types.js';

export interface DiscoverOptions {
  /** Default the global `fetch`. */
  fetch?: FetchLike;
  /** `GET` (default) or `HEAD`; either carries the Link headers. */
  method?: 'GET' | 'HEAD';
  headers?: HeadersInit;
  /** Send cookies cross-origin. Default false. */
  withCredentials?: boolean;
  signal?: AbortSignal;
}

/** What a resource advertised. */
export interface DiscoveredHub {
  /** The first `rel="mercure"` link, absolute. */
  hubUrl: string;
  /** Every `rel="mercure"` link, absolute, in header order. */
  hubUrls: string[];
  /**
   * The `last-event-id` parameter of the hub link: the state the resource was rendered at. Pass
   * it as `lastEventId` when subscribing so no update in between is missed.
   */
  lastEventId: string | undefined;
  /** The canonical topic from `rel="self"`, absolute, when the resource gave one. */
  topic: string | undefined;
  /** The resource response's status and headers (its body is not read). */
  status: number;
  headers: Headers;
}

/**
 * Finds the Mercure hub of a resource from its `Link: <…>; rel="mercure"` headers, resolving
 * relative links against the (redirected) resource URL. In browsers the resource must expose
 * `Link` through `Access-Control-Expose-Headers` when it is cross-origin.
 * Rejects with HTTP_ERROR (a SseHubHttpError) on an error status, DISCOVERY_FAILED when no hub
 * is advertised, CONNECTION_LOST when the request fails.
 */
export async function discoverHub(
  resourceUrl: string | URL,
  options: DiscoverOptions = {},
): Promise<DiscoveredHub> {
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  try {
    response = await fetchFn(String(resourceUrl), {
      method: options.method ?? 'GET',
      headers: options.headers,
      credentials: options.withCredentials ? 'include' : 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if (isSseHubError(err)) throw err;
    if (options.signal?.aborted) throw new SseHubError('ABORTED', 'discovery', { cause: err });
    const detail = err instanceof Error ? err.message : String(err);
    throw new SseHubError('CONNECTION_LOST', detail, { cause: err });
  }
  if (!response.ok) {
    const body = await readLimitedText(response, CLIENT_DEFAULTS.maxErrorBodyBytes);
    throw new SseHubHttpError(response.status, body, response.headers);
  }
  response.body?.cancel().catch(() => {});
  const base = response.url || String(resourceUrl);
  const links = parseLinkHeader(response.headers.get('link') ?? '');
  const resolve = (href: string): string | undefined => {
    try {
      return new URL(href, base).href;
    } catch {
      return undefined;
    }
  };
  const hubLinks = links.filter((l) => l.rel.includes('mercure'));
  const hubUrls = hubLinks.map((l) => resolve(l.href)).filter((u): u is string => u !== undefined);
  const hubUrl = hubUrls[0];
  if (hubUrl === undefined) throw new SseHubError('DISCOVERY_FAILED', base);
  const self = links.find((l) => l.rel.includes('self'));
  return {
    hubUrl,
    hubUrls,
    lastEventId: hubLinks.find((l) => l.params['last-event-id'] !== undefined)?.params[
      'last-event-id'
    ],
    topic: self ? resolve(self.href) : undefined,
    status: response.status,
    headers: response.headers,
  };
}
