import { SseHubError } from '../../errors.js';
import { hasHealth } from '../capabilities.js';
import type { FeedGap, HealthReport, PresenceEntry, Transport, Update } from '../types.js';
import type { IpcChannel } from './channel.js';
import {
  errorResponse,
  IPC_TAG,
  isIpcMessage,
  type RequestMessage,
  type ResponseMessage,
} from './messages.js';
import { FeedRelay } from './relay.js';

export interface IpcHostOptions {
  /** Above this many pending bytes on a worker's channel its feed is read from the store instead. */
  highWaterBytes?: number;
  /** Receives errors of the relay (a store read that failed while a worker caught up). */
  onError?: (err: unknown) => void;
  /**
   * Requests beyond the transport that the host's owner answers (the cluster primary: readiness of
   * every worker, aggregated metrics). A client calls them with `IpcClientTransport.extension`.
   */
  extensions?: Record<string, (...args: unknown[]) => Promise<unknown>>;
}

/** One worker attached to the host. */
export interface IpcConnection {
  /** Stops the live feed to this worker until the returned function is called (see FeedRelay). */
  pause(): () => void;
  /** True while this worker's feed is read from the store because it fell behind. */
  readonly lagging: boolean;
  /** Forgets the worker: no more feed, its presence entries are dropped. */
  detach(): void;
}

/**
 * The primary's side of the IPC transport. It owns the real store (memory or SQLite) and with it
 * the one total order; every worker's calls arrive here over its channel, and every stored update
 * goes to every worker with its position, through a {@link FeedRelay} each so that one slow worker
 * neither holds up the others nor grows the primary's memory. Presence is kept per worker, so the
 * entries of a worker that dies go with its channel.
 */
export class IpcHost {
  readonly #store: Transport;
  readonly #options: IpcHostOptions;
  readonly #connections = new Set<Connection>();
  #newest: number;
  #epoch: string;
  readonly #unsubscribe: () => void;
  #closed = false;

