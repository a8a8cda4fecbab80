/**
 * Bypass attempts against the PostgreSQL path under the shipped policy: statements that sqlgate
 * should deny because they write, change identity or session state, or run SQL from a string.
 * The engine tests need no database. The database tests run against `openTestDatabase()` with a
 * pool of one connection, so the state a request leaves behind is visible to the next request.
 */

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'

import type { Decision } from '../../src/authorize/decision.js'
import {
  PostgreSQLDelegationModule,
} from '../../src/dialect/postgres/postgres-delegation-module.js'
import {
  createPolicyEngine,
  DEFAULT_POLICY_DIRECTORY,
} from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import { SqlgateError } from '../../src/errors.js'
import type { DelegationSession } from '../../src/execute/delegation-module.js'
import { createPolicySource } from '../../src/policy/policy-source.js'
import type { VerifiedIdentity } from '../../src/token/verified-identity.js'
import { readAttackCases } from '../support/attack-cases.js'
import {
  openTestDatabase,
  READER_ROLE,
  WRITER_ROLE,
  type TestDatabase,
} from '../support/test-database.js'

/** Error codes that mean the request was stopped before it reached the database. */
const DENIAL_CODES = new Set(['ERR_ACCESS_DENIED', 'ERR_SQL_PARSE_FAILED', 'ERR_SQL_UNSUPPORTED'])

function floorDenials(decision: Decision): string[] {
  return decision.denials
    .filter((denial) => denial.object.startsWith('floor:'))
    .map((denial) => denial.object)
}

function identity(legacyName: string, roles: string[]): VerifiedIdentity {
  return {
    subject: `user-${legacyName}`,
    legacyName,
    roles,
    issuer: 'https://idp.test',
    audience: 'sqlgate',
    expiresAt: new Date(Date.now() + 60_000),
  }
}

