import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { before, describe, it } from 'node:test'

import { createColumnCatalog } from '../../src/catalog/column-catalog.js'
import {
  createPolicyEngine,
  DEFAULT_POLICY_DIRECTORY,
} from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import { createPolicySource } from '../../src/policy/policy-source.js'

const MODEL = readFileSync(`${DEFAULT_POLICY_DIRECTORY}/model.conf`, 'utf8')

const POLICY = `
p, sql-read, *, statement, select, allow
p, sql-read, *, table:public.*, select, allow
p, sql-read, *, function:*, execute, allow
p, sql-read, *, column:public.users.ssn, select, deny
p, sql-read, *, "function:{generate_series,pg_stat_get_activity}", execute, deny
g, sql-write, sql-read, *
p, sql-write, *, statement, insert, allow
p, sql-write, *, table:public.*, insert, allow
p, auditor, *, statement, select, allow
p, auditor, *, table:public.*, select, allow
p, no-notes, *, column:public.orders.note, *, deny
`

const USERS = { schema: 'public', name: 'users', columns: ['id', 'name', 'ssn'] }
const ORDERS = { schema: 'public', name: 'orders', columns: ['id', 'user_id', 'note'] }

let engine: PolicyEngine

before(async () => {
  engine = await createPolicyEngine({ policy: createPolicySource(MODEL, POLICY) })
})

function check(roles: string[], sql: string, withCatalog = false) {
  return engine.check({
    dialect: 'postgres',
    roles,
    sql,
    ...(withCatalog ? { catalog: createColumnCatalog([USERS, ORDERS]) } : {}),
  })
}

describe('column rules', () => {
  const denied: readonly [string, string][] = [
    ['plain column', 'SELECT ssn FROM users'],
    ['through an alias', 'SELECT u.ssn AS x FROM users AS u'],
    ['through a sub-query', 'SELECT s FROM (SELECT ssn AS s FROM users) q'],
    ['through a CTE', 'WITH c AS (SELECT ssn FROM users) SELECT * FROM c'],
    ['in WHERE', "SELECT id FROM users WHERE ssn LIKE '1%'"],
    ['as a whole row', 'SELECT to_json(u) FROM users u'],
    ['schema-qualified', 'SELECT public.users.ssn FROM users'],
    ['in JOIN USING', 'SELECT 1 FROM users a JOIN users b USING (ssn)'],
    ['through a join alias', 'SELECT j.ssn FROM (users JOIN orders ON true) AS j'],
    ['through renamed columns', 'SELECT s FROM users AS x(i, n, s)'],
    ['through a renamed join', 'SELECT j.c FROM (users JOIN orders USING (id)) AS j(a, b, c)'],
  ]
  for (const [name, sql] of denied) {
    it(`denies ssn ${name}`, () => {
      const decision = check(['sql-read'], sql, true)
      assert.equal(decision.allowed, false)
      assert.ok(
        decision.denials.some((denial) => denial.object === 'column:public.users.ssn'),
        JSON.stringify(decision.denials),
      )
    })
  }

  it('allows other columns of the table', () => {
    assert.equal(check(['sql-read'], 'SELECT id, name FROM users u').allowed, true)
  })

  it('denies star without a catalog and names the table', () => {
    const decision = check(['sql-read'], 'SELECT * FROM users')
    assert.equal(decision.allowed, false)
    assert.equal(decision.errorCode, 'ERR_CATALOG_UNAVAILABLE')
    assert.deepEqual(decision.catalogNeeds, [{ schema: 'public', name: 'users' }])
    assert.match(decision.denials[0]?.reason ?? '', /no catalog is available/)
  })

  it('denies star expanded from the catalog', () => {
    const decision = check(['sql-read'], 'SELECT * FROM users', true)
    assert.equal(decision.allowed, false)
    assert.equal(decision.errorCode, 'ERR_ACCESS_DENIED')
    assert.deepEqual(
      decision.denials.map((denial) => denial.object),
      ['column:public.users.ssn'],
    )
  })

  it('denies star through a CTE with the catalog', () => {
    const sql = 'WITH c AS (SELECT * FROM users) SELECT name FROM c'
    assert.equal(check(['sql-read'], sql, true).allowed, false)
  })

  it('denies qualified star with the catalog', () => {
    assert.equal(check(['sql-read'], 'SELECT u.* FROM users u', true).allowed, false)
  })

  it('needs no catalog for star over a table without rules', () => {
    const decision = check(['sql-read'], 'SELECT * FROM orders')
    assert.equal(decision.allowed, true, JSON.stringify(decision.denials))
  })

  it('needs no catalog for roles without column rules', () => {
    const decision = check(['auditor'], 'SELECT * FROM users')
    assert.equal(decision.allowed, true, JSON.stringify(decision.denials))
  })

  it('applies inherited column rules', () => {
    assert.equal(check(['sql-write'], 'SELECT ssn FROM users').allowed, false)
  })

  it('denies when one of several roles denies', () => {
    const decision = check(['auditor', 'no-notes'], 'SELECT * FROM orders', true)
    assert.equal(decision.allowed, false)
    assert.deepEqual(
      decision.denials.map((denial) => denial.object),
      ['column:public.orders.note'],
    )
  })

  it('denies INSERT without a column list into a denied column', () => {
    const decision = engine.check({
      dialect: 'postgres',
      roles: ['sql-write', 'no-notes'],
      sql: "INSERT INTO orders VALUES (1, 2, 'x')",
      catalog: createColumnCatalog([ORDERS]),
    })
    assert.equal(decision.allowed, false)
    assert.ok(decision.denials.some((denial) => denial.object === 'column:public.orders.note'))
  })

  it('denies a function in FROM', () => {
    const decision = check(['sql-read'], 'SELECT * FROM generate_series(1, 3)')
    assert.equal(decision.allowed, false)
    assert.equal(decision.denials[0]?.object, 'function:generate_series')
    assert.match(decision.denials[0]?.reason ?? '', /policy\.csv line 6\b/)
  })
})
