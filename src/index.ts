// The package root: event streams, the wire format, the hub and its plug-in points.
// The client is `ssehub/client`; the standalone server is `ssehub/server`.
export { type ErrorCode, errorTable, isSseHubError, SseHubError } from './errors.js';
export {
  type AuthorizerOptions,
  createAuthorizer,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  DEFAULT_MAX_TOKEN_LENGTH,
  DEFAULT_MAX_TOKEN_SELECTORS,
  DEFAULT_MINT_AUDIENCE,
  DEFAULT_MINT_ISSUER,
  MERCURE_DETAIL_TYPE,
  type MintClaims,
  type MintKey,
  type MintSelector,
  mintToken,
  payloadFor,
  type RoleKeys,
  type TrustedIssuer,
} from './hub/auth/index.js';
export {
  type Authorizer,
  type Claims,
  createHub,
  type DiscoveryOptions,
  discoveryLinkHeader,
  EARLIEST,
  generateUpdateId,
  type Hub,
  type HubOptions,
  type JwtIssuerOptions,
  type JwtKeyOptions,
  type PublishInput,
  resolveHubOptions,
  type SelectorSyntax,
  setDiscoveryLink,
  type TokenRole,
  type TopicMatcher,
} from './hub/index.js';
export {
  compileSelector,
  type MatcherKind,
  matchesAny,
  WILDCARD,
} from './hub/selectors/index.js';
export * from './protocol/index.js';
export * from './stream/index.js';
export * from './transport/index.js';
