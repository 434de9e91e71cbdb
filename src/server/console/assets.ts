import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** The files `npm run build` writes to `dist/console/`, by the name they are served under. */
const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.js.map': 'application/json; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

interface Asset {
  readonly body: Buffer;
  readonly etag: string;
  readonly type: string;
}

/**
 * The console's static files, read from `dir` once each (a missing one is looked for again on
 * the next request: a build may add it). Answers with an ETag and `no-cache` (names carry no
 * hash: a browser revalidates, and a 304 costs a few bytes).
 */
export class ConsoleAssets {
  readonly #dir: string;
  readonly #cache = new Map<string, Promise<Asset | undefined>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** True when `name` is one of the console's files. */
  has(name: string): boolean {
    return Object.hasOwn(ASSETS, name);
  }

  async serve(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = ASSETS[name];
    if (type === undefined) return;
    let pending = this.#cache.get(name);
    if (pending === undefined) {
      pending = readFile(join(this.#dir, name)).then(
        (body) => ({
          body,
          type,
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        }),
        () => undefined,
      );
      this.#cache.set(name, pending);
    }
    const asset = await pending;
    if (asset === undefined) {
      this.#cache.delete(name);
      const body = 'The console is not built; run `npm run build`.\n';
      res.writeHead(404, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    const headers = { etag: asset.etag, 'cache-control': 'no-cache' };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, {
      ...headers,
      'content-type': asset.type,
      'content-length': asset.body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }
}
