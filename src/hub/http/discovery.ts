import type { ServerResponse } from 'node:http';
import { SseHubError } from '../../errors.js';

export interface DiscoveryOptions {
  /** Adds `last-event-id="…"`: the id the page was rendered at, so no update in between is lost. */
  lastEventId?: string;
  /** Adds `content-type="…"`: the media type of the updates (e.g. a JSON Patch type). */
  contentType?: string;
}

function quoted(name: string, value: string): string {
  if (/[\r\n\0"\\]/.test(value)) {
    throw new SseHubError(
      'INVALID_OPTION',
      `${name} must not contain quotes, backslashes or line breaks`,
    );
  }
  return `; ${name}="${value}"`;
}

/**
 * The value of a Mercure discovery `Link` header: `<hubUrl>; rel="mercure"`. `hubUrl` is the
 * hub's public URL, e.g. `https://example.com/.well-known/mercure`.
 */
export function discoveryLinkHeader(hubUrl: string, options: DiscoveryOptions = {}): string {
  if (typeof hubUrl !== 'string' || hubUrl === '' || /[\s<>]/.test(hubUrl)) {
    throw new SseHubError(
      'INVALID_OPTION',
      'hubUrl must be a URL without spaces or angle brackets',
    );
  }
  let value = `<${hubUrl}>; rel="mercure"`;
  if (options.lastEventId !== undefined) value += quoted('last-event-id', options.lastEventId);
  if (options.contentType !== undefined) value += quoted('content-type', options.contentType);
  return value;
}

/** Adds the discovery `Link` header to `res`, keeping any `Link` headers already set. */
export function setDiscoveryLink(
  res: Pick<ServerResponse, 'getHeader' | 'setHeader'>,
  hubUrl: string,
  options?: DiscoveryOptions,
): void {
  const link = discoveryLinkHeader(hubUrl, options);
  const existing = res.getHeader('link');
  if (existing === undefined) res.setHeader('Link', link);
  else if (Array.isArray(existing)) res.setHeader('Link', [...existing, link]);
  else res.setHeader('Link', [String(existing), link]);
}
