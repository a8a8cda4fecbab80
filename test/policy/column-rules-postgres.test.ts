import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'

import { PostgreSQLDelegationModule } from '../../src/dialect/postgres/postgres-delegation-module.js'
import {
  createPolicyEngine,
  DEFAULT_POLICY_DIRECTORY,
} from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import { AccessDenied, SqlgateError, type ErrorCode } from '../../src/errors.js'
import type { DelegationSession } from '../../src/execute/delegation-module.js'
import { createPolicySource } from '../../src/policy/policy-source.js'
import { RowLimits } from '../../src/policy/row-limits.js'
import {
  openTestDatabase,
  READER_ROLE,
  WRITER_ROLE,
  type TestDatabase,
} from '../support/test-database.js'

const MODEL = readFileSync(`${DEFAULT_POLICY_DIRECTORY}/model.conf`, 'utf8')

const POLICY = `
p, sql-read, *, statement, select, allow
p, sql-read, *, table:public.*, select, allow
p, sql-read, *, table:information_schema.*, select, allow
p, sql-read, *, function:*, execute, allow
p, sql-read, *, column:public.policy_users.ssn, select, deny
p, sql-read, *, function:generate_series, execute, deny
p, sql-read, postgresql2, table:public.policy_notes, select, deny
g, sql-write, sql-read, *
p, sql-write, *, statement, insert, allow
p, sql-write, *, table:public.*, insert, allow
p, sql-write, *, statement, update, allow
p, sql-write, *, table:public.*, update, allow
p, contractor, *, table:public.policy_notes, select, deny
`

function session(legacyName: string, roles: string[]): DelegationSession {
  return {
    identity: {
      subject: `user-${legacyName}`,
      legacyName,
      roles,
      issuer: 'https://idp.test',
      audience: 'sqlgate',
      expiresAt: new Date(Date.now() + 60_000),
    },
  }
}

