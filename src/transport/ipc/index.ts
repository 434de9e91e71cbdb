export {
  DEFAULT_LOW_WATER_BYTES,
  type IpcChannel,
  type ProcessEndpoint,
  portChannel,
  processChannel,
} from './channel.js';
export {
  createIpcClient,
  DEFAULT_IPC_REQUEST_TIMEOUT_MS,
  type IpcClientOptions,
  IpcClientTransport,
} from './client.js';
export { createIpcHost, type IpcConnection, IpcHost, type IpcHostOptions } from './host.js';
export { IPC_TAG, type IpcMessage, isIpcMessage } from './messages.js';
export { CATCH_UP_PAGE, DEFAULT_HIGH_WATER_BYTES, FeedRelay } from './relay.js';
