// The raw node:http broadcaster, the baseline of the benchmarks: encode once, `res.write` to every
// subscriber of the topic. GET /?topic=… subscribes; POST / with a form body topic=…&data=…
// publishes. Plain JS, so the measured process runs no loader.
import { createServer } from 'node:http';

/** A node:http server that broadcasts each POSTed update to the GET streams of its topic. */
export function rawBroadcaster() {
  const byTopic = new Map();
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET') {
      const topic = url.searchParams.get('topic') ?? '';
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(':\n\n');
      let set = byTopic.get(topic);
      if (!set) {
        set = new Set();
        byTopic.set(topic, set);
      }
      set.add(res);
      res.on('close', () => set.delete(res));
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const topic = form.get('topic') ?? '';
      const frame = `id: ${Date.now()}\ndata: ${form.get('data') ?? ''}\n\n`;
      for (const r of byTopic.get(topic) ?? []) r.write(frame);
      res.end('ok');
    });
  });
}