const reader = session(READER_ROLE, ['sql-read'])
const writer = session(WRITER_ROLE, ['sql-write'])

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<SqlgateError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof SqlgateError, `expected a sqlgate error, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    return error
  }
  assert.fail(`expected ${code}, but the request succeeded`)
}

function deniedObjects(error: SqlgateError): string[] {
  assert.ok(error instanceof AccessDenied)
  return error.denials.map((denial) => denial.object)
}

describe('column rules, domains and row limits on PostgreSQL', () => {
  let database: TestDatabase
  let engine: PolicyEngine
  let first: PostgreSQLDelegationModule
  let second: PostgreSQLDelegationModule

  before(async () => {
    database = await openTestDatabase()
    await database.admin.query(`
      CREATE TABLE IF NOT EXISTS public.policy_users (id int PRIMARY KEY, name text, ssn text);
      CREATE TABLE IF NOT EXISTS public.policy_notes (id int PRIMARY KEY, body text);
      TRUNCATE public.policy_users, public.policy_notes;
      INSERT INTO public.policy_users
        SELECT i, 'user ' || i, '000-00-000' || i FROM generate_series(1, 5) AS i;
      INSERT INTO public.policy_notes VALUES (1, 'first'), (2, 'second');
      GRANT SELECT ON public.policy_users, public.policy_notes TO ${READER_ROLE};
      GRANT SELECT, INSERT, UPDATE ON public.policy_users, public.policy_notes TO ${WRITER_ROLE};
    `)
    engine = await createPolicyEngine({ policy: createPolicySource(MODEL, POLICY) })
    const rowLimits = RowLimits.parse('sql-read, *, 3\nsql-write, postgresql2, 2\n')
    first = new PostgreSQLDelegationModule('postgresql1', { engine, rowLimits })
    second = new PostgreSQLDelegationModule('postgresql2', { engine, rowLimits })
    await first.initialize(database.moduleConfig)
    await second.initialize(database.moduleConfig)
  })

  after(async () => {
    await first.close()
    await second.close()
    await database.close()
  })

  it('allows the columns without rules', async () => {
    const result = await first.delegate(reader, 'query', {
      sql: 'SELECT id, name FROM policy_users WHERE id = $1',
      params: [1],
    })
    assert.deepEqual(result.rows, [{ id: 1, name: 'user 1' }])
  })

  it('denies a column through an alias', async () => {
    const sql = 'SELECT u.ssn AS x FROM policy_users AS u'
    const error = await rejectsWith(first.delegate(reader, 'query', { sql }), 'ERR_ACCESS_DENIED')
    assert.deepEqual(deniedObjects(error), ['column:public.policy_users.ssn'])
  })

  it('denies a column through a CTE', async () => {
    const sql = 'WITH c AS (SELECT ssn AS s FROM policy_users) SELECT s FROM c'
    const error = await rejectsWith(first.delegate(reader, 'query', { sql }), 'ERR_ACCESS_DENIED')
    assert.deepEqual(deniedObjects(error), ['column:public.policy_users.ssn'])
  })

  it('denies SELECT * expanded from the catalog', async () => {
    const sql = 'SELECT * FROM policy_users'
    const error = await rejectsWith(first.delegate(reader, 'query', { sql }), 'ERR_ACCESS_DENIED')
    assert.deepEqual(deniedObjects(error), ['column:public.policy_users.ssn'])
  })

  it('denies a star inside a CTE', async () => {
    const sql = 'WITH c AS (SELECT * FROM policy_users) SELECT name FROM c'
    const error = await rejectsWith(first.delegate(reader, 'query', { sql }), 'ERR_ACCESS_DENIED')
    assert.deepEqual(deniedObjects(error), ['column:public.policy_users.ssn'])
  })

  it('allows SELECT * over a table without rules', async () => {
    const result = await first.delegate(writer, 'query', { sql: 'SELECT * FROM policy_notes' })
    assert.equal(result.rows.length, 2)
  })

  it('denies star when the catalog cannot be read', async () => {
    const stranger = session('sqlgate_no_such_role', ['sql-read'])
    const sql = 'SELECT * FROM policy_users'
    const request = first.delegate(stranger, 'query', { sql })
    const error = await rejectsWith(request, 'ERR_CATALOG_UNAVAILABLE')
    assert.match(error.message, /catalog/)
  })

  it('denies a function in a FROM clause', async () => {
    const sql = 'SELECT * FROM generate_series(1, 3)'
    const error = await rejectsWith(first.delegate(reader, 'query', { sql }), 'ERR_ACCESS_DENIED')
    assert.deepEqual(deniedObjects(error), ['function:generate_series'])
  })

  it('applies per-database rules', async () => {
    const sql = 'SELECT id FROM policy_notes ORDER BY id'
    const allowed = await first.delegate(reader, 'query', { sql })
    assert.equal(allowed.rows.length, 2)
    const error = await rejectsWith(second.delegate(reader, 'query', { sql }), 'ERR_ACCESS_DENIED')
    assert.deepEqual(deniedObjects(error), ['table:public.policy_notes'])
  })

  it('denies when one of several roles denies', async () => {
    const sql = 'SELECT id FROM policy_notes'
    const both = session(WRITER_ROLE, ['sql-write', 'contractor'])
    const error = await rejectsWith(first.delegate(both, 'query', { sql }), 'ERR_ACCESS_DENIED')
    assert.deepEqual(deniedObjects(error), ['table:public.policy_notes'])
    const result = await first.delegate(writer, 'query', { sql })
    assert.equal(result.rows.length, 2)
  })

  it('cuts rows at the role limit', async () => {
    const sql = 'SELECT id FROM policy_users ORDER BY id'
    const limited = await first.delegate(reader, 'query', { sql })
    assert.deepEqual(
      limited.rows.map((row) => row['id']),
      [1, 2, 3],
    )
    assert.equal(limited.truncated, true)
    assert.equal(limited.rowCount, 3)
  })

  it('leaves a result within the limit whole', async () => {
    const sql = 'SELECT id FROM policy_users WHERE id <= 3'
    const result = await first.delegate(reader, 'query', { sql })
    assert.equal(result.rows.length, 3)
    assert.equal(result.truncated, false)
  })

  it('does not limit a role without a limit', async () => {
    const sql = 'SELECT id FROM policy_users'
    const result = await first.delegate(writer, 'query', { sql })
    assert.equal(result.rows.length, 5)
    assert.equal(result.truncated, false)
  })

  it('keeps the connection usable after a limited statement fails', async () => {
    const sql = 'SELECT 1 / (id - 2) AS x FROM policy_users ORDER BY id'
    await rejectsWith(first.delegate(reader, 'query', { sql }), 'ERR_EXECUTION_FAILED')
    const result = await first.delegate(reader, 'query', { sql: 'SELECT id FROM policy_users' })
    assert.equal(result.rows.length, 3)
  })

  it('cuts only the returned rows of an UPDATE', async () => {
    const sql = "UPDATE policy_users SET name = 'renamed ' || id RETURNING id"
    const result = await second.delegate(writer, 'query', { sql })
    assert.equal(result.rows.length, 2)
    assert.equal(result.truncated, true)
    const check = await database.admin.query(
      "SELECT count(*)::int AS n FROM public.policy_users WHERE name LIKE 'renamed %'",
    )
    assert.equal(check.rows[0]?.['n'], 5)
  })
})
