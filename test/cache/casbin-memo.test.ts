import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'

import { CasbinAuthorizer } from '../../src/authorize/casbin-authorizer.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import { createPolicySource } from '../../src/policy/policy-source.js'

const model = readFileSync(new URL('../../policies/model.conf', import.meta.url), 'utf8')
const ladder = readFileSync(new URL('../../policies/policy.csv', import.meta.url), 'utf8')

async function authorizer(
  lines: readonly string[],
  memo: { maxEntries?: number; maxKeyChars?: number } = {},
): Promise<CasbinAuthorizer> {
  return CasbinAuthorizer.create(createPolicySource(model, [ladder, ...lines].join('\n')), memo)
}

describe('Casbin memo isolation', () => {
  it('role sets never share an answer', async () => {
    const casbin = await authorizer([])
    const asReader = () => casbin.forRoles(['sql-read'], 'default').decide('statement', 'delete')
    const asWriter = () => casbin.forRoles(['sql-write'], 'default').decide('statement', 'delete')

    assert.equal(asReader().effect, 'none')
    assert.equal(asWriter().effect, 'allow')
    assert.equal(asReader().effect, 'none')
  })

  it('deny of one role wins', async () => {
    const casbin = await authorizer(['p, blocked, *, table:public.salaries, select, deny'])
    const object = 'table:public.salaries'

    assert.equal(casbin.decide(['sql-read'], 'default', object, 'select').effect, 'allow')
    assert.equal(casbin.decide(['blocked', 'sql-read'], 'default', object, 'select').effect, 'deny')
    assert.equal(casbin.decide(['sql-read'], 'default', object, 'select').effect, 'allow')
  })

  it('reused decider follows role changes', async () => {
    const casbin = await authorizer(['p, ops, reports, statement, truncate, allow'])
    const roles = ['sql-write']
    assert.equal(casbin.forRoles(roles, 'default').decide('statement', 'delete').effect, 'allow')

    // The same array, changed in place, must not get the previous decider back.
    roles[0] = 'sql-read'
    assert.equal(casbin.forRoles(roles, 'default').decide('statement', 'delete').effect, 'none')

    roles[0] = 'ops'
    assert.equal(casbin.forRoles(roles, 'reports').decide('statement', 'truncate').effect, 'allow')
    assert.equal(casbin.forRoles(roles, 'default').decide('statement', 'truncate').effect, 'none')
  })

  it('domains never share an answer', async () => {
    const casbin = await authorizer(['p, ops, reports, statement, truncate, allow'])
    assert.equal(casbin.decide(['ops'], 'reports', 'statement', 'truncate').effect, 'allow')
    assert.equal(casbin.decide(['ops'], 'payroll', 'statement', 'truncate').effect, 'none')
  })

  it('role names with quotes or commas stay apart', async () => {
    const casbin = await authorizer(['p, a, *, statement, select, allow'])
    // As one joined string these lists could look alike; as role sets they are different.
    assert.equal(casbin.decide(['a'], 'default', 'statement', 'select').effect, 'allow')
    assert.equal(casbin.decide(['a","b'], 'default', 'statement', 'select').effect, 'none')
    assert.equal(casbin.decide(['a,b'], 'default', 'statement', 'select').effect, 'none')
    assert.equal(casbin.decide(['a\u0000b'], 'default', 'statement', 'select').effect, 'none')
  })

  it('new policy starts empty', async () => {
    const before = await authorizer([])
    const after = await authorizer(['p, sql-read, *, table:public.accounts, select, deny'])
    const object = 'table:public.accounts'

    assert.equal(before.decide(['sql-read'], 'default', object, 'select').effect, 'allow')
    assert.equal(after.decide(['sql-read'], 'default', object, 'select').effect, 'deny')
    assert.notEqual(before.version, after.version)
    assert.equal(after.memoStats.setEntries, 1)
  })

  it('engine reload uses the new policy memo', async () => {
    const engine = await createPolicyEngine({ cache: false })
    const sql = 'SELECT id FROM accounts'
    assert.equal(engine.check({ dialect: 'postgres', roles: ['sql-read'], sql }).allowed, true)

    engine.setAuthorizer(await authorizer(['p, sql-read, *, table:public.accounts, select, deny']))
    const decision = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
    assert.equal(decision.allowed, false)
    assert.equal(decision.policyVersion, engine.policyVersion)
  })
})

