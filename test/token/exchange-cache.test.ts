import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { ExchangeCache, hashCacheKey } from '../../src/token/exchange-cache.js'

function cacheAt(clock: { now: number }, maxEntries = 3) {
  return new ExchangeCache<string>({ maxEntries, skewMs: 1000, now: () => clock.now })
}

describe('ExchangeCache', () => {
  test('serves until expiry minus skew', async () => {
    const clock = { now: 0 }
    const cache = cacheAt(clock)
    let calls = 0
    const create = async () => ({ value: `v${++calls}`, expiresAtMs: 5000 })

    assert.equal(await cache.getOrCreate('k', create), 'v1')
    clock.now = 3999
    assert.equal(await cache.getOrCreate('k', create), 'v1')
    clock.now = 4000
    assert.equal(await cache.getOrCreate('k', create), 'v2')
    assert.equal(calls, 2)
  })

  test('evicts least recently used', async () => {
    const cache = cacheAt({ now: 0 }, 2)
    const created: string[] = []
    const create = (value: string) => async () => {
      created.push(value)
      return { value, expiresAtMs: 60_000 }
    }

    await cache.getOrCreate('a', create('a'))
    await cache.getOrCreate('b', create('b'))
    await cache.getOrCreate('a', create('a'))
    await cache.getOrCreate('c', create('c'))
    await cache.getOrCreate('a', create('a'))
    await cache.getOrCreate('b', create('b'))

    assert.deepEqual(created, ['a', 'b', 'c', 'b'])
    assert.equal(cache.size, 2)
  })

  test('coalesces concurrent requests', async () => {
    const cache = cacheAt({ now: 0 })
    let calls = 0
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const create = async () => {
      calls += 1
      await gate
      return { value: 'v', expiresAtMs: 60_000 }
    }

    const waiting = Array.from({ length: 5 }, () => cache.getOrCreate('k', create))
    assert.equal(cache.inFlight, 1)
    release()

    assert.deepEqual(await Promise.all(waiting), ['v', 'v', 'v', 'v', 'v'])
    assert.equal(calls, 1)
    assert.equal(cache.inFlight, 0)
  })

  test('does not cache failures', async () => {
    const cache = cacheAt({ now: 0 })
    let calls = 0
    const create = async () => {
      calls += 1
      if (calls === 1) throw new Error('identity provider down')
      return { value: 'v', expiresAtMs: 60_000 }
    }

    await assert.rejects(cache.getOrCreate('k', create), /identity provider down/)
    assert.equal(cache.inFlight, 0)
    assert.equal(await cache.getOrCreate('k', create), 'v')
    assert.equal(calls, 2)
  })

  test('zero entries caches nothing', async () => {
    const cache = cacheAt({ now: 0 }, 0)
    let calls = 0
    const create = async () => ({ value: `v${++calls}`, expiresAtMs: 60_000 })

    await cache.getOrCreate('k', create)
    await cache.getOrCreate('k', create)

    assert.equal(calls, 2)
  })
})

describe('hashCacheKey', () => {
  test('never contains the parts', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln'
    const key = hashCacheKey(['config', token])

    assert.ok(!key.includes(token))
    assert.match(key, /^[\w-]{43}$/)
  })

  test('separates part boundaries', () => {
    assert.notEqual(hashCacheKey(['ab', 'c']), hashCacheKey(['a', 'bc']))
    assert.equal(hashCacheKey(['a', 'bc']), hashCacheKey(['a', 'bc']))
  })
})