  /** Use {@link createIpcHost}: the host needs the store's bounds before it can relay. */
  constructor(
    store: Transport,
    bounds: { newest: number; epoch: string },
    options: IpcHostOptions,
  ) {
    this.#store = store;
    this.#options = options;
    this.#newest = bounds.newest;
    this.#epoch = bounds.epoch;
    this.#unsubscribe = store.subscribe(
      (update, position) => this.#stored(update, position),
      (gap) => this.#gap(gap),
    );
  }

  /** The store the host owns. */
  get store(): Transport {
    return this.#store;
  }

  /** Workers attached now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Serves one worker over `channel` until it closes or is detached. */
  attach(channel: IpcChannel): IpcConnection {
    const connection = new Connection(this, channel, {
      store: this.#store,
      channel,
      newest: () => this.#newest,
      epoch: () => this.#epoch,
      onError: this.#options.onError ?? (() => {}),
      ...(this.#options.highWaterBytes !== undefined
        ? { highWaterBytes: this.#options.highWaterBytes }
        : {}),
    });
    this.#connections.add(connection);
    return connection;
  }

  /** Detaches every worker and closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    for (const connection of [...this.#connections]) connection.detach();
    await this.#store.close();
  }

  /** @internal */
  forget(connection: Connection): void {
    this.#connections.delete(connection);
  }

  /** @internal Every worker's presence entries, or one group's. */
  listPresence(group: string | undefined): PresenceEntry[] {
    const out: PresenceEntry[] = [];
    for (const connection of this.#connections) {
      for (const entry of connection.presence.values()) {
        if (group === undefined || entry.group === group) out.push(entry);
      }
    }
    return out;
  }

  /** @internal */
  getPresence(key: string): PresenceEntry | undefined {
    for (const connection of this.#connections) {
      const entry = connection.presence.get(key);
      if (entry) return entry;
    }
    return undefined;
  }

  /** @internal */
  async health(): Promise<HealthReport> {
    if (this.#closed) return { ok: false, reason: 'primary shutting down' };
    if (hasHealth(this.#store)) return this.#store.health();
    await this.#store.lastId();
    return { ok: true };
  }

  /** @internal */
  extension(name: string): ((...args: unknown[]) => Promise<unknown>) | undefined {
    const extensions = this.#options.extensions;
    return extensions && Object.hasOwn(extensions, name) ? extensions[name] : undefined;
  }

  #stored(update: Update, position: number): void {
    this.#newest = position;
    for (const connection of this.#connections) connection.relay.push(update, position);
  }

  #gap(gap: FeedGap): void {
    this.#epoch = gap.epoch;
    this.#newest = Math.max(this.#newest, gap.resumeAfter);
    for (const connection of this.#connections) connection.relay.gap(gap);
  }
}

/** Creates a host over `store`, which it owns from now on (its `close()` closes the store). */
export async function createIpcHost(
  store: Transport,
  options: IpcHostOptions = {},
): Promise<IpcHost> {
  const { newest, epoch } = await store.bounds();
  return new IpcHost(store, { newest, epoch }, options);
}

class Connection implements IpcConnection {
  readonly relay: FeedRelay;
  readonly presence = new Map<string, PresenceEntry>();
  readonly #host: IpcHost;
  readonly #channel: IpcChannel;
  readonly #off: (() => void)[];
  #detached = false;

  constructor(
    host: IpcHost,
    channel: IpcChannel,
    relay: ConstructorParameters<typeof FeedRelay>[0],
  ) {
    this.#host = host;
    this.#channel = channel;
    this.relay = new FeedRelay(relay);
    this.#off = [
      channel.onMessage((message) => this.#receive(message)),
      channel.onClose(() => this.detach()),
    ];
  }

  get lagging(): boolean {
    return this.relay.lagging;
  }

  pause(): () => void {
    return this.relay.pause();
  }

  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    for (const off of this.#off) off();
    this.relay.close();
    this.presence.clear();
    this.#host.forget(this);
  }

  #receive(message: unknown): void {
    if (!isIpcMessage(message) || this.#detached) return;
    if (message.kind === 'close') {
      this.detach();
      return;
    }
    if (message.kind !== 'request') return;
    this.#answer(message).then(
      (value) => this.#reply({ tag: IPC_TAG, kind: 'response', id: message.id, ok: true, value }),
      (err: unknown) => this.#reply(errorResponse(message.id, err)),
    );
  }

  #reply(response: ResponseMessage): void {
    if (this.#detached) return;
    // JSON drops an undefined value's key; the client reads a missing value as undefined.
    if (response.ok && response.value === undefined) delete response.value;
    this.#channel.send(response);
  }

  // Requests are started in the order they arrive, so one worker's concurrent publishes are
  // stored in the order it sent them; the store keeps the order of calls.
  async #answer(request: RequestMessage): Promise<unknown> {
    const store = this.#host.store;
    const args = request.args;
    switch (request.op) {
      case 'publish':
        return store.publish(args[0] as Update);
      case 'replay': {
        // A filter is a function and cannot cross the channel: the client applies it (and the
        // limit after it); only a plain limit is applied here.
        const limit = args[1] as number | null;
        return store.replay(args[0] as string, limit === null ? undefined : { limit });
      }
      case 'read':
        return store.read(args[0] as number, args[1] as number, args[2] as number);
      case 'bounds':
        return store.bounds();
      case 'positionOf':
        return store.positionOf(args[0] as string);
      case 'lastId':
        return store.lastId();
      case 'health':
        return this.#host.health();
      case 'addPresence':
        for (const entry of args[0] as PresenceEntry[]) this.presence.set(entry.key, entry);
        return undefined;
      case 'removePresence':
        for (const key of args[0] as string[]) this.presence.delete(key);
        return undefined;
      case 'listPresence':
        return this.#host.listPresence(typeof args[0] === 'string' ? args[0] : undefined);
      case 'getPresence':
        return this.#host.getPresence(args[0] as string);
      case 'extension': {
        const handler = this.#host.extension(String(args[0]));
        if (!handler)
          throw new SseHubError('TRANSPORT_FAILURE', `unknown request ${String(args[0])}`);
        return handler(...args.slice(1));
      }
      default:
        throw new SseHubError('TRANSPORT_FAILURE', `unknown request ${String(request.op)}`);
    }
  }
}