describe('Casbin memo bounds', () => {
  it('holds at most maxEntries answers in each memo', async () => {
    const casbin = await authorizer([], { maxEntries: 10 })
    for (let index = 0; index < 60; index += 1) {
      const answer = casbin.decide(['sql-read'], 'default', `table:public.t${index}`, 'select')
      assert.equal(answer.effect, 'allow')
      assert.ok(casbin.memoStats.setEntries <= 10, `set memo has ${casbin.memoStats.setEntries}`)
      assert.ok(casbin.memoStats.roleEntries <= 10, `role memo has ${casbin.memoStats.roleEntries}`)
    }
  })

  it('holds at most maxKeyChars in each memo', async () => {
    const casbin = await authorizer([], { maxKeyChars: 2000 })
    for (let index = 0; index < 40; index += 1) {
      const roles = [`role-${index}-${'x'.repeat(100)}`, 'sql-read']
      casbin.decide(roles, 'default', `table:public.t${index}`, 'select')
      const stats = casbin.memoStats
      assert.ok(stats.setKeyChars <= 2000, `set memo holds ${stats.setKeyChars} key chars`)
      assert.ok(stats.roleKeyChars <= 2000, `role memo holds ${stats.roleKeyChars} key chars`)
    }
  })

  it('answers stay right after eviction', async () => {
    const casbin = await authorizer(['p, sql-read, *, table:public.t3, select, deny'], { maxEntries: 3 })
    for (let round = 0; round < 3; round += 1) {
      for (let index = 0; index < 8; index += 1) {
        const expected = index === 3 ? 'deny' : 'allow'
        const answer = casbin.decide(['sql-read'], 'default', `table:public.t${index}`, 'select')
        assert.equal(answer.effect, expected, `t${index} in round ${round}`)
      }
    }
  })

  it('decider survives eviction of its set', async () => {
    const casbin = await authorizer([], { maxEntries: 2 })
    const reader = casbin.forRoles(['sql-read'], 'default')
    for (let index = 0; index < 5; index += 1) {
      casbin.decide([`other-${index}`], 'default', 'statement', 'select')
    }
    assert.equal(reader.decide('statement', 'select').effect, 'allow')
    assert.equal(reader.decide('statement', 'delete').effect, 'none')
    assert.ok(casbin.memoStats.setEntries <= 2)
  })

  it('evicts least recently used set', async () => {
    const casbin = await authorizer([], { maxEntries: 2 })
    casbin.decide(['sql-read'], 'default', 'statement', 'select')
    casbin.decide(['sql-write'], 'default', 'statement', 'select')
    // Using sql-read again makes sql-write the least recently used set.
    casbin.forRoles(['sql-read'], 'default')
    casbin.decide(['admin'], 'default', 'statement', 'select')

    assert.equal(casbin.memoStats.roleSets, 2)
    assert.equal(casbin.memoStats.setEntries, 2)
    // The key characters show which sets remain: sql-read and admin, each with one fact.
    const setKey = (role: string): number => JSON.stringify(['default', [role]]).length
    const factKey = 'statement\0select'.length
    assert.equal(casbin.memoStats.setKeyChars, setKey('sql-read') + setKey('admin') + 2 * factKey)
  })
})

describe('Casbin glob memo', () => {
  it('decides like Casbin without a memo', async () => {
    const { newEnforcer, newModelFromString, StringAdapter, Util } = await import('casbin')
    const lines = [
      'p, analyst, *, table:app_{1,2}.*, select, allow',
      'p, analyst, reports, table:app_3.*, select, allow',
      'p, analyst, *, column:*.*.ssn, select, deny',
      'p, analyst, *, table:app_?.secret, *, deny',
      'g, junior, analyst, rep*',
    ]
    const policy = lines.join('\n')
    const casbin = await CasbinAuthorizer.create(createPolicySource(model, policy))
    const plain = await newEnforcer(newModelFromString(model), new StringAdapter(policy))
    plain.addNamedDomainMatchingFunc('g', Util.globMatch)
    await plain.buildRoleLinks()

    const requests: [string, string, string, string][] = []
    for (const role of ['analyst', 'junior', 'other']) {
      for (const domain of ['default', 'reports', 'reporting']) {
        for (const object of [
          'table:app_1.orders',
          'table:app_2.secret',
          'table:app_3.orders',
          'table:app_12.orders',
          'column:app_1.users.ssn',
          'column:app_1.users.name',
        ]) {
          for (const action of ['select', 'delete']) requests.push([role, domain, object, action])
        }
      }
    }
    // Twice, so the second pass answers from the memos.
    for (let pass = 0; pass < 2; pass += 1) {
      for (const [role, domain, object, action] of requests) {
        const expected = plain.enforceExSync(role, domain, object, action)
        const answer = casbin.decideForRole(role, domain, object, action)
        const label = `${role} ${domain} ${object} ${action}, pass ${pass}`
        assert.equal(answer.effect === 'allow', expected[0], label)
        assert.equal(answer.effect === 'none', expected[1].length === 0, label)
      }
    }
  })
})
