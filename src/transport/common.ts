import { SseHubError } from '../errors.js';
import type { ReplayOptions, Update } from './types.js';

/** How much history a transport keeps. Shared by every built-in transport. */
export interface RetentionOptions {
  /**
   * Keep at most this many updates (a non-negative integer, or `Infinity` for no count bound).
   * Each transport picks its own default, documented on its options.
   */
  maxHistory?: number;
  /**
   * Drop updates older than this many milliseconds. `undefined` (the default) means no age bound:
   * the count bound already caps the size, and how long history stays useful is the operator's
   * policy, not something a default can know. Updates leave from the oldest end only, so a clock
   * step backwards can keep a few expired updates a little longer, never drop a fresh one early.
   */
  maxHistoryAgeMs?: number;
  /** The clock for `maxHistoryAgeMs`, in ms since the epoch; tests pass a fake one. */
  now?: () => number;
}

export interface ResolvedRetention {
  maxHistory: number;
  /** `Infinity` when there is no age bound. */
  maxHistoryAgeMs: number;
  now: () => number;
}

export function resolveRetention(
  options: RetentionOptions,
  defaultMaxHistory: number,
): ResolvedRetention {
  const maxHistory = options.maxHistory ?? defaultMaxHistory;
  if (
    !(maxHistory === Number.POSITIVE_INFINITY || (Number.isInteger(maxHistory) && maxHistory >= 0))
  ) {
    throw new SseHubError(
      'INVALID_OPTION',
      `maxHistory must be an integer >= 0, got ${maxHistory}`,
    );
  }
  const maxHistoryAgeMs = options.maxHistoryAgeMs ?? Number.POSITIVE_INFINITY;
  if (!(typeof maxHistoryAgeMs === 'number' && maxHistoryAgeMs > 0)) {
    throw new SseHubError(
      'INVALID_OPTION',
      `maxHistoryAgeMs must be a number > 0, got ${maxHistoryAgeMs}`,
    );
  }
  return { maxHistory, maxHistoryAgeMs, now: options.now ?? Date.now };
}

/** Returns the limit to apply (`Infinity` for none) after checking it. */
export function replayLimit(options: ReplayOptions | undefined): number {
  const limit = options?.limit ?? Number.POSITIVE_INFINITY;
  if (!(limit === Number.POSITIVE_INFINITY || (Number.isInteger(limit) && limit >= 0))) {
    throw new SseHubError('INVALID_OPTION', `replay limit must be an integer >= 0, got ${limit}`);
  }
  return limit;
}

/**
 * A frozen copy of an update. History must not change when a publisher later mutates the object
 * it passed in, and every listener receives the same object, so none may change it for the others.
 * Absent optional fields stay absent (no `type: undefined` keys), so copies compare deep-equal.
 */
export function freezeUpdate(update: Update): Update {
  const copy: Update = {
    id: update.id,
    topics: Object.freeze([...update.topics]) as string[],
    data: update.data,
    private: update.private,
  };
  if (update.type !== undefined) copy.type = update.type;
  if (update.retry !== undefined) copy.retry = update.retry;
  return Object.freeze(copy);
}

/** Default `onError`: a listener's exception is a bug worth seeing, but not worth a crash. */
export function warnListenerError(err: unknown): void {
  process.emitWarning(err instanceof Error ? err : new Error(String(err)), {
    type: 'SseHubTransportListenerError',
  });
}
