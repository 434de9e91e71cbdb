import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, describe, it } from 'node:test';
import { createEventStream } from '../../src/stream/index.js';
import type { CloseReason } from '../../src/stream/types.js';
import { listen, openSse } from '../helpers/sse-client.js';

describe('onClose listeners', () => {
  it('a throwing listener neither crashes the process nor stops the others', async () => {
    const reasons: CloseReason[] = [];
    const removedCalls: CloseReason[] = [];
    const server = createServer((req, res) => {
      const stream = createEventStream(req, res);
      stream.onClose(() => {
        throw new Error('listener bug');
      });
      const remove = stream.onClose((reason) => removedCalls.push(reason));
      remove();
      stream.onClose((reason) => reasons.push(reason));
    });
    after(() => server.close());
    const base = await listen(server);

    const warned = once(process, 'warning');
    const conn = await openSse(base);
    conn.close();
    const [warning] = (await warned) as [Error & { code?: string }];
    assert.match(warning.message, /listener bug/);
    assert.equal(warning.code, 'SSEHUB_CLOSE_LISTENER');
    assert.deepEqual(reasons, ['client']);
    assert.deepEqual(removedCalls, [], 'a removed listener is not called');

    // The process and the server are still fine.
    const again = await openSse(base);
    assert.equal(again.status, 200);
    again.close();
  });
});
