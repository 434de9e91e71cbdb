import type { IncomingMessage } from 'node:http';
import type { VerifiedTokenCache } from '../auth/index.js';
import type {
  DeadlineTimer,
  HistoryPages,
  HubCore,
  SubscriptionRegistry,
  ValidUpdate,
} from '../core/index.js';
import type { ResolvedHubOptions } from '../options.js';
import type { MatcherCache } from '../selectors/index.js';
import type { ClientLimits } from './client-limits.js';

/** How an update reached the hub, for the publish log line. */
export type PublishVia = 'http' | 'api';

/** What the HTTP handlers share: the resolved options and the hub's running parts. */
export interface HubContext {
  readonly options: ResolvedHubOptions;
  readonly core: HubCore;
  /** History pages shared by every replay. */
  readonly history: HistoryPages;
  readonly matchers: MatcherCache;
  /** Token expiry and stream lifetime, one timer for all. */
  readonly deadlines: DeadlineTimer;
  /** Claims of recently verified tokens. */
  readonly tokens: VerifiedTokenCache;
  /** Open streams per client, subscribe and publish rates (`maxStreamsPerClient`…). */
  readonly limits: ClientLimits;
  /** The client's address: the peer's, or the one a trusted proxy forwarded (`trustedProxies`). */
  clientAddress(req: IncomingMessage): string;
  /** Present when the `subscriptions` option is on. */
  readonly registry: SubscriptionRegistry | undefined;
  /** False once shutdown began. */
  readonly accepting: boolean;
  /** Assigns an id if needed, stores and fans out the update, logs it; resolves with the id. */
  publish(update: ValidUpdate, via: PublishVia): Promise<string>;
}
