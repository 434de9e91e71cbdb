import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthorizer } from '../../src/hub/auth/authorizer.js';
import { VerifiedTokenCache } from '../../src/hub/auth/token-cache.js';
import type { Authorizer, Claims, TokenRole } from '../../src/hub/types.js';
import { mintTestToken, postForm, startHub, TEST_SECRET } from '../helpers/hub-server.js';

describe('VerifiedTokenCache', () => {
  const now = 1_000_000_000_000;
  const claims = (exp?: number): Claims =>
    exp === undefined ? { publish: ['*'] } : { publish: ['*'], exp };

  it('returns cached claims per role until the TTL passes', () => {
    const cache = new VerifiedTokenCache(10, 1000);
    const c = claims();
    cache.set('publisher', 'tok', c, now);
    assert.equal(cache.get('publisher', 'tok', now + 999), c);
    assert.equal(cache.get('subscriber', 'tok', now), undefined, 'roles are kept apart');
    assert.equal(cache.get('publisher', 'tok', now + 1000), undefined);
  });

  it("never outlives the token's exp, and never stores an expired token", () => {
    const cache = new VerifiedTokenCache(10, 60_000);
    cache.set('publisher', 'a', claims(now / 1000 + 5), now);
    assert.ok(cache.get('publisher', 'a', now + 4999));
    assert.equal(cache.get('publisher', 'a', now + 5000), undefined);
    cache.set('publisher', 'b', claims(now / 1000 - 1), now);
    assert.equal(cache.get('publisher', 'b', now - 5000), undefined);
  });

  it('drops the oldest entry past its size, and caches nothing at size 0', () => {
    const cache = new VerifiedTokenCache(2, 60_000);
    cache.set('publisher', 'a', claims(), now);
    cache.set('publisher', 'b', claims(), now);
    cache.set('publisher', 'c', claims(), now);
    assert.equal(cache.get('publisher', 'a', now), undefined);
    assert.ok(cache.get('publisher', 'b', now));
    assert.ok(cache.get('publisher', 'c', now));
    const off = new VerifiedTokenCache(0, 60_000);
    off.set('publisher', 'a', claims(), now);
    assert.equal(off.get('publisher', 'a', now), undefined);
  });
});

describe('token verification in the hub', () => {
  it('verifies a reused token once, and every failing token every time', async () => {
    const real = createAuthorizer({ key: TEST_SECRET });
    const calls: TokenRole[] = [];
    const counting: Authorizer = {
      verify(token, role) {
        calls.push(role);
        return real.verify(token, role);
      },
    };
    const h = await startHub({ authorizer: counting });
    try {
      const token = await mintTestToken({ publish: ['*'] });
      for (let i = 0; i < 3; i++) {
        assert.equal(
          (await postForm(h.url, { topic: 't' }, { authorization: `Bearer ${token}` })).status,
          200,
        );
      }
      assert.equal(calls.length, 1);
      const forged = await mintTestToken({ publish: ['*'], secret: 'y'.repeat(40) });
      for (let i = 0; i < 2; i++) {
        assert.equal(
          (await postForm(h.url, { topic: 't' }, { authorization: `Bearer ${forged}` })).status,
          401,
        );
      }
      assert.equal(calls.length, 3);
    } finally {
      await h.close();
    }
  });
});
