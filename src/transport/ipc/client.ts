import { SseHubError } from '../../errors.js';
import { freezeUpdate, replayLimit, warnListenerError } from '../common.js';
import { Fanout } from '../fanout.js';
import type {
  FeedGap,
  GapListener,
  HealthReport,
  HistoryBounds,
  Presence,
  PresenceEntry,
  ReplayOptions,
  ReplayResult,
  StoredUpdate,
  Transport,
  TransportHealth,
  Update,
  UpdateListener,
} from '../types.js';
import type { IpcChannel } from './channel.js';
import { IPC_TAG, isIpcMessage, type RequestOp, responseError, updateSize } from './messages.js';

/**
 * Default bound on one request to the primary. Long enough for a SQLite write behind a busy
 * primary, short enough that a publisher gets its 503 well before its own HTTP timeout when the
 * primary hangs.
 */
export const DEFAULT_IPC_REQUEST_TIMEOUT_MS = 5_000;

export interface IpcClientOptions {
  /** See {@link DEFAULT_IPC_REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
  /** Receives what a listener threw. Default: `process.emitWarning`. */
  onError?: (err: unknown) => void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

/**
 * The worker's side of the IPC transport: a `Transport` whose store is the primary's. Every call
 * is a request answered by the host (bounded by a timeout: TRANSPORT_FAILURE when the primary does
 * not answer), and the live feed is the host's, so positions, epoch and order are the primary
 * store's. A publish resolves once the primary stored the update; its live copy reaches this
 * worker before the answer does (both travel the same ordered channel).
 */
export class IpcClientTransport implements Transport, TransportHealth, Presence {
  readonly #channel: IpcChannel;
  readonly #timeoutMs: number;
  readonly #fanout: Fanout;
  readonly #gapListeners = new Set<GapListener>();
  readonly #pending = new Map<number, Pending>();
  readonly #off: (() => void)[];
  #nextId = 1;
  #closed = false;
  /** Set when the channel closed under us: the primary is gone. */
  #lost = false;

