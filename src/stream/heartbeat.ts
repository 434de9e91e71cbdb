/**
 * One timer for every heartbeat: a sweep over all registered streams, ticking at a quarter of the
 * shortest interval in use. A stream that wrote since the last sweep is skipped, so a busy stream
 * never gets a heartbeat; an idle one gets its comment between `ms` and 1.5 × `ms` after its last
 * write. The timer is unref'd and exists only while at least one stream is registered.
 */

/** A registered stream, as the sweep sees it. One per stream, allocated once. */
export interface HeartbeatMember {
  /** Interval, in ms. */
  readonly ms: number;
  /** Set by the stream on every write; cleared by the sweep. Cheaper than reading a clock. */
  wrote: boolean;
  /** When the sweep last saw the stream write (or register), in ms. */
  idleSince: number;
  /** Sends the heartbeat comment. */
  readonly beat: () => void;
}

// Ticking faster than this wastes CPU for no observable gain.
const MIN_TICK_MS = 5;

function tickFor(ms: number): number {
  return Math.max(MIN_TICK_MS, Math.floor(ms / 4));
}

class HeartbeatSweep {
  readonly #members = new Set<HeartbeatMember>();
  #timer: NodeJS.Timeout | undefined;
  #tickMs = 0;

  /** Streams currently registered. */
  get size(): number {
    return this.#members.size;
  }

  /** True while the shared timer exists. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  add(member: HeartbeatMember): void {
    member.wrote = false;
    member.idleSince = performance.now();
    this.#members.add(member);
    const tick = tickFor(member.ms);
    if (this.#timer === undefined || tick < this.#tickMs) this.#start(tick);
  }

  delete(member: HeartbeatMember): void {
    if (this.#members.delete(member) && this.#members.size === 0) this.#stop();
  }

  #start(tick: number): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#tickMs = tick;
    this.#timer = setInterval(this.#sweep, tick);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#tickMs = 0;
  }

  // An arrow property: the timer holds this one function for the life of the module.
  readonly #sweep = (): void => {
    const now = performance.now();
    let shortest = Number.POSITIVE_INFINITY;
    for (const member of this.#members) {
      if (member.wrote) {
        member.wrote = false;
        member.idleSince = now;
      } else if (now - member.idleSince >= member.ms) {
        member.beat();
        member.wrote = false;
        member.idleSince = now;
      }
      if (member.ms < shortest) shortest = member.ms;
    }
    // The stream with the shortest interval may have left: slow down to what is still needed.
    if (this.#members.size > 0 && tickFor(shortest) !== this.#tickMs)
      this.#start(tickFor(shortest));
  };
}

/** The process-wide heartbeat sweep shared by every event stream. */
export const heartbeats = new HeartbeatSweep();
