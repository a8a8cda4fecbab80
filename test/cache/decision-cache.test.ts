import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'

import type { Decision } from '../../src/authorize/decision.js'
import { CasbinAuthorizer } from '../../src/authorize/casbin-authorizer.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import { DecisionCache, type CacheContext } from '../../src/engine/decision-cache.js'
import { createPolicySource } from '../../src/policy/policy-source.js'

const model = readFileSync(new URL('../../policies/model.conf', import.meta.url), 'utf8')

/** Builds a stand-in decision labelled by its policy version; the cache never reads it. */
function decision(label: string): Decision {
  return Object.freeze({
    allowed: true,
    denials: [],
    grants: [],
    facts: null,
    errorCode: null,
    error: null,
    policyVersion: label,
  }) as unknown as Decision
}

describe('decision cache isolation', () => {
  it('role sets never share a decision', async () => {
    const engine = await createPolicyEngine()
    const sql = 'DELETE FROM accounts WHERE id = 1'
    const reader = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
    const writer = engine.check({ dialect: 'postgres', roles: ['sql-write'], sql })
    const readerAgain = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })

    assert.equal(reader.allowed, false)
    assert.equal(writer.allowed, true)
    assert.equal(readerAgain.allowed, false)
    assert.equal(readerAgain, reader, 'the second reader check is a cache hit')
  })

  it('role order and duplicates share an entry', async () => {
    const engine = await createPolicyEngine()
    const sql = 'SELECT id FROM accounts'
    const first = engine.check({ dialect: 'postgres', roles: ['sql-write', 'sql-read'], sql })
    const second = engine.check({ dialect: 'postgres', roles: ['sql-read', 'sql-write', 'sql-read'], sql })
    assert.equal(second, first)
  })

  it('newline in a role name', async () => {
    const policy = ['p, a, *, statement, select, allow', 'p, a, *, table:public.*, select, allow'].join('\n')
    const engine = await createPolicyEngine({ policy: createPolicySource(model, policy) })
    const sql = 'SELECT id FROM accounts'

    const split = engine.check({ dialect: 'postgres', roles: ['a', 'b'], sql })
    const joined = engine.check({ dialect: 'postgres', roles: ['a\nb'], sql })

    assert.equal(split.allowed, true)
    assert.equal(joined.allowed, false, 'the role "a\\nb" holds no line, so nothing is allowed')
  })

  it('domains and schemas stay apart', async () => {
    const policy = [
      'p, r, app, statement, select, allow',
      'p, r, app, table:sales.*, select, allow',
    ].join('\n')
    const engine = await createPolicyEngine({ policy: createPolicySource(model, policy) })
    const sql = 'SELECT id FROM orders'
    const check = (domain: string, defaultSchema: string): boolean =>
      engine.check({ dialect: 'postgres', roles: ['r'], sql, domain, defaultSchema }).allowed

    assert.equal(check('app', 'sales'), true)
    assert.equal(check('app', 'public'), false)
    assert.equal(check('other', 'sales'), false)
    assert.equal(check('app', 'sales'), true)
  })

  it('new policy version misses', async () => {
    const allow = ['p, r, *, statement, select, allow', 'p, r, *, table:public.*, select, allow']
    const deny = [...allow, 'p, r, *, table:public.accounts, select, deny']
    const engine = await createPolicyEngine({ policy: createPolicySource(model, allow.join('\n')) })
    const sql = 'SELECT id FROM accounts'

    const before = engine.check({ dialect: 'postgres', roles: ['r'], sql })
    const next = await CasbinAuthorizer.create(createPolicySource(model, deny.join('\n')))
    engine.setAuthorizer(next)
    const after = engine.check({ dialect: 'postgres', roles: ['r'], sql })

    assert.equal(before.allowed, true)
    assert.equal(after.allowed, false)
    assert.equal(after.policyVersion, next.version)
    assert.notEqual(before.policyVersion, after.policyVersion)
  })

  it('context keys differ in every part', () => {
    const cache = new DecisionCache()
    const base: CacheContext = {
      dialect: 'postgres',
      domain: 'app',
      schema: 'public',
      catalogVersion: null,
      policyVersion: 'v1',
      roles: ['r'],
    }
    const keys = new Set([
      cache.contextKey(base),
      cache.contextKey({ ...base, dialect: 'mssql' }),
      cache.contextKey({ ...base, domain: 'other' }),
      cache.contextKey({ ...base, schema: 'sales' }),
      cache.contextKey({ ...base, catalogVersion: '' }),
      cache.contextKey({ ...base, catalogVersion: 'c1' }),
      cache.contextKey({ ...base, policyVersion: 'v2' }),
      cache.contextKey({ ...base, roles: ['s'] }),
      cache.contextKey({ ...base, roles: ['r', 's'] }),
    ])
    assert.equal(keys.size, 9)
  })

  it('context keys keep part boundaries', () => {
    const cache = new DecisionCache()
    const base: CacheContext = {
      dialect: 'postgres',
      domain: 'a',
      schema: 'b',
      catalogVersion: null,
      policyVersion: 'v',
      roles: ['r'],
    }
    // Moving characters across a boundary must change the key, whatever the characters are.
    assert.notEqual(
      cache.contextKey({ ...base, domain: 'a\0b', schema: '' }),
      cache.contextKey({ ...base, domain: 'a', schema: '\0b' }),
    )
    assert.notEqual(
      cache.contextKey({ ...base, roles: ['a\nb'] }),
      cache.contextKey({ ...base, roles: ['a', 'b'] }),
    )
    assert.notEqual(
      cache.contextKey({ ...base, roles: ['1:a'] }),
      cache.contextKey({ ...base, roles: ['1', 'a'] }),
    )
    assert.notEqual(
      cache.contextKey({ ...base, schema: 'a\nb' }),
      cache.contextKey({ ...base, schema: 'a', otherSchemas: ['b'] }),
    )
    assert.notEqual(
      cache.contextKey({ ...base, otherSchemas: ['r'], roles: [] }),
      cache.contextKey({ ...base, otherSchemas: [], roles: ['r'] }),
    )
  })

  it('other schemas are part of the key', () => {
    const cache = new DecisionCache()
    const base: CacheContext = {
      dialect: 'postgres',
      domain: 'app',
      schema: 'public',
      catalogVersion: null,
      policyVersion: 'v1',
      roles: ['r'],
    }
    const keys = new Set([
      cache.contextKey(base),
      cache.contextKey({ ...base, otherSchemas: ['sales'] }),
      cache.contextKey({ ...base, otherSchemas: ['sales', 'hr'] }),
      cache.contextKey({ ...base, otherSchemas: ['hr', 'sales'] }),
    ])
    assert.equal(keys.size, 4)
    assert.equal(cache.contextKey({ ...base, otherSchemas: [] }), cache.contextKey(base))
  })

  it('reused context key follows changes', () => {
    const cache = new DecisionCache()
    const roles = ['sql-read']
    const context: CacheContext = {
      dialect: 'postgres',
      domain: 'app',
      schema: 'public',
      catalogVersion: null,
      policyVersion: 'v1',
      roles,
    }
    const first = cache.contextKey(context)
    roles[0] = 'sql-write'
    const second = cache.contextKey(context)
    assert.notEqual(second, first, 'a changed role list must not reuse the previous key')
    assert.equal(cache.contextKey({ ...context, roles: ['sql-write'] }), second)
  })
})

