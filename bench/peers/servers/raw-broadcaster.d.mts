import type { Server } from 'node:http';

/** A node:http server that broadcasts each POSTed update to the GET streams of its topic. */
export function rawBroadcaster(): Server;