describe('PostgreSQL bypasses in the engine', () => {
  let engine: PolicyEngine
  const check = (roles: string[], sql: string): Decision =>
    engine.check({ dialect: 'postgres', roles, sql })

  before(async () => {
    engine = await createPolicyEngine()
  })

  // The pg_settings view has an UPDATE rule that calls set_config(name, value, false), so an
  // allowed UPDATE of it changes a setting for the rest of the pooled session.
  const settingsWrites = [
    "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
    "UPDATE pg_catalog.pg_settings SET setting = '0' WHERE name = 'statement_timeout'",
    'UPDATE "pg_catalog"."pg_settings" SET setting = \'1MB\' WHERE name = \'work_mem\'',
    'UPDATE PG_CATALOG.PG_SETTINGS SET setting = \'1MB\' WHERE name = \'work_mem\'',
    "WITH s AS (UPDATE pg_settings SET setting = '1MB' WHERE name = 'work_mem' RETURNING name) " +
      'SELECT * FROM s',
    "EXPLAIN ANALYZE UPDATE pg_settings SET setting = '1MB' WHERE name = 'work_mem'",
  ]
  for (const sql of settingsWrites) {
    it(`pg_settings write is session state: ${sql.slice(0, 60)}`, () => {
      const decision = check(['sql-write'], sql)
      assert.equal(decision.allowed, false)
      const floor = floorDenials(decision)
      assert.ok(floor.includes('floor:session-state'), JSON.stringify(decision.denials))
    })
  }

  it('pg_settings read stays allowed', () => {
    const decision = check(['sql-read'], "SELECT setting FROM pg_settings WHERE name = 'work_mem'")
    assert.equal(decision.allowed, true, JSON.stringify(decision.denials))
  })

  // An object created in pg_temp outlives the request on the pooled connection, and a temporary
  // table is searched before the search_path, so it shadows a real table for later users.
  const temporaryObjects = [
    'CREATE TABLE pg_temp.accounts (id int, balance numeric)',
    'CREATE TABLE pg_temp_3.notes (id int)',
    'CREATE TABLE pg_temp.copy AS SELECT * FROM accounts',
    'SELECT * INTO pg_temp.copy FROM accounts',
    'CREATE VIEW pg_temp.accounts AS SELECT 1 AS id, 0 AS balance',
    'CREATE SEQUENCE pg_temp.counter',
    "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    'CREATE INDEX ON pg_temp.accounts (id)',
    'CREATE TEMP VIEW accounts AS SELECT 1 AS id, 0 AS balance',
    'CREATE TEMPORARY SEQUENCE counter',
  ]
  for (const sql of temporaryObjects) {
    it(`pg_temp object is session state: ${sql.slice(0, 60)}`, () => {
      const decision = check(['admin'], sql)
      assert.equal(decision.allowed, false)
      const floor = floorDenials(decision)
      assert.ok(floor.includes('floor:session-state'), JSON.stringify(decision.denials))
    })
  }

  it('plain CREATE TABLE stays allowed for sql-admin', () => {
    const decision = check(['sql-admin'], 'CREATE TABLE public.notes (id int)')
    assert.equal(decision.allowed, true, JSON.stringify(decision.denials))
  })

  // tablefunc and xml2 run queries given or assembled as text, like query_to_xml.
  const queryTextFunctions = [
    "SELECT * FROM crosstab('SELECT 1, 2, 3') AS t(a int, b int)",
    "SELECT * FROM crosstab2('SELECT 1, 2, 3')",
    "SELECT * FROM public.crosstab('SELECT 1, 2, 3', 'SELECT 1') AS t(a int, b int)",
    "SELECT * FROM connectby('accounts', 'id', 'id', '1', 0) AS t(a int, b int, c int)",
    "SELECT * FROM xpath_table('id', 'doc', 'accounts', '/a', 'true') AS t(id int, a text)",
  ]
  for (const sql of queryTextFunctions) {
    it(`query-text function is dynamic SQL: ${sql.slice(0, 50)}`, () => {
      const decision = check(['sql-read'], sql)
      assert.equal(decision.allowed, false)
      const floor = floorDenials(decision)
      assert.ok(floor.includes('floor:dynamic-sql'), JSON.stringify(decision.denials))
    })
  }

  // pg_read_file_old is the pre-11 signature that PostgreSQL 15 still has in pg_catalog.
  it('pg_read_file_old reads server files', () => {
    const decision = check(['sql-read'], "SELECT pg_read_file_old('postgresql.conf', 0, 100)")
    assert.equal(decision.allowed, false)
    const floor = floorDenials(decision)
    assert.ok(floor.includes('floor:server-files'), JSON.stringify(decision.denials))
  })

  // An operator, aggregate, cast or trigger calls its function later for each caller, so a
  // floor function behind one would run for callers whose SQL never names it.
  const storedCallees = [
    'CREATE OPERATOR s.#@ (LEFTARG = integer, RIGHTARG = integer, ' +
      'FUNCTION = pg_catalog.pg_advisory_lock)',
    'CREATE OPERATOR #@ (RIGHTARG = text, PROCEDURE = pg_read_file)',
    'CREATE AGGREGATE s.locks (int) (SFUNC = pg_advisory_lock, STYPE = int)',
    'CREATE CAST (int AS text) WITH FUNCTION pg_catalog.pg_advisory_lock(int)',
    'CREATE TRIGGER t BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION pg_read_file()',
    'CREATE OPERATOR CLASS c FOR TYPE int USING btree AS FUNCTION 1 pg_advisory_lock(int, int)',
  ]
  for (const sql of storedCallees) {
    it(`stored call of a floor function: ${sql.slice(0, 45)}`, () => {
      const decision = check(['admin'], sql)
      assert.equal(decision.allowed, false)
      assert.ok(floorDenials(decision).length > 0, JSON.stringify(decision.denials))
    })
  }

  it('operator over an ordinary function stays allowed', () => {
    const sql = 'CREATE OPERATOR s.#@ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = int4pl)'
    const decision = check(['admin'], sql)
    assert.equal(decision.allowed, true, JSON.stringify(decision.denials))
  })

  it('CALL is checked against function lines', async () => {
    const model = readFileSync(new URL('model.conf', `file://${DEFAULT_POLICY_DIRECTORY}`), 'utf8')
    const policy =
      readFileSync(new URL('policy.csv', `file://${DEFAULT_POLICY_DIRECTORY}`), 'utf8') +
      '\np, sql-write, *, function:purge_accounts, execute, deny\n'
    const strict = await createPolicyEngine({ policy: createPolicySource(model, policy, 'test') })

    const decision = strict.check({
      dialect: 'postgres',
      roles: ['sql-write'],
      sql: 'CALL purge_accounts(1)',
    })
    assert.equal(decision.allowed, false)
    const denial = decision.denials.find((item) => item.object === 'function:purge_accounts')
    assert.ok(denial, JSON.stringify(decision.denials))
  })

  it('CALL names its procedure in the facts', () => {
    const facts = engine.analyze('postgres', 'CALL public.purge_accounts(1)')
    const functions = facts.statements[0]?.functions ?? []
    assert.ok(
      functions.some((fn) => fn.schema === 'public' && fn.name === 'purge_accounts'),
      JSON.stringify(functions),
    )
  })

  // PostgreSQL pushes FOR UPDATE and FOR SHARE down into the FROM list of a sub-query.
  const subqueryLocks = [
    'SELECT * FROM (SELECT * FROM accounts) s FOR UPDATE',
    'SELECT * FROM (SELECT * FROM accounts) s FOR UPDATE OF s',
    'SELECT * FROM (SELECT * FROM (SELECT * FROM accounts) i) s FOR SHARE',
    'SELECT * FROM (SELECT a.id FROM accounts a JOIN salaries b USING (id)) s FOR KEY SHARE OF s',
    'SELECT * FROM salaries x, LATERAL (SELECT * FROM accounts WHERE id = x.id) s ' +
      'FOR NO KEY UPDATE OF s',
  ]
  for (const sql of subqueryLocks) {
    it(`row lock reaches into a sub-query: ${sql.slice(0, 60)}`, () => {
      const decision = check(['sql-read'], sql)
      assert.equal(decision.allowed, false)
      const lock = decision.denials.find(
        (denial) => denial.object === 'table:public.accounts' && denial.action === 'lock',
      )
      assert.ok(lock, JSON.stringify(decision.denials))
    })
  }

  it('FOR UPDATE OF one alias leaves other sub-queries unlocked', () => {
    const facts = engine.analyze(
      'postgres',
      'SELECT * FROM (SELECT * FROM accounts) a, (SELECT * FROM salaries) b FOR UPDATE OF b',
    )
    const locked = (facts.statements[0]?.tables ?? [])
      .filter((table) => table.action === 'lock')
      .map((table) => table.name)
    assert.deepEqual(locked, ['salaries'])
  })

  // A cache key that joined role names with "\n" gave the role "admin\nsql-read" the cached
  // decision of the two roles admin and sql-read.
  it('role names with a newline get their own decision', () => {
    const sql = 'DROP TABLE accounts'
    assert.equal(check(['admin', 'sql-read'], sql).allowed, true)
    assert.equal(check(['admin\nsql-read'], sql).allowed, false)
  })

  // PostgreSQL reads an unqualified name from pg_catalog only when the relation exists there,
  // so `pg_secrets` is public.pg_secrets when pg_catalog has no such relation.
  it('unqualified pg_ table keeps its deny line', async () => {
    const model = readFileSync(new URL('model.conf', `file://${DEFAULT_POLICY_DIRECTORY}`), 'utf8')
    const policy =
      readFileSync(new URL('policy.csv', `file://${DEFAULT_POLICY_DIRECTORY}`), 'utf8') +
      '\np, sql-read, *, table:public.pg_secrets, select, deny\n'
    const strict = await createPolicyEngine({ policy: createPolicySource(model, policy, 'test') })

    const qualified = strict.check({
      dialect: 'postgres',
      roles: ['sql-read'],
      sql: 'SELECT * FROM public.pg_secrets',
    })
    assert.equal(qualified.allowed, false)
    const unqualified = strict.check({
      dialect: 'postgres',
      roles: ['sql-read'],
      sql: 'SELECT * FROM pg_secrets',
    })
    assert.equal(unqualified.allowed, false, JSON.stringify(unqualified.grants))
  })

  // A default set for the database or a role applies to every new pooled connection, and
  // standard_conforming_strings decides how the server reads string literals.
  const settingDefaults = [
    'ALTER DATABASE test SET standard_conforming_strings = off',
    'ALTER ROLE sqlgate_service SET standard_conforming_strings = off',
    'ALTER ROLE ALL IN DATABASE test SET backslash_quote = on',
    "ALTER DATABASE test SET role = 'sqlgate_writer'",
  ]
  for (const sql of settingDefaults) {
    it(`setting default is denied: ${sql.slice(0, 50)}`, () => {
      const decision = check(['admin'], sql)
      assert.equal(decision.allowed, false)
    })
  }

  // libpg-query reads the text as a C string, so it stops at the first NUL character.
  it('NUL character ends no analysis early', () => {
    const decision = check(['sql-read'], 'SELECT 1 AS a\u0000; DELETE FROM accounts')
    assert.equal(decision.allowed, false)
  })

  // String.prototype.trim also removes Unicode spaces such as U+00A0 and U+3000, which the token
  // claim check accepts inside role names.
  it('role names padded with spaces are not admin', () => {
    for (const role of [' admin', 'admin\u00a0', 'admin\u3000']) {
      const decision = check([role], 'DROP TABLE accounts')
      assert.equal(decision.allowed, false, JSON.stringify(role))
    }
  })

  // A sleeping request keeps a pooled connection busy, and statement_timeout may be 0.
  it('pg_sleep is a denial of service', () => {
    for (const sql of ['SELECT pg_sleep(600)', "SELECT pg_sleep_for('10 min')"]) {
      const decision = check(['sql-read'], sql)
      assert.ok(floorDenials(decision).includes('floor:denial-of-service'), sql)
    }
  })
})

