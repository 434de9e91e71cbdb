// The Mercure HTTP surface: routing, the handlers and what they share (`HubContext`). Imports
// core/, auth/, selectors/ (through their indexes) and, of the top level, only options.ts.
export { clientAddress } from './client-address.js';
export { clientKey, tokenSubject } from './client-identity.js';
export { type ClientLimitName, ClientLimits } from './client-limits.js';
export { ClientStreams } from './client-streams.js';
export type { HubContext, PublishVia } from './context.js';
export { type DiscoveryOptions, discoveryLinkHeader, setDiscoveryLink } from './discovery.js';
export { asAuthError } from './error-response.js';
export { isLoggedByHub, markLoggedByHub, unmarkLoggedByHub } from './logged-by-hub.js';
export { DEFAULT_MAX_RATE_LIMIT_CLIENTS, TokenBuckets } from './rate-limit.js';
export { RateLimitedWarning } from './rate-limited-warning.js';
export { createRequestHandler, type HubRequestHandler } from './request-router.js';
export {
  RESOURCE_METADATA_SEGMENT,
  resourceMetadata,
  resourceMetadataPath,
  resourceMetadataPaths,
  resourceMetadataUrl,
} from './resource-metadata.js';
export { type ExtractedToken, extractToken, type TokenSource } from './token-extraction.js';
