import type { Transport, Update } from '../../transport/types.js';
import { type HistoryEntry, HistoryGapError, type HistoryPages } from './history-pages.js';

/**
 * Plans made again when the store trimmed the range while it was counted: the next plan starts
 * from what is retained then (and answers "earliest" if the requested id is gone).
 */
const PLAN_ATTEMPTS = 3;

/** The reserved last event id that asks for all retained history. */
export const EARLIEST = 'earliest';

/**
 * What a resuming subscriber gets: the updates it accepts with `after < position <= until`, read
 * page by page while they are sent. `until` is the newest position when the plan was made; live
 * updates up to it are the history's to send, later ones go out live.
 */
export interface HistoryPlan {
  after: number;
  until: number;
  /**
   * The `Last-Event-ID` / `Mercure-Last-Event-ID` response header: the id of the event before the
   * first one sent, or `earliest` when that is not known (history empty, `earliest` asked for, or
   * the requested id unknown). A value other than the requested id tells the client that events
   * may have been lost.
   */
  lastEventId: string;
}

/**
 * Plans the replay a subscriber asked for with `lastEventId`, at most `maxReplay` of the updates
 * `accepts` keeps. When more than that follow the id, the oldest are dropped and the header names
 * the newest dropped one, so the client knows where its history begins. Reads nothing but the
 * history's bounds, unless the range holds more updates than `maxReplay`: then one counting pass
 * over it, page by page, finds where the replay must start.
 */
export async function planHistory(
  transport: Transport,
  pages: HistoryPages,
  accepts: (update: Update) => boolean,
  lastEventId: string,
  maxReplay: number,
): Promise<HistoryPlan> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await planOnce(transport, pages, accepts, lastEventId, maxReplay);
    } catch (err) {
      if (!(err instanceof HistoryGapError) || attempt === PLAN_ATTEMPTS) throw err;
    }
  }
}

async function planOnce(
  transport: Transport,
  pages: HistoryPages,
  accepts: (update: Update) => boolean,
  lastEventId: string,
  maxReplay: number,
): Promise<HistoryPlan> {
  const position = lastEventId === EARLIEST ? undefined : await transport.positionOf(lastEventId);
  const { oldest, newest, epoch } = await transport.bounds();
  pages.useEpoch(epoch);
  const after = position ?? oldest - 1;
  const plan: HistoryPlan = {
    after,
    until: newest,
    lastEventId: position === undefined ? EARLIEST : lastEventId,
  };
  // Positions may have gaps, so the difference is an upper bound of the updates in the range.
  if (newest - after <= maxReplay) return plan;

  // The newest maxReplay + 1 accepted updates, in a ring: its oldest is the last one dropped.
  const ring = maxReplay + 1;
  const positions = new Float64Array(ring);
  const ids: string[] = new Array(ring);
  let count = 0;
  const lossy = { trimmedStartIsLoss: position !== undefined };
  for await (const page of pages.range(after, newest, lossy)) {
    for (const entry of page) {
      if (!accepts(entry.update)) continue;
      positions[count % ring] = entry.position;
      ids[count % ring] = entry.update.id;
      count++;
    }
  }
  if (count <= maxReplay) return plan;
  const dropped = count % ring;
  return { after: positions[dropped]!, until: newest, lastEventId: ids[dropped]! };
}

/** The history a subscriber replays: its plan, and the pages to read it from. */
export interface HistoryReplay {
  readonly plan: HistoryPlan;
  /** Pages of entries in the plan's range, oldest first (not yet filtered for the subscriber). */
  pages(): AsyncIterable<readonly HistoryEntry[]>;
  /** The frame of an entry, shared by every replay that reads it. */
  frame(entry: HistoryEntry): Buffer;
  /** A promise to wait on when the loop slice is used up (see LoopSlicer), else undefined. */
  breather(): Promise<void> | undefined;
}

/** The replay of `plan` from the hub's shared history pages. */
export function pagedReplay(pages: HistoryPages, plan: HistoryPlan): HistoryReplay {
  return {
    plan,
    pages: () =>
      pages.range(plan.after, plan.until, {
        // "Everything retained" may lose its oldest updates to trimming before they are read.
        trimmedStartIsLoss: plan.lastEventId !== EARLIEST,
      }),
    frame: (entry) => pages.frame(entry),
    breather: () => pages.breather(),
  };
}
