import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { before, describe, it } from 'node:test'

import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import { createPolicySource } from '../../src/policy/policy-source.js'

const model = readFileSync(new URL('../../policies/model.conf', import.meta.url), 'utf8')
const ladder = readFileSync(new URL('../../policies/policy.csv', import.meta.url), 'utf8')

async function engineWith(lines: readonly string[]): Promise<PolicyEngine> {
  return createPolicyEngine({ policy: createPolicySource(model, [ladder, ...lines].join('\n')) })
}

describe('PolicyEngine', () => {
  let engine: PolicyEngine
  before(async () => {
    engine = await createPolicyEngine()
  })

  it('denies an empty role list', () => {
    const decision = engine.check({ dialect: 'postgres', roles: [], sql: 'SELECT 1' })
    assert.equal(decision.allowed, false)
    assert.equal(decision.errorCode, 'ERR_TOKEN_CLAIM_MISSING')
  })

  it('denies blank role names', () => {
    const decision = engine.check({ dialect: 'postgres', roles: [' ', ''], sql: 'SELECT 1' })
    assert.equal(decision.allowed, false)
  })

  it('denies an unknown role', () => {
    const decision = engine.check({ dialect: 'postgres', roles: ['intern'], sql: 'SELECT 1' })
    assert.equal(decision.allowed, false)
    assert.equal(decision.denials[0]?.rule, 'no matching allow')
  })

  it('rejects text over the size limit before parsing', async () => {
    const small = await createPolicyEngine({ maxSqlBytes: 100 })
    const decision = small.check({
      dialect: 'postgres',
      roles: ['sql-read'],
      sql: `SELECT '${'x'.repeat(200)}'`,
    })
    assert.equal(decision.allowed, false)
    assert.equal(decision.errorCode, 'ERR_SQL_TOO_LARGE')
    assert.equal(decision.facts, null)
  })

  it('counts the size limit in UTF-8 bytes', async () => {
    const small = await createPolicyEngine({ maxSqlBytes: 100 })
    const decision = small.check({ dialect: 'postgres', roles: ['sql-read'], sql: `SELECT '${'é'.repeat(48)}'` })
    assert.equal(decision.errorCode, 'ERR_SQL_TOO_LARGE')
  })

  it('inherits allows up the ladder', () => {
    for (const role of ['sql-write', 'sql-admin', 'admin']) {
      const decision = engine.check({ dialect: 'postgres', roles: [role], sql: 'SELECT * FROM t' })
      assert.equal(decision.allowed, true, role)
    }
  })

  it('allows what any held role allows', () => {
    const decision = engine.check({
      dialect: 'postgres',
      roles: ['sql-read', 'sql-write'],
      sql: 'DELETE FROM t WHERE id = 1',
    })
    assert.equal(decision.allowed, true)
  })

  it('denies when one held role denies', async () => {
    const strict = await engineWith(['p, no-deletes, *, table:public.t, delete, deny'])
    const decision = strict.check({
      dialect: 'postgres',
      roles: ['sql-write', 'no-deletes'],
      sql: 'DELETE FROM t WHERE id = 1',
    })
    assert.equal(decision.allowed, false)
    assert.equal(decision.denials[0]?.rule, 'p, no-deletes, *, table:public.t, delete, deny')
    assert.match(decision.denials[0]?.reason ?? '', /policy\.csv line \d+/)
  })

  it('keeps domains apart', async () => {
    const split = await engineWith(['p, sql-read, postgresql2, table:public.secrets, select, deny'])
    const sql = 'SELECT * FROM secrets'
    const first = split.check({ dialect: 'postgres', roles: ['sql-read'], sql, domain: 'postgresql1' })
    const second = split.check({ dialect: 'postgres', roles: ['sql-read'], sql, domain: 'postgresql2' })
    assert.equal(first.allowed, true)
    assert.equal(second.allowed, false)
  })

  describe('floor', () => {
    it('a wildcard allow lifts nothing', async () => {
      const loose = await engineWith(['p, root, *, *, *, allow'])
      const decision = loose.check({ dialect: 'postgres', roles: ['root'], sql: 'SELECT 1; SELECT 2' })
      assert.equal(decision.allowed, false)
      assert.equal(decision.denials[0]?.object, 'floor:multiple-statements')
    })

    it('an exact line lifts a liftable rule', async () => {
      const lifted = await engineWith([
        'g, ops, admin, *',
        'p, ops, *, floor:server-processes, lift, allow',
      ])
      const decision = lifted.check({
        dialect: 'postgres',
        roles: ['ops'],
        sql: 'SELECT pg_cancel_backend(42)',
      })
      assert.equal(decision.allowed, true, JSON.stringify(decision.denials))
      assert.ok(decision.grants.some((grant) => grant.object === 'floor:server-processes'))
    })

    it('an exact line cannot lift a hard rule', async () => {
      const lifted = await engineWith(['p, admin, *, floor:identity-change, lift, allow'])
      const decision = lifted.check({ dialect: 'postgres', roles: ['admin'], sql: 'RESET ROLE' })
      assert.equal(decision.allowed, false)
      assert.equal(decision.denials[0]?.object, 'floor:identity-change')
    })

    it('a deny line overrides a lift', async () => {
      const lifted = await engineWith([
        'p, admin, *, floor:multiple-statements, lift, allow',
        'p, sql-read, *, floor:multiple-statements, lift, deny',
      ])
      const decision = lifted.check({ dialect: 'postgres', roles: ['admin'], sql: 'SELECT 1; SELECT 2' })
      assert.equal(decision.allowed, false)
    })
  })

  it('reports the deciding lines of an allow', () => {
    const decision = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql: 'SELECT lower(name) FROM users' })
    assert.deepEqual(
      decision.grants.map((grant) => `${grant.action} ${grant.object} <- ${grant.rule}`),
      [
        'select statement <- p, sql-read, *, statement, select, allow',
        'select table:public.users <- p, sql-read, *, table:*, select, allow',
        'execute function:lower <- p, sql-read, *, function:*, execute, allow',
      ],
    )
  })

  it('quotes names that are not plain identifiers', () => {
    const decision = engine.check({
      dialect: 'postgres',
      roles: ['sql-read'],
      sql: 'SELECT * FROM "My Schema"."Odd.Table"',
    })
    assert.ok(decision.grants.some((grant) => grant.object === 'table:"My Schema"."Odd.Table"'))
  })

  it('uses the given default schema for unqualified tables', () => {
    const decision = engine.check({
      dialect: 'postgres',
      roles: ['sql-read'],
      sql: 'SELECT * FROM orders',
      defaultSchema: 'shop',
    })
    assert.ok(decision.grants.some((grant) => grant.object === 'table:shop.orders'))
  })

  it('decisions are frozen', () => {
    const decision = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql: 'SELECT 1' })
    assert.ok(Object.isFrozen(decision))
    assert.ok(Object.isFrozen(decision.grants))
  })
})
