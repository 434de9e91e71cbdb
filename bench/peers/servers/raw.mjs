// The raw broadcaster as a peer of `npm run bench`:  node bench/peers/servers/raw.mjs <port>
import { rawBroadcaster } from './raw-broadcaster.mjs';

const port = Number(process.argv[2]);
const server = rawBroadcaster();
server.maxConnections = 30_000;
server.listen(port, '127.0.0.1', 4096);
process.on('SIGTERM', () => process.exit(0));
