import { type ErrorCode, errorTable, SseHubError } from '../../errors.js';
import type { FeedGap, Update } from '../types.js';

/**
 * Marks the IPC transport's messages. Cluster workers share their IPC channel with Node's own
 * cluster messages and with prom-client's metrics aggregation, so every message carries this tag
 * and anything without it is left alone.
 */
export const IPC_TAG = 'ssehub:ipc';

/** The requests a client sends to the host; each is answered by one {@link ResponseMessage}. */
export type RequestOp =
  | 'publish'
  | 'replay'
  | 'read'
  | 'bounds'
  | 'positionOf'
  | 'lastId'
  | 'health'
  | 'addPresence'
  | 'removePresence'
  | 'listPresence'
  | 'getPresence'
  /** An operation the host's owner registered (see `IpcHostOptions.extensions`). */
  | 'extension';

/** Client → host: one call. Arguments are plain data (JSON and structured-clone friendly). */
export interface RequestMessage {
  tag: typeof IPC_TAG;
  kind: 'request';
  id: number;
  op: RequestOp;
  args: unknown[];
}

/** Client → host: the client closed; stop relaying to it and drop its presence entries. */
export interface CloseMessage {
  tag: typeof IPC_TAG;
  kind: 'close';
}

/** Host → client: the answer to request `id`, a value or an error from the table. */
export type ResponseMessage =
  | { tag: typeof IPC_TAG; kind: 'response'; id: number; ok: true; value?: unknown }
  | { tag: typeof IPC_TAG; kind: 'response'; id: number; ok: false; code: string; detail?: string };

/** Host → client: one stored update of the live feed, with its position in the host's store. */
export interface UpdateMessage {
  tag: typeof IPC_TAG;
  kind: 'update';
  position: number;
  update: Update;
}

/** Host → client: the feed skipped updates (see `FeedGap`). */
export interface GapMessage {
  tag: typeof IPC_TAG;
  kind: 'gap';
  gap: FeedGap;
}

export type IpcMessage =
  | RequestMessage
  | CloseMessage
  | ResponseMessage
  | UpdateMessage
  | GapMessage;

/** True when `value` is one of our messages (and not a cluster or prom-client one). */
export function isIpcMessage(value: unknown): value is IpcMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { tag?: unknown }).tag === IPC_TAG &&
    typeof (value as { kind?: unknown }).kind === 'string'
  );
}

/** The error answer for `err`: its code when it is ours, TRANSPORT_FAILURE otherwise. */
export function errorResponse(id: number, err: unknown): ResponseMessage {
  if (err instanceof SseHubError) {
    const message: ResponseMessage = {
      tag: IPC_TAG,
      kind: 'response',
      id,
      ok: false,
      code: err.code,
    };
    if (err.detail !== undefined) message.detail = err.detail;
    return message;
  }
  // A store's own exception (an I/O error) is not for the worker to interpret; its text is.
  const detail = err instanceof Error ? err.message : String(err);
  return { tag: IPC_TAG, kind: 'response', id, ok: false, code: 'TRANSPORT_FAILURE', detail };
}

/** Rebuilds the error an error response carries; an unknown code becomes TRANSPORT_FAILURE. */
export function responseError(code: string, detail: string | undefined): SseHubError {
  const known = Object.hasOwn(errorTable, code) ? (code as ErrorCode) : 'TRANSPORT_FAILURE';
  return new SseHubError(known, detail);
}

/**
 * A rough size of an update on the channel, for back-pressure accounting: the strings dominate,
 * and an estimate that is off by the envelope's few dozen bytes is good enough for a high-water
 * mark.
 */
export function updateSize(update: Update): number {
  let size = 64 + update.id.length + update.data.length + (update.type?.length ?? 0);
  for (const topic of update.topics) size += topic.length + 3;
  return size;
}