describe('decision cache bounds', () => {
  const context = 'context'

  it('holds at most maxEntries', () => {
    const cache = new DecisionCache({ maxEntries: 5 })
    for (let index = 0; index < 50; index += 1) {
      cache.set(context, `SELECT ${index}`, decision(String(index)))
    }
    assert.equal(cache.size, 5)
    assert.equal(cache.get(context, 'SELECT 49')?.policyVersion, '49')
  })

  it('holds at most maxKeyChars', () => {
    const cache = new DecisionCache({ maxKeyChars: 1000 })
    for (let index = 0; index < 100; index += 1) {
      cache.set(context, `SELECT ${'x'.repeat(90)} ${index}`, decision(String(index)))
      assert.ok(cache.keyChars <= 1000, `keyChars ${cache.keyChars} after ${index + 1} entries`)
    }
    assert.ok(cache.size > 0)
  })

  it('keeps no entry larger than maxKeyChars', () => {
    const cache = new DecisionCache({ maxKeyChars: 50 })
    cache.set(context, 'SELECT '.repeat(20), decision('big'))
    assert.equal(cache.size, 0)
    assert.equal(cache.keyChars, 0)
  })

  it('does not cache SQL over maxSqlChars', async () => {
    const cache = new DecisionCache({ maxSqlChars: 10 })
    assert.equal(cache.accepts('SELECT 1 + 1'), false)
    cache.set(context, 'SELECT 1 + 1', decision('long'))
    assert.equal(cache.size, 0)

    const engine = await createPolicyEngine({ cache: { maxSqlChars: 10 } })
    const sql = 'SELECT id FROM accounts'
    const first = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
    const second = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
    assert.notEqual(second, first, 'a long text is decided afresh')
  })

  it('cache false decides every request afresh', async () => {
    const engine = await createPolicyEngine({ cache: false })
    const sql = 'SELECT id FROM accounts'
    const first = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
    const second = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
    assert.notEqual(second, first)
    assert.deepEqual(second.grants, first.grants)
  })
})

