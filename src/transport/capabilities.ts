import type { Presence, Transport, TransportHealth } from './types.js';

// Optional capabilities are detected by shape, as the Go Mercure hub does with its transport
// interfaces, so a transport opts in by implementing the methods and nothing else changes.

/** True when `transport` reports the health of its store. */
export function hasHealth(transport: Transport): transport is Transport & TransportHealth {
  return typeof (transport as Partial<TransportHealth>).health === 'function';
}

/** True when `transport` shares presence across nodes. */
export function hasPresence(transport: Transport): transport is Transport & Presence {
  const t = transport as Partial<Presence>;
  return (
    typeof t.addPresence === 'function' &&
    typeof t.removePresence === 'function' &&
    typeof t.listPresence === 'function' &&
    typeof t.getPresence === 'function'
  );
}