  constructor(channel: IpcChannel, options: IpcClientOptions = {}) {
    const timeoutMs = options.requestTimeoutMs ?? DEFAULT_IPC_REQUEST_TIMEOUT_MS;
    if (!(Number.isSafeInteger(timeoutMs) && timeoutMs > 0)) {
      throw new SseHubError('INVALID_OPTION', 'requestTimeoutMs must be an integer > 0');
    }
    this.#channel = channel;
    this.#timeoutMs = timeoutMs;
    this.#fanout = new Fanout(options.onError ?? warnListenerError);
    this.#off = [
      channel.onMessage((message) => this.#receive(message)),
      channel.onClose(() => this.#channelClosed()),
    ];
  }

  async publish(update: Update): Promise<void> {
    // Copied here so that a publisher mutating its object before the message leaves changes
    // nothing (a MessagePort clones at once, process IPC serialises at once: belt and braces).
    await this.#request('publish', [freezeUpdate(update)], updateSize(update));
  }

  subscribe(listener: UpdateListener, onGap?: GapListener): () => void {
    if (this.#closed) return () => {};
    const off = this.#fanout.subscribe(listener);
    if (!onGap) return off;
    // A distinct wrapper per subscription, so the same function subscribed twice is two entries.
    const entry: GapListener = (gap) => onGap(gap);
    this.#gapListeners.add(entry);
    return () => {
      off();
      this.#gapListeners.delete(entry);
    };
  }

  async replay(afterId: string, options?: ReplayOptions): Promise<ReplayResult> {
    const limit = replayLimit(options);
    const filter = options?.filter;
    if (!filter) {
      const wire = limit === Number.POSITIVE_INFINITY ? null : limit;
      return (await this.#request('replay', [afterId, wire])) as ReplayResult;
    }
    // The filter stays here: everything after the id crosses the channel, then filter and limit
    // apply in that order, as the contract says. The hub pages history with read() instead, so
    // this costs only callers of replay() with a filter.
    const all = (await this.#request('replay', [afterId, null])) as ReplayResult;
    const kept = all.updates.filter(filter);
    return {
      found: all.found,
      updates: limit >= kept.length ? kept : kept.slice(kept.length - limit),
    };
  }

  async positionOf(id: string): Promise<number | undefined> {
    return (await this.#request('positionOf', [id])) as number | undefined;
  }

  async bounds(): Promise<HistoryBounds> {
    return (await this.#request('bounds', [])) as HistoryBounds;
  }

  async read(after: number, until: number, limit: number): Promise<StoredUpdate[]> {
    return (await this.#request('read', [after, until, limit])) as StoredUpdate[];
  }

  async lastId(): Promise<string | undefined> {
    return (await this.#request('lastId', [])) as string | undefined;
  }

  /** Whether the primary answers and its store is usable. Never rejects. */
  async health(): Promise<HealthReport> {
    try {
      return (await this.#request('health', [])) as HealthReport;
    } catch (err) {
      const reason =
        err instanceof SseHubError && err.code === 'TRANSPORT_CLOSED'
          ? 'transport closed'
          : 'primary process not answering';
      return { ok: false, reason };
    }
  }

  async addPresence(entries: readonly PresenceEntry[]): Promise<void> {
    await this.#request('addPresence', [entries]);
  }

  async removePresence(keys: readonly string[]): Promise<void> {
    await this.#request('removePresence', [keys]);
  }

  async listPresence(group?: string): Promise<PresenceEntry[]> {
    return (await this.#request('listPresence', [group ?? null])) as PresenceEntry[];
  }

  async getPresence(key: string): Promise<PresenceEntry | undefined> {
    return (await this.#request('getPresence', [key])) as PresenceEntry | undefined;
  }

  /** Calls a request the host's owner registered (`IpcHostOptions.extensions`). */
  extension(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#request('extension', [name, ...args]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Tells the host to stop relaying and drop this worker's presence; the channel itself stays
    // (in a worker it is the process's IPC, which cluster needs until the process exits).
    this.#channel.send({ tag: IPC_TAG, kind: 'close' });
    for (const off of this.#off) off();
    this.#fanout.close();
    this.#gapListeners.clear();
    this.#failPending(new SseHubError('TRANSPORT_CLOSED'));
  }

  #request(op: RequestOp, args: unknown[], sizeHint?: number): Promise<unknown> {
    if (this.#closed) return Promise.reject(new SseHubError('TRANSPORT_CLOSED'));
    if (this.#lost || !this.#channel.open) {
      return Promise.reject(new SseHubError('TRANSPORT_FAILURE', 'the primary process is gone'));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new SseHubError(
            'TRANSPORT_FAILURE',
            `the primary process did not answer ${op} within ${this.#timeoutMs} ms`,
          ),
        );
      }, this.#timeoutMs);
      // A pending request must not keep a worker alive that is otherwise done.
      timer.unref();
      this.#pending.set(id, { resolve, reject, timer });
      if (!this.#channel.send({ tag: IPC_TAG, kind: 'request', id, op, args }, sizeHint)) {
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(new SseHubError('TRANSPORT_FAILURE', 'the primary process is gone'));
      }
    });
  }

  #receive(message: unknown): void {
    if (!isIpcMessage(message) || this.#closed) return;
    switch (message.kind) {
      case 'update':
        this.#fanout.emit(freezeUpdate(message.update), message.position);
        return;
      case 'gap':
        this.#emitGap(message.gap);
        return;
      case 'response': {
        const pending = this.#pending.get(message.id);
        if (!pending) return; // timed out already
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.ok) pending.resolve(message.value);
        else pending.reject(responseError(message.code, message.detail));
        return;
      }
      default:
        return;
    }
  }

  #emitGap(gap: FeedGap): void {
    for (const listener of [...this.#gapListeners]) {
      try {
        listener(gap);
      } catch (err) {
        warnListenerError(err);
      }
    }
  }

  #channelClosed(): void {
    this.#lost = true;
    this.#failPending(new SseHubError('TRANSPORT_FAILURE', 'the primary process is gone'));
  }

  #failPending(err: SseHubError): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
    this.#pending.clear();
  }
}

/** Creates the worker's transport over `channel` (see {@link IpcClientTransport}). */
export function createIpcClient(
  channel: IpcChannel,
  options: IpcClientOptions = {},
): IpcClientTransport {
  return new IpcClientTransport(channel, options);
}
