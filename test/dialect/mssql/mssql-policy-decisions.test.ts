import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { mssqlCatalogQuery } from '../../../src/dialect/mssql/mssql-catalog-queries.js'
import { createMssqlFrontEnd } from '../../../src/dialect/mssql/mssql-front-end.js'
import { createPolicyEngine } from '../../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../../src/engine/policy-engine.js'
import { isReadOnlyStatement } from '../../../src/extract/statement-facts.js'
import { readAttackCases } from '../../support/attack-cases.js'
import { readFixtureCorpus } from '../../support/corpus.js'

let engine: PolicyEngine

before(async () => {
  engine = await createPolicyEngine({ frontEnds: { mssql: createMssqlFrontEnd() } })
})

function check(role: string, sql: string) {
  return engine.check({ dialect: 'mssql', roles: [role], sql })
}

describe('T-SQL attack cases', () => {
  for (const attack of readAttackCases().filter((item) => item.dialect === 'transactsql')) {
    it(`${attack.id} is ${attack.expected === 'allow' ? 'allowed' : 'denied'}`, () => {
      const decision = check(attack.role, attack.sql)
      assert.equal(decision.allowed, attack.expected === 'allow', JSON.stringify(decision.denials))
      if (attack.expected === 'deny') assert.ok(decision.denials.length > 0)
    })
  }
})

describe('T-SQL decisions under the default policy', () => {
  const cases: Array<[string, string, string, boolean]> = [
    ['read with TOP and NOLOCK', 'sql-read', 'SELECT TOP 5 name FROM dbo.users WITH (NOLOCK)', true],
    ['read with brackets', 'sql-read', 'SELECT [u].[name] FROM [dbo].[users] AS [u]', true],
    ['read of an unqualified table', 'sql-read', 'SELECT name FROM users', true],
    ['read with a lock hint', 'sql-read', 'SELECT name FROM dbo.users WITH (UPDLOCK)', false],
    ['delete as reader', 'sql-read', 'DELETE FROM dbo.users WHERE id = 1', false],
    ['delete as writer', 'sql-write', 'DELETE FROM dbo.users WHERE id = 1', true],
    ['OUTPUT INSERTED as writer', 'sql-write', "INSERT INTO dbo.users (name) OUTPUT INSERTED.id VALUES (N'a')", true],
    ['MERGE as reader', 'sql-read', 'MERGE dbo.users AS t USING dbo.customers AS s ON t.id = s.id WHEN MATCHED THEN DELETE;', false],
    ['MERGE as writer', 'sql-write', 'MERGE dbo.users AS t USING dbo.customers AS s ON t.id = s.id WHEN MATCHED THEN DELETE;', true],
    ['SELECT INTO as reader', 'sql-read', 'SELECT * INTO dbo.copy FROM dbo.users', false],
    ['SELECT INTO a temp table as admin', 'admin', 'SELECT * INTO #copy FROM dbo.users', false],
    ['procedure as reader', 'sql-read', 'EXEC dbo.usp_report 1', false],
    ['procedure as writer', 'sql-write', 'EXEC dbo.usp_report 1', true],
    ['sp_executesql as admin', 'admin', "EXEC sp_executesql N'SELECT 1'", false],
    ['EXECUTE AS as admin', 'admin', "EXECUTE AS USER = 'dbo'", false],
    ['REVERT after a read as admin', 'admin', 'SELECT name FROM dbo.users REVERT', false],
    ['NEXT VALUE FOR as reader', 'sql-read', 'SELECT NEXT VALUE FOR dbo.invoice_numbers', false],
    ['NEXT VALUE FOR as writer', 'sql-write', 'SELECT NEXT VALUE FOR dbo.invoice_numbers', true],
    ['system functions as reader', 'sql-read', 'SELECT @@TRANCOUNT AS depth, USER_NAME() AS who', true],
    ['GRANT as sql-admin', 'sql-admin', 'GRANT SELECT ON dbo.users TO reporting', true],
    ['DROP TABLE as sql-admin', 'sql-admin', 'DROP TABLE dbo.users', false],
    ['DROP TABLE as admin', 'admin', 'DROP TABLE dbo.users', true],
  ]
  for (const [name, role, sql, allowed] of cases) {
    it(`${allowed ? 'allows' : 'denies'} ${name}`, () => {
      const decision = check(role, sql)
      assert.equal(decision.allowed, allowed, JSON.stringify(decision.denials))
    })
  }

  for (const action of ['schema', 'table-details'] as const) {
    it(`allows the ${action} catalog query for sql-read`, () => {
      const { text } = mssqlCatalogQuery(action, { schemaName: 'dbo', tableName: 'users' })
      const decision = check('sql-read', text)
      assert.equal(decision.allowed, true, JSON.stringify(decision.denials))
    })
  }

  it('names the floor rule in the denial', () => {
    const decision = check('admin', "EXEC('DELETE FROM dbo.users')")
    assert.ok(decision.denials.some((denial) => denial.object === 'floor:dynamic-sql'))
  })

  it('names the unsupported construct in the denial', () => {
    const decision = check('admin', 'WHILE 1 = 1 SELECT 1')
    assert.equal(decision.allowed, false)
    assert.equal(decision.errorCode, 'ERR_SQL_UNSUPPORTED')
    assert.match(decision.denials[0]?.reason ?? '', /WHILE/)
  })
})

describe('T-SQL application corpus', () => {
  const corpus = readFixtureCorpus('tsql/tsql_app.sql')

  it('has every statement', () => {
    assert.equal(corpus.length, 184)
  })

  for (const statement of corpus) {
    it(`${statement.id} ${statement.category} is allowed for the role that may run it`, () => {
      const facts = engine.analyze('mssql', statement.sql)
      const readOnly = facts.statements.every(isReadOnlyStatement)
      const role = readOnly ? 'sql-read' : 'sql-write'

      const decision = check(role, statement.sql)
      assert.equal(decision.allowed, true, `${role}: ${JSON.stringify(decision.denials)}`)
      assert.equal(check('admin', statement.sql).allowed, true)
      if (!readOnly) {
        const denied = check('sql-read', statement.sql)
        const writes = new Set<string>(
          facts.statements.flatMap((item) => [
            ...item.kinds,
            ...item.tables.map((table) => table.action),
            ...item.functions.map((fn) => fn.action),
          ]),
        )
        assert.equal(denied.allowed, false)
        // The denial names the write: a statement kind, table action or function action.
        assert.ok(
          denied.denials.some((denial) => writes.has(denial.action)),
          JSON.stringify(denied.denials),
        )
      }
    })
  }
})
