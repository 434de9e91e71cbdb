// Tokens: verifying them (keys, claims), minting them, and caching what verified ones allow.
// Imports selectors/ only (through its index).
export {
  type AuthorizerOptions,
  createAuthorizer,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  DEFAULT_MAX_TOKEN_LENGTH,
  DEFAULT_MAX_TOKEN_SELECTORS,
  type JwksOptions,
  type KeySource,
  type RoleKeys,
  type TrustedIssuer,
} from './authorizer.js';
export { MERCURE_DETAIL_TYPE, payloadFor } from './claims.js';
export {
  DEFAULT_MINT_AUDIENCE,
  DEFAULT_MINT_ISSUER,
  DEFAULT_TOKEN_LIFETIME_SEC,
  type MintClaims,
  type MintKey,
  type MintSelector,
  mintToken,
} from './token.js';
export { VerifiedTokenCache } from './token-cache.js';
export type { Authorizer, Claims, SubscribePayload, TokenRole } from './types.js';
