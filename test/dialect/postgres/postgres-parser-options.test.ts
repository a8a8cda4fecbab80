import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { createPgsqlAstFrontEnd } from '../../../src/dialect/postgres/pgsql-ast-front-end.js'
import {
  createPolicyEngine,
  type CreatePolicyEngineOptions,
} from '../../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../../src/engine/policy-engine.js'
import { readAttackCases } from '../../support/attack-cases.js'

/** The denial list of the PostgreSQL delegation integration test, for the sql-read role. */
const DENIED_FOR_READER: readonly string[] = [
  'DELETE FROM accounts WHERE id = 1',
  'WITH x AS (DELETE FROM accounts WHERE id = 1 RETURNING *) SELECT * FROM x',
  'EXPLAIN ANALYZE DELETE FROM accounts',
  'SELECT * INTO t2 FROM accounts',
  "SELECT pg_read_file('x')",
  "SELECT * FROM pg_read_file('x')",
  "SELECT set_config('role','none',false)",
  'RESET ROLE',
  'SELECT 1; DELETE FROM accounts',
  "SELECT 1 /* ' */ ; DELETE FROM accounts; -- ' */",
]

const CONFIGURATIONS: readonly (readonly [string, CreatePolicyEngineOptions])[] = [
  ['libpg-query', {}],
  ['pgsql-ast-parser', { parser: 'pgsql-ast-parser' }],
  ['cross-check', { crossCheck: true }],
  ['cross-check led by pgsql-ast-parser', { crossCheck: true, parser: 'pgsql-ast-parser' }],
]

for (const [label, options] of CONFIGURATIONS) {
  describe(`PostgreSQL denials with ${label}`, () => {
    let engine: PolicyEngine
    before(async () => {
      engine = await createPolicyEngine({ ...options, cache: false })
    })

    for (const attack of readAttackCases().filter((item) => item.dialect === 'postgresql')) {
      it(`${attack.id} is ${attack.expected === 'allow' ? 'allowed' : 'denied'}`, () => {
        const { role, sql } = attack
        const decision = engine.check({ dialect: 'postgres', roles: [role], sql })
        const denials = JSON.stringify(decision.denials)
        assert.equal(decision.allowed, attack.expected === 'allow', denials)
      })
    }

    for (const sql of DENIED_FOR_READER) {
      it(`sql-read is denied: ${sql}`, () => {
        const decision = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
        assert.equal(decision.allowed, false)
        assert.ok(decision.denials.length > 0)
      })
    }
  })
}

describe('PostgreSQL parser options', () => {
  it('use libpg-query by default', async () => {
    const engine = await createPolicyEngine()
    assert.equal(engine.frontEnd('postgres')?.name, 'libpg-query')
  })

  it('select pgsql-ast-parser', async () => {
    const engine = await createPolicyEngine({ parser: 'pgsql-ast-parser' })
    assert.equal(engine.frontEnd('postgres')?.name, 'pgsql-ast-parser')
  })

  it('name the leading parser of the cross-check first', async () => {
    const engine = await createPolicyEngine({ crossCheck: true, parser: 'pgsql-ast-parser' })
    assert.equal(engine.frontEnd('postgres')?.name, 'cross-check(pgsql-ast-parser, libpg-query)')
  })

  it('keep the mssql front end', async () => {
    const engine = await createPolicyEngine({ crossCheck: true })
    const plain = await createPolicyEngine()
    assert.equal(engine.frontEnd('mssql')?.name, plain.frontEnd('mssql')?.name)
  })

  it('reject a postgres front end given as well', async () => {
    await assert.rejects(
      createPolicyEngine({ crossCheck: true, frontEnds: { postgres: createPgsqlAstFrontEnd() } }),
      TypeError,
    )
  })

  it('reject an unknown parser', async () => {
    const parser = 'sqlglot' as CreatePolicyEngineOptions['parser']
    await assert.rejects(createPolicyEngine(parser === undefined ? {} : { parser }), TypeError)
  })

  it('deny a cross-check disagreement with its reason', async () => {
    const engine = await createPolicyEngine({ crossCheck: true })
    const sql = 'EXPLAIN SELECT 1'
    const decision = engine.check({ dialect: 'postgres', roles: ['admin'], sql })
    assert.equal(decision.allowed, false)
    assert.equal(decision.errorCode, 'ERR_SQL_UNSUPPORTED')
    assert.match(decision.denials[0]?.reason ?? '', /pgsql-ast-parser.*EXPLAIN/)
  })
})