describe('PostgreSQL bypasses against the database', () => {
  let database: TestDatabase
  let engine: PolicyEngine
  let module: PostgreSQLDelegationModule
  const reader: DelegationSession = { identity: identity(READER_ROLE, ['sql-read']) }
  const writer: DelegationSession = { identity: identity(WRITER_ROLE, ['sql-write']) }
  const schemaAdmin: DelegationSession = { identity: identity(WRITER_ROLE, ['sql-admin']) }

  /** Runs SQL on the module's only pooled connection, outside any request. */
  async function onPooledConnection(sql: string): Promise<Record<string, unknown>[]> {
    const client = await module.pool.connect()
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[]
    } finally {
      client.release()
    }
  }

  async function expectStopped(promise: Promise<unknown>): Promise<SqlgateError> {
    try {
      await promise
    } catch (error) {
      assert.ok(error instanceof SqlgateError, `expected a sqlgate error, got ${String(error)}`)
      assert.ok(DENIAL_CODES.has(error.code), `${error.code}: ${error.message}`)
      return error
    }
    assert.fail('the request ran')
  }

  before(async () => {
    database = await openTestDatabase()
    engine = await createPolicyEngine()
    module = new PostgreSQLDelegationModule('redteam', { engine })
    await module.initialize({ ...database.moduleConfig, pool: { max: 1 } })
  })

  after(async () => {
    await module.close()
    await database.close()
  })

  for (const attack of readAttackCases().filter((item) => item.dialect === 'postgresql')) {
    const outcome = attack.expected === 'allow' ? 'run' : 'stopped'
    it(`attack case ${attack.id} is ${outcome}`, async () => {
      const session = attack.role === 'sql-read' ? reader : writer
      const request = module.delegate(session, 'query', { sql: attack.sql })
      if (attack.expected === 'allow') {
        const result = await request
        assert.equal(result.decision.allowed, true)
      } else {
        await expectStopped(request)
      }
      const [state] = await onPooledConnection('SELECT current_user AS who')
      assert.equal(state?.['who'], database.serviceLogin)
    })
  }

  it('writer cannot set statement_timeout through pg_settings', async () => {
    try {
      await expectStopped(
        module.delegate(writer, 'query', {
          sql: "UPDATE pg_settings SET setting = '0' WHERE name = 'statement_timeout'",
        }),
      )
      const [state] = await onPooledConnection(
        "SELECT source FROM pg_settings WHERE name = 'statement_timeout'",
      )
      assert.notEqual(state?.['source'], 'session')
    } finally {
      await onPooledConnection('RESET statement_timeout')
    }
  })

  it('temporary table cannot shadow a table for the next user', async () => {
    try {
      await expectStopped(
        module.delegate(schemaAdmin, 'query', {
          sql: 'CREATE TABLE pg_temp.accounts (id int, balance numeric)',
        }),
      )
      const result = await module.delegate(reader, 'query', {
        sql: 'SELECT count(*) AS n FROM accounts',
      })
      assert.equal(Number(result.rows[0]?.['n']), 3)
    } finally {
      await onPooledConnection('DROP TABLE IF EXISTS pg_temp.accounts')
    }
  })

  // The front end parses with standard_conforming_strings on. When the server has it off (set
  // for the database or the login, or left on the connection), `'\'` no longer ends a string
  // there, so text that sqlgate reads as a literal runs as code.
  it('backslash strings cannot hide a role switch', async () => {
    const sql =
      "SELECT '\\' AS a, ' , set_config($$role$$, $$" + WRITER_ROLE + "$$, false) AS b --'"
    assert.equal(engine.check({ dialect: 'postgres', roles: ['sql-read'], sql }).allowed, true)
    try {
      await onPooledConnection('SET standard_conforming_strings = off')
      await module.delegate(reader, 'query', { sql }).catch(() => undefined)
      const [state] = await onPooledConnection('SELECT current_user AS who')
      assert.equal(state?.['who'], database.serviceLogin)
    } finally {
      await onPooledConnection('RESET ROLE; RESET standard_conforming_strings')
    }
  })

  // A function body given as a string is stored unparsed and runs later as the calling role.
  it('function body cannot switch the role', async () => {
    await database.admin.query(
      `CREATE SCHEMA IF NOT EXISTS redteam_scratch; ` +
        `GRANT USAGE, CREATE ON SCHEMA redteam_scratch TO ${WRITER_ROLE}`,
    )
    const create =
      'CREATE OR REPLACE FUNCTION redteam_scratch.switch_role() RETURNS text ' +
      "LANGUAGE plpgsql AS $$ BEGIN PERFORM set_config('role', '" +
      READER_ROLE +
      "', false); RETURN current_user; END $$"
    try {
      await module.delegate(schemaAdmin, 'query', { sql: create }).catch(() => undefined)
      await module
        .delegate(schemaAdmin, 'query', { sql: 'SELECT redteam_scratch.switch_role()' })
        .catch(() => undefined)
      const [state] = await onPooledConnection('SELECT current_user AS who')
      assert.equal(state?.['who'], database.serviceLogin)
    } finally {
      await onPooledConnection('RESET ROLE')
      await database.admin.query('DROP FUNCTION IF EXISTS redteam_scratch.switch_role()')
    }
  })

  // pg_stats shows a column's common values and histogram to any role that may read the column,
  // which a column deny line does not change.
  it('column deny line hides pg_stats values', async () => {
    await database.admin.query(`
      CREATE SCHEMA IF NOT EXISTS redteam_scratch;
      GRANT USAGE ON SCHEMA redteam_scratch TO ${READER_ROLE};
      CREATE TABLE IF NOT EXISTS redteam_scratch.payroll (id int, amount int);
      TRUNCATE redteam_scratch.payroll;
      INSERT INTO redteam_scratch.payroll SELECT g, 4242 FROM generate_series(1, 50) g;
      GRANT SELECT ON redteam_scratch.payroll TO ${READER_ROLE};
      ANALYZE redteam_scratch.payroll;
    `)
    const model = readFileSync(new URL('model.conf', `file://${DEFAULT_POLICY_DIRECTORY}`), 'utf8')
    const policy =
      readFileSync(new URL('policy.csv', `file://${DEFAULT_POLICY_DIRECTORY}`), 'utf8') +
      '\np, sql-read, *, column:redteam_scratch.payroll.amount, select, deny\n'
    const strict = await createPolicyEngine({ policy: createPolicySource(model, policy, 'test') })
    const guarded = new PostgreSQLDelegationModule('redteam-columns', { engine: strict })
    await guarded.initialize({ ...database.moduleConfig, pool: { max: 1 } })
    try {
      const direct = guarded.delegate(reader, 'query', {
        sql: 'SELECT amount FROM redteam_scratch.payroll',
      })
      await expectStopped(direct)

      const statistics = await guarded
        .delegate(reader, 'query', {
          sql:
            'SELECT most_common_vals::text AS values FROM pg_stats ' +
            "WHERE schemaname = 'redteam_scratch' AND tablename = 'payroll' AND attname = 'amount'",
        })
        .catch(() => undefined)
      assert.doesNotMatch(String(statistics?.rows[0]?.['values'] ?? ''), /4242/)
    } finally {
      await guarded.close()
    }
  })

  // With several search_path schemas, PostgreSQL reads an unqualified table from the first
  // schema that has it, which need not be the first schema of the list.
  it('deny line holds with a second search_path schema', async () => {
    await database.admin.query(
      `CREATE SCHEMA IF NOT EXISTS redteam_scratch; ` +
        `GRANT USAGE ON SCHEMA redteam_scratch TO ${READER_ROLE}`,
    )
    const model = readFileSync(new URL('model.conf', `file://${DEFAULT_POLICY_DIRECTORY}`), 'utf8')
    const policy =
      readFileSync(new URL('policy.csv', `file://${DEFAULT_POLICY_DIRECTORY}`), 'utf8') +
      '\np, sql-read, *, table:public.accounts, select, deny\n'
    const strict = await createPolicyEngine({ policy: createPolicySource(model, policy, 'test') })
    const searching = new PostgreSQLDelegationModule('redteam-search-path', { engine: strict })
    await searching.initialize({
      ...database.moduleConfig,
      pool: { max: 1 },
      options: { searchPath: ['redteam_scratch', 'public'] },
    })
    try {
      await expectStopped(searching.delegate(reader, 'query', { sql: 'SELECT * FROM accounts' }))
    } finally {
      await searching.close()
    }
  })

  it('operator cannot leave an advisory lock behind', async () => {
    await database.admin.query(
      `CREATE SCHEMA IF NOT EXISTS redteam_scratch; ` +
        `GRANT USAGE, CREATE ON SCHEMA redteam_scratch TO ${WRITER_ROLE}; ` +
        `GRANT USAGE ON SCHEMA redteam_scratch TO ${READER_ROLE}`,
    )
    try {
      await expectStopped(
        module.delegate(schemaAdmin, 'query', {
          sql:
            'CREATE OPERATOR redteam_scratch.#@ (LEFTARG = integer, RIGHTARG = integer, ' +
            'FUNCTION = pg_catalog.pg_advisory_lock)',
        }),
      )
      await module
        .delegate(reader, 'query', { sql: 'SELECT 1 OPERATOR(redteam_scratch.#@) 2' })
        .catch(() => undefined)
      const [state] = await onPooledConnection(
        "SELECT count(*)::int AS locks FROM pg_locks WHERE locktype = 'advisory' " +
          'AND pid = pg_backend_pid()',
      )
      assert.equal(state?.['locks'], 0)
    } finally {
      await onPooledConnection('SELECT pg_advisory_unlock_all()')
      await database.admin.query('DROP OPERATOR IF EXISTS redteam_scratch.#@ (integer, integer)')
    }
  })

  // Named prepared statements stay on the connection, and pg_prepared_statements lists their
  // texts to whichever role the next request runs as.
  it('prepared statements hide earlier texts', async () => {
    const prepared = new PostgreSQLDelegationModule('redteam-prepared', { engine })
    await prepared.initialize({
      ...database.moduleConfig,
      pool: { max: 1 },
      options: { preparedStatements: true },
    })
    try {
      await prepared.delegate(writer, 'query', {
        sql: 'SELECT id FROM accounts WHERE balance > 99 -- private note',
      })
      for (const sql of [
        'SELECT statement FROM pg_prepared_statements',
        'SELECT statement FROM pg_catalog.pg_prepared_statement()',
      ]) {
        const error = await expectStopped(prepared.delegate(reader, 'query', { sql }))
        assert.doesNotMatch(error.message, /private note/)
      }
    } finally {
      await prepared.close()
    }
  })

  // Building the opening message throws for a role name over 63 bytes, before any query runs.
  it('pipeline mode releases the client after a bad role name', async () => {
    const pipelined = new PostgreSQLDelegationModule('redteam-pipeline', { engine })
    await pipelined.initialize({
      ...database.moduleConfig,
      pool: { max: 1, connectionTimeoutMillis: 1_000 },
      options: { pipeline: true },
    })
    const acquired: { release(destroy?: boolean): void }[] = []
    pipelined.pool.on('acquire', (client) => acquired.push(client))
    try {
      const tooLong: DelegationSession = { identity: identity('r'.repeat(64), ['sql-read']) }
      await assert.rejects(pipelined.delegate(tooLong, 'query', { sql: 'SELECT 1' }), TypeError)
      const result = await pipelined.delegate(reader, 'query', { sql: 'SELECT 1 AS one' })
      assert.equal(result.rows[0]?.['one'], 1)
    } finally {
      // pool.end() waits for every checked-out client, so destroy any that was never released.
      for (const client of acquired) {
        try {
          client.release(true)
        } catch {
          // Released already.
        }
      }
      await pipelined.close()
    }
  })

  // node-postgres decodes each text value into one string, and V8 strings stop at 2^29 - 24
  // code units, so a larger value throws inside the socket's data handler.
  it('oversized value fails only its request', {
    skip:
      process.env['SQLGATE_SLOW_TESTS'] === '1' && (process.env['DATABASE_URL'] ?? '') !== ''
        ? false
        : 'set SQLGATE_SLOW_TESTS=1 and DATABASE_URL to run it: it moves about 540 MB',
    todo: 'node-postgres throws an uncaught RangeError while parsing the row, which ends the ' +
      'whole process and every other request with it',
  }, async () => {
    const isolated = new PostgreSQLDelegationModule('redteam-oversized', { engine })
    await isolated.initialize({ ...database.moduleConfig, pool: { max: 1 } })
    const acquired: { release(destroy?: boolean): void }[] = []
    isolated.pool.on('acquire', (client) => acquired.push(client))
    let uncaught: unknown
    const listener = (error: unknown): void => {
      uncaught = error
    }
    process.prependListener('uncaughtException', listener)
    try {
      const request = isolated.delegate(reader, 'query', {
        sql: "SELECT repeat('x', 540000000) AS big",
      })
      await Promise.race([
        request.catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 30_000)),
      ])
      assert.equal(uncaught, undefined, String(uncaught))
    } finally {
      process.removeListener('uncaughtException', listener)
      // A client whose parser threw never finishes its query, so destroy it before closing.
      for (const client of acquired) {
        try {
          client.release(true)
        } catch {
          // Released already.
        }
      }
      await isolated.close()
    }
  })
})
