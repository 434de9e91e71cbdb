// The Mercure HTTP surface: routing, the handlers and what they share (`HubContext`). Imports
// core/, auth/, selectors/ (through their indexes) and, of the top level, only options.ts.
export { ClientStreams, clientKey } from './client-streams.js';
export type { HubContext, PublishVia } from './context.js';
export { type DiscoveryOptions, discoveryLinkHeader, setDiscoveryLink } from './discovery.js';
export { asAuthError } from './error-response.js';
export { createRequestHandler, type HubRequestHandler } from './request-router.js';
export {
  RESOURCE_METADATA_SEGMENT,
  resourceMetadata,
  resourceMetadataPath,
  resourceMetadataPaths,
  resourceMetadataUrl,
} from './resource-metadata.js';
export { type ExtractedToken, extractToken, type TokenSource } from './token-extraction.js';