describe('decision cache eviction', () => {
  const context = 'context'

  function filled(keys: readonly string[], maxEntries: number): DecisionCache {
    const cache = new DecisionCache({ maxEntries })
    for (const key of keys) cache.set(context, key, decision(key))
    return cache
  }

  it('evicts the oldest unused entry first', () => {
    const cache = filled(['a', 'b', 'c'], 3)
    cache.set(context, 'd', decision('d'))
    assert.equal(cache.get(context, 'a'), undefined)
    assert.equal(cache.get(context, 'b')?.policyVersion, 'b')
    assert.equal(cache.get(context, 'd')?.policyVersion, 'd')
  })

  it('keeps an entry that was hit', () => {
    const cache = filled(['a', 'b', 'c'], 3)
    assert.equal(cache.get(context, 'a')?.policyVersion, 'a')
    cache.set(context, 'd', decision('d'))
    assert.equal(cache.get(context, 'a')?.policyVersion, 'a', 'a was used, so it gets a second chance')
    assert.equal(cache.get(context, 'b'), undefined, 'b is the oldest unused entry')
    assert.equal(cache.size, 3)
  })

  it('evicts a hit entry once it goes unused', () => {
    const cache = filled(['a', 'b', 'c'], 3)
    cache.get(context, 'a')
    cache.set(context, 'd', decision('d'))
    cache.set(context, 'e', decision('e'))
    cache.set(context, 'f', decision('f'))
    cache.set(context, 'g', decision('g'))
    assert.equal(cache.get(context, 'a'), undefined)
    assert.equal(cache.size, 3)
  })

  it('evicts even when every entry was hit', () => {
    const cache = filled(['a', 'b', 'c'], 3)
    for (const key of ['a', 'b', 'c']) cache.get(context, key)
    cache.set(context, 'd', decision('d'))
    assert.equal(cache.size, 3)
    assert.equal(cache.get(context, 'd')?.policyVersion, 'd')
  })

  it('clear empties entries and key chars', () => {
    const cache = filled(['a', 'b'], 3)
    cache.clear()
    assert.equal(cache.size, 0)
    assert.equal(cache.keyChars, 0)
    assert.equal(cache.get(context, 'a'), undefined)
  })
})
