import type { ServerResponse } from 'node:http';
import { MERCURE_DETAIL_TYPE } from '../auth/index.js';
import type { ResolvedHubOptions } from '../options.js';

/** The well-known segment of OAuth 2.0 Protected Resource Metadata (RFC 9728 section 3). */
export const RESOURCE_METADATA_SEGMENT = '/.well-known/oauth-protected-resource';

/**
 * `/.well-known/oauth-protected-resource` + `path` (RFC 9728 section 3.1: the well-known segment
 * goes between the host and the resource's path; a root path adds nothing).
 */
export function resourceMetadataPath(path: string): string {
  return path === '/' || path === ''
    ? RESOURCE_METADATA_SEGMENT
    : `${RESOURCE_METADATA_SEGMENT}${path}`;
}

/**
 * The absolute URL of the metadata document, for `resource_metadata` in challenges. Built from the
 * configured resource identifier (else the public URL) and never from the request's `Host`: a
 * forged Host would send clients to an attacker's metadata.
 */
export function resourceMetadataUrl(options: ResolvedHubOptions): string {
  const url = httpUrl(options.jwtAudience) ?? new URL(options.publicUrl);
  return `${url.origin}${resourceMetadataPath(url.pathname)}`;
}

/**
 * Paths this hub answers with the document: the one derived from its own path, and the one
 * derived from the resource identifier when that is a URL with another path (a hub mounted
 * behind a proxy that rewrites its path).
 */
export function resourceMetadataPaths(
  options: Pick<ResolvedHubOptions, 'path' | 'jwtAudience'>,
): ReadonlySet<string> {
  const paths = new Set([resourceMetadataPath(options.path)]);
  const url = httpUrl(options.jwtAudience);
  if (url !== undefined) paths.add(resourceMetadataPath(url.pathname));
  return paths;
}

function httpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The RFC 9728 document with the members the Mercure spec lists (section "Discovery"). */
export function resourceMetadata(options: ResolvedHubOptions): Record<string, unknown> {
  const doc: Record<string, unknown> = { resource: options.jwtAudience };
  // Omitted, not empty, when tokens are self-issued (the spec's wording).
  if (options.authorizationServers.length > 0) {
    doc.authorization_servers = [...options.authorizationServers];
  }
  // Only the RFC 6750 methods the hub accepts; never `query` (the spec forbids it even when
  // `allowQueryToken` keeps draft 07's query token alive), and the cookie has its own member.
  doc.bearer_methods_supported = ['header'];
  doc.authorization_details_types_supported = [MERCURE_DETAIL_TYPE];
  // The configured name (default the current spec's), never draft 07's, which it still reads.
  doc.mercure_cookie = options.cookieName;
  if (options.subscriptions) doc.mercure_subscriptions = true;
  return doc;
}

/** Answers the metadata document (public: no token needed). */
export function sendResourceMetadata(res: ServerResponse, body: string): void {
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    // Static for the life of the process; a short cache spares repeated discovery fetches.
    'Cache-Control': 'public, max-age=300',
  });
  res.end(body);
}
