// Serves a fetch-style handler (web Request in, Response out) over node:http, the way fetch-style
// frameworks' Node bindings do: the request's signal aborts when the client leaves, and the
// Response body is piped to the socket with back-pressure (leaving cancels the body).
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export function createFetchServer(handler: FetchHandler): http.Server {
  return http.createServer(async (req, res) => {
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
      else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    }
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      signal: controller.signal,
    });
    const response = await handler(request);
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      out[name] = value;
    });
    res.writeHead(response.status, out);
    if (response.body === null) {
      res.end();
      return;
    }
    const body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
    // A client that leaves makes the pipeline fail; that is the normal end of an event stream.
    await pipeline(body, res).catch(() => {});
  });
}
