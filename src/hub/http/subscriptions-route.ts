import { SseHubError } from '../../errors.js';
import { isMatchType, type MatchType } from '../core/index.js';
import { decodeComponent, hasMalformedEscape } from './form-decoding.js';

/** What a subscriptions API request asks for, and in which shape. */
export type SubscriptionsRoute =
  | { shape: 'current'; matchType?: MatchType; match?: string; subscriber?: string }
  | { shape: 'draft07'; topic?: string; subscriber?: string };

// A malformed escape names no topic (404, as before); well-formed escapes of invalid UTF-8 are the
// same 400 INVALID_ENCODING as in a query or a form. `+` is literal in a path.
function decodeSegment(segment: string): string {
  if (hasMalformedEscape(segment)) throw new SseHubError('NOT_FOUND', 'malformed percent-encoding');
  return decodeComponent(segment, false);
}

/** The `q` of each media range of an `Accept` header (RFC 9110 §12.5.1), by lowercased range. */
function qualities(accept: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((p) => p.trim());
    if (type === undefined || type === '') continue;
    let q = 1;
    for (const param of params) {
      const m = /^q\s*=\s*([0-9.]+)$/i.exec(param);
      if (m) q = Number(m[1]);
    }
    out.set(type.toLowerCase(), Number.isFinite(q) ? q : 0);
  }
  return out;
}

/**
 * True when the client asks for JSON-LD rather than JSON: `application/ld+json` is named with a
 * higher `q` than `application/json` (wildcards prefer nothing). A tie goes to the current spec.
 */
export function prefersJsonLd(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const q = qualities(accept);
  const ld = q.get('application/ld+json') ?? 0;
  return ld > 0 && ld > (q.get('application/json') ?? 0);
}

/**
 * Which resource `rest` (the path after `{hub}/subscriptions`) names, and in which shape. The
 * current spec's paths start with a matcher type (`exact`, `urlpattern`); draft 07's with a topic:
 * - no segment: the collection; JSON-LD (draft 07) only when Accept prefers it;
 * - three segments: `{match_type}/{match}/{subscriber}`, current (draft 07 has no such path); an
 *   unknown or non-canonical match type names nothing (404);
 * - one or two segments starting with a match type: `{match_type}[/{match}]` collections, current,
 *   unless Accept prefers JSON-LD: then draft 07's `{topic}[/{subscriber}]` for the topic `exact`;
 * - otherwise draft 07's `{topic}[/{subscriber}]`.
 */
export function routeSubscriptions(rest: string, accept: string | undefined): SubscriptionsRoute {
  const raw = rest === '' || rest === '/' ? [] : rest.slice(1).split('/');
  if (raw.length > 3 || raw.some((s) => s === '')) throw new SseHubError('NOT_FOUND');
  const segments = raw.map(decodeSegment);
  const [first, second, third] = segments;
  const jsonLd = prefersJsonLd(accept);
  if (first === undefined) return jsonLd ? { shape: 'draft07' } : { shape: 'current' };
  if (third !== undefined) {
    if (!isMatchType(first)) throw new SseHubError('NOT_FOUND', 'no such matcher type');
    return { shape: 'current', matchType: first, match: second!, subscriber: third };
  }
  if (isMatchType(first) && !jsonLd) {
    return second === undefined
      ? { shape: 'current', matchType: first }
      : { shape: 'current', matchType: first, match: second };
  }
  return second === undefined
    ? { shape: 'draft07', topic: first }
    : { shape: 'draft07', topic: first, subscriber: second };
}
