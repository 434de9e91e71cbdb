import type { Logger } from 'pino';
import type { Transport } from '../transport/types.js';
import type { Authorizer } from './types.js';

/** Keys for verifying tokens of one role. */
export interface JwtKeyOptions {
  /** HMAC secret, or a PEM public key / certificate (RSA, EC, Ed25519). */
  key?: string;
  /** JWKS URL; keys are fetched and cached. */
  jwksUrl?: string;
  /** Allowed algorithms; default derived from the key type. `none` is never allowed. */
  algorithms?: string[];
}

/**
 * Everything a hub can be told. The CLI and environment variables only map onto this object;
 * defaults and validation live in one place (`resolveHubOptions`).
 */
export interface HubOptions {
  /** History and fan-out. Default: an in-memory transport. */
  transport?: Transport;
  /** Verifies tokens; built from `jwt` / `publisherJwt` / `subscriberJwt` when absent. */
  authorizer?: Authorizer;
  /** Keys for both roles, unless overridden per role below. */
  jwt?: JwtKeyOptions;
  publisherJwt?: JwtKeyOptions;
  subscriberJwt?: JwtKeyOptions;
  /** Allow subscribers without a token (they receive public updates only). Default false. */
  anonymous?: boolean;
  /** Accept the token from the `authorization` query parameter (discouraged). Default false. */
  allowQueryToken?: boolean;
  /** Origins allowed by CORS (with credentials). `*` allows any origin without credentials. */
  corsOrigins?: string[];
  /** Origins allowed to publish with cookie authentication. Default: `corsOrigins`. */
  publishOrigins?: string[];
  /** Base path of the hub. Default `/.well-known/mercure`. */
  path?: string;
  /** Publish and serve active subscription events and the subscriptions API. Default false. */
  subscriptions?: boolean;
  /** Heartbeat comment interval in ms (0 = off). Default 15 000 (see EventStreamOptions). */
  heartbeatMs?: number;
  /**
   * Maximum lifetime of one subscriber stream in ms (0 = unlimited); each stream gets up to
   * `lifetimeJitter` (fraction) less so that reconnects after a deploy spread out.
   */
  maxStreamLifetimeMs?: number;
  lifetimeJitter?: number;
  /** Bytes that may wait for one slow subscriber before it is cut off. */
  maxQueueBytes?: number;
  /** Largest accepted publish body, in bytes. */
  maxBodyBytes?: number;
  /** Most topic selectors in one subscription / topics in one update. */
  maxTopicsPerRequest?: number;
  /** Most updates replayed to one subscriber on resume. */
  maxReplay?: number;
  /** `retry:` sent to new subscribers, in ms (0 = do not send). */
  retryMs?: number;
  /** Where structured logs go; default a pino logger at `info`. */
  logger?: Logger;
}
