import type { IncomingMessage, ServerResponse } from 'node:http';
import { SseHubError } from '../../errors.js';

/** How a request's Origin relates to the allow-list. */
export type OriginVerdict = 'none' | 'same-origin' | 'allowed' | 'denied';

/**
 * Normalises configured origins (`https://example.com`, no path) and rejects `*`: the demo stream
 * is credentialed, and credentials must never go to any origin at all.
 */
export function normalizeOrigins(origins: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const origin of origins) {
    if (typeof origin !== 'string' || origin === '*' || origin === 'null') {
      throw new SseHubError('INVALID_OPTION', 'allowedOrigins must list explicit origins');
    }
    let url: URL;
    try {
      url = new URL(origin);
    } catch (cause) {
      throw new SseHubError('INVALID_OPTION', `not an origin: ${origin}`, { cause });
    }
    if (url.origin === 'null' || url.origin !== origin.replace(/\/$/, '').toLowerCase()) {
      throw new SseHubError('INVALID_OPTION', `not an origin: ${origin}`);
    }
    out.add(url.origin);
  }
  return out;
}

/**
 * Sets the CORS response headers for a credentialed request: the Origin is echoed only when it is
 * on the allow-list, with `Access-Control-Allow-Credentials: true`; `Vary: Origin` always, so a
 * cache never serves one origin's answer to another.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  allowed: ReadonlySet<string>,
): OriginVerdict {
  res.setHeader('vary', 'Origin');
  const origin = req.headers.origin;
  if (origin === undefined) return 'none';
  if (allowed.has(origin)) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    return 'allowed';
  }
  // Some browsers send Origin on same-origin requests too; the page's own stream must work.
  const host = req.headers.host;
  if (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)) {
    return 'same-origin';
  }
  return 'denied';
}
