// better-sse (https://github.com/MatthewWid/better-sse) as a peer: one channel per topic,
// keep-alive pings off, data written as given (no JSON quoting).
// GET /?topic=… subscribes; POST / with a form body topic=…&data=… publishes.
//   node bench/peers/servers/better-sse.mjs <port>
import { createServer } from 'node:http';
import { createChannel, createSession } from 'better-sse';

const port = Number(process.argv[2]);
const channels = new Map();
const channel = (topic) => {
  let c = channels.get(topic);
  if (!c) {
    c = createChannel();
    channels.set(topic, c);
  }
  return c;
};
const serializer = (data) => String(data);
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET') {
    const topic = url.searchParams.get('topic') ?? '';
    createSession(req, res, { keepAlive: null, serializer }).then(
      (session) => channel(topic).register(session),
      () => res.destroy(),
    );
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    const form = new URLSearchParams(body);
    channels.get(form.get('topic') ?? '')?.broadcast(form.get('data') ?? '');
    res.end('ok');
  });
});
server.maxConnections = 30_000;
server.listen(port, '127.0.0.1', 4096);
process.on('SIGTERM', () => process.exit(0));
