import type { Serializable } from 'node:child_process';
import type { MessagePort } from 'node:worker_threads';
import type { IpcMessage } from './messages.js';

/**
 * One end of a message channel between the primary and a worker. The IPC transport only needs to
 * send a message, receive messages, know when the other end is gone, and — for back-pressure —
 * how much it sent that has not left the process yet. Production runs over `node:cluster`
 * worker IPC ({@link processChannel}); tests also use a `MessageChannel` ({@link portChannel}).
 */
export interface IpcChannel {
  /**
   * Sends one message. `sizeHint` (bytes, estimated) counts towards {@link pendingBytes} until the
   * message has left. Returns false when the channel is closed (the message is dropped).
   */
  send(message: IpcMessage, sizeHint?: number): boolean;
  /** Estimated bytes sent but not yet handed to the OS; 0 when the channel cannot tell. */
  readonly pendingBytes: number;
  /** True until the channel closed. */
  readonly open: boolean;
  /** Every message received, ours or not: receivers filter with `isIpcMessage`. */
  onMessage(listener: (message: unknown) => void): () => void;
  /** Called when {@link pendingBytes} fell back below `lowWater` after being above it. */
  onDrain(listener: () => void): () => void;
  /** Called once when the other end is gone (it exited or disconnected). */
  onClose(listener: () => void): () => void;
}

/** Below this many pending bytes a channel that was congested reports a drain. */
export const DEFAULT_LOW_WATER_BYTES = 1024 * 1024;

/** The subset of `ChildProcess` (primary side) and `process` (worker side) a channel uses. */
export interface ProcessEndpoint {
  send?: ((message: Serializable, callback: (error: Error | null) => void) => boolean) | undefined;
  readonly connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'disconnect', listener: () => void): unknown;
}

/** Default weight of a message sent without a size hint (a request or a small answer). */
const DEFAULT_MESSAGE_SIZE = 256;

class Listeners<A extends unknown[]> {
  readonly #set = new Set<(...args: A) => void>();
  add(listener: (...args: A) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }
  emit(...args: A): void {
    for (const listener of [...this.#set]) listener(...args);
  }
  clear(): void {
    this.#set.clear();
  }
}

/**
 * A channel over Node's process IPC: a forked child (`ChildProcess`, also what a cluster
 * `Worker.process` is) seen from the primary, or `process` seen from the child. Node queues what
 * `send` cannot write at once and calls the callback once a message was written; the bytes of
 * messages whose callback has not run yet are {@link IpcChannel.pendingBytes}, which is how the
 * host notices a worker that does not read.
 */
export function processChannel(
  endpoint: ProcessEndpoint,
  options: { lowWaterBytes?: number } = {},
): IpcChannel {
  const lowWater = options.lowWaterBytes ?? DEFAULT_LOW_WATER_BYTES;
  const messages = new Listeners<[unknown]>();
  const drains = new Listeners<[]>();
  const closes = new Listeners<[]>();
  let pending = 0;
  let congested = false;
  let open = endpoint.connected !== false && typeof endpoint.send === 'function';
  const onMessage = (message: unknown) => messages.emit(message);
  const onDisconnect = () => {
    if (!open) return;
    open = false;
    endpoint.off('message', onMessage);
    endpoint.off('disconnect', onDisconnect);
    closes.emit();
    messages.clear();
    drains.clear();
    closes.clear();
  };
  endpoint.on('message', onMessage);
  endpoint.on('disconnect', onDisconnect);
  return {
    get pendingBytes() {
      return pending;
    },
    get open() {
      return open;
    },
    send(message, sizeHint = DEFAULT_MESSAGE_SIZE) {
      if (!open || !endpoint.send) return false;
      pending += sizeHint;
      if (pending > lowWater) congested = true;
      try {
        // The return value (false past Node's own backlog threshold) is not a refusal: the
        // message is queued all the same. Back-pressure works on pendingBytes instead.
        endpoint.send(message as unknown as Serializable, () => {
          pending -= sizeHint;
          if (congested && pending <= lowWater) {
            congested = false;
            drains.emit();
          }
        });
      } catch {
        // ERR_IPC_CHANNEL_CLOSED: the 'disconnect' event follows.
        pending -= sizeHint;
        return false;
      }
      return true;
    },
    onMessage: (listener) => messages.add(listener),
    onDrain: (listener) => drains.add(listener),
    onClose: (listener) => {
      if (!open) {
        queueMicrotask(listener);
        return () => {};
      }
      return closes.add(listener);
    },
  };
}

/**
 * A channel over a `MessagePort` (one end of a `MessageChannel`): same semantics within one
 * process, messages structured-cloned. A port cannot tell how much is queued, so pendingBytes is
 * always 0. Closing either port closes both ends.
 */
export function portChannel(port: MessagePort): IpcChannel {
  const messages = new Listeners<[unknown]>();
  const closes = new Listeners<[]>();
  let open = true;
  const onMessage = (message: unknown) => messages.emit(message);
  port.on('message', onMessage);
  port.once('close', () => {
    open = false;
    port.off('message', onMessage);
    closes.emit();
    messages.clear();
    closes.clear();
  });
  return {
    pendingBytes: 0,
    get open() {
      return open;
    },
    send(message) {
      if (!open) return false;
      port.postMessage(message);
      return true;
    },
    onMessage: (listener) => messages.add(listener),
    onDrain: () => () => {},
    onClose: (listener) => {
      if (!open) {
        queueMicrotask(listener);
        return () => {};
      }
      return closes.add(listener);
    },
  };
}
