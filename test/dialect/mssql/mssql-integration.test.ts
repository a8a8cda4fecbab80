/**
 * Runs the SQL Server delegation module against a live SQL Server given in MSSQL_URL, for example
 * `mssql://sa:Secret@127.0.0.1:1433/sqlgate_test?encrypt=false&trustServerCertificate=true`.
 * The login in the URL sets up the tables and users and is also the module's service login. It
 * needs to own the database (db_owner) so that it may impersonate the users created here.
 * Setup is idempotent, so the suite can run twice on the same database.
 *
 * The cases mirror the PostgreSQL integration suite.
 */

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import sql from 'mssql'

import { createMssqlFrontEnd } from '../../../src/dialect/mssql/mssql-front-end.js'
import { runImpersonatedBatch } from '../../../src/dialect/mssql/mssql-impersonated-batch.js'
import type { MssqlModuleConfig } from '../../../src/dialect/mssql/mssql-module-config.js'
import { SQLDelegationModule } from '../../../src/dialect/mssql/sql-delegation-module.js'
import { createPolicyEngine } from '../../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../../src/engine/policy-engine.js'
import { AccessDenied, SqlgateError, type ErrorCode } from '../../../src/errors.js'
import type { DelegationSession } from '../../../src/execute/delegation-module.js'
import { DelegationRegistry } from '../../../src/execute/delegation-registry.js'
import type { VerifiedIdentity } from '../../../src/token/verified-identity.js'

const READER = 'sqlgate_reader'
const WRITER = 'sqlgate_writer'
const url = process.env['MSSQL_URL']

function moduleConfig(text: string): MssqlModuleConfig {
  const parsed = new URL(text)
  const flag = (name: string, fallback: boolean): boolean => {
    const value = parsed.searchParams.get(name)
    return value === null ? fallback : value === 'true'
  }
  return {
    server: parsed.hostname,
    port: Number(parsed.port || 1433),
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'master',
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    options: {
      encrypt: flag('encrypt', true),
      trustServerCertificate: flag('trustServerCertificate', false),
    },
    pool: { max: 4 },
  }
}

const SETUP = [
  `IF USER_ID('${READER}') IS NULL CREATE USER ${READER} WITHOUT LOGIN`,
  `IF USER_ID('${WRITER}') IS NULL CREATE USER ${WRITER} WITHOUT LOGIN`,
  `IF OBJECT_ID('dbo.sqlgate_accounts') IS NULL
     CREATE TABLE dbo.sqlgate_accounts (id int PRIMARY KEY, balance money NOT NULL)`,
  `IF OBJECT_ID('dbo.sqlgate_salaries') IS NULL
     CREATE TABLE dbo.sqlgate_salaries (id int PRIMARY KEY, amount money NOT NULL)`,
  `IF OBJECT_ID('dbo.sqlgate_audit_trail') IS NULL
     CREATE TABLE dbo.sqlgate_audit_trail (id int IDENTITY PRIMARY KEY, note nvarchar(200) NOT NULL)`,
  `DELETE FROM dbo.sqlgate_accounts`,
  `INSERT INTO dbo.sqlgate_accounts (id, balance) VALUES (1, 10), (2, 20), (3, 30)`,
  `GRANT SELECT ON dbo.sqlgate_accounts TO ${READER}`,
  `GRANT SELECT ON dbo.sqlgate_accounts TO ${WRITER}`,
  `GRANT SELECT, INSERT ON dbo.sqlgate_audit_trail TO ${WRITER}`,
]

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

const reader: DelegationSession = { identity: identity(READER, ['sql-read']) }
const writer: DelegationSession = { identity: identity(WRITER, ['sql-write']) }

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

describe('SQL Server delegation', { skip: url ? false : 'MSSQL_URL is not set' }, () => {
  let config: MssqlModuleConfig
  let admin: sql.ConnectionPool
  let engine: PolicyEngine
  let module: SQLDelegationModule
  let requests = 0

  before(async () => {
    config = moduleConfig(url as string)
    admin = new sql.ConnectionPool({
      server: config.server,
      port: config.port ?? 1433,
      database: config.database,
      user: config.user ?? '',
      password: config.password ?? '',
      options: {
        encrypt: config.options?.encrypt ?? true,
        trustServerCertificate: config.options?.trustServerCertificate ?? false,
      },
    })
    await admin.connect()
    for (const statement of SETUP) await admin.request().batch(statement)

    engine = await createPolicyEngine({ frontEnds: { mssql: createMssqlFrontEnd() } })
    module = new SQLDelegationModule('mssql1', {
      engine,
      createPool: (poolConfig) => {
        const pool = new sql.ConnectionPool(poolConfig)
        // node-mssql emits no event per borrowed connection, so count calls to acquire.
        const counted = pool as unknown as { acquire: (...args: unknown[]) => unknown }
        const acquire = counted.acquire.bind(pool)
        counted.acquire = (...args: unknown[]) => {
          requests += 1
          return acquire(...args)
        }
        return pool
      },
    })
    await module.initialize(config)
  })

  after(async () => {
    await module?.close()
    await admin?.close()
  })

  it('sql-read gets rows of a granted table', async () => {
    const result = await module.delegate(reader, 'query', {
      sql: 'SELECT id, balance FROM dbo.sqlgate_accounts WHERE id <= @maxId ORDER BY id',
      params: { maxId: 2 },
    })
    assert.deepEqual(
      result.rows.map((row) => row['id']),
      [1, 2],
    )
    assert.deepEqual(result.fields, ['id', 'balance'])
  })

  it('runs under the impersonated user', async () => {
    const result = await module.delegate(reader, 'query', { sql: 'SELECT USER_NAME() AS who' })
    assert.equal(result.rows[0]?.['who'], READER)
  })

  const denied: readonly { sql: string; object: string }[] = [
    { sql: 'DELETE FROM dbo.sqlgate_accounts WHERE id = 1', object: 'table:dbo.sqlgate_accounts' },
    { sql: 'SELECT * INTO dbo.sqlgate_copy FROM dbo.sqlgate_accounts', object: 'table:dbo.sqlgate_copy' },
    { sql: "EXEC('DELETE FROM dbo.sqlgate_accounts')", object: 'floor:dynamic-sql' },
    { sql: 'REVERT; SELECT amount FROM dbo.sqlgate_salaries', object: 'floor:identity-change' },
    { sql: 'SELECT id FROM dbo.sqlgate_accounts REVERT', object: 'floor:identity-change' },
    { sql: "EXECUTE AS USER = 'dbo'", object: 'floor:identity-change' },
    { sql: "SELECT '\\'; DELETE FROM dbo.sqlgate_accounts; --'", object: 'floor:multiple-statements' },
    { sql: "SELECT 1\nWAITFOR DELAY '00:00:05'", object: 'floor:denial-of-service' },
    { sql: "SELECT * FROM OPENQUERY(srv, 'SELECT 1')", object: 'floor:remote-access' },
  ]
  for (const { sql: text, object } of denied) {
    it(`sql-read is denied: ${text.replace(/\n/g, ' ')}`, async () => {
      const before = requests
      const error = await rejectsWith(module.delegate(reader, 'query', { sql: text }), 'ERR_ACCESS_DENIED')
      assert.ok(error instanceof AccessDenied)
      assert.ok(
        error.denials.some((denial) => denial.object === object),
        JSON.stringify(error.denials),
      )
      assert.equal(requests, before, 'a denied request took a connection')
    })
  }

  it('database refuses a table the policy allows', async () => {
    const error = await rejectsWith(
      module.delegate(reader, 'query', { sql: 'SELECT amount FROM dbo.sqlgate_salaries' }),
      'ERR_EXECUTION_FAILED',
    )
    // 229: the SELECT permission was denied on the object.
    assert.equal((error as { sqlState?: string }).sqlState, '229')
  })

  it('sql-write inserts and reads back with OUTPUT', async () => {
    const result = await module.delegate(writer, 'query', {
      sql: 'INSERT INTO dbo.sqlgate_audit_trail (note) OUTPUT INSERTED.note VALUES (@note)',
      params: { note: 'written by writer' },
    })
    assert.equal(result.rows[0]?.['note'], 'written by writer')
  })

  it('read statements run inside the pinned transaction', async () => {
    const result = await module.delegate(reader, 'query', { sql: 'SELECT @@TRANCOUNT AS depth' })
    assert.equal(result.rows[0]?.['depth'], 1)
  })

  it('parse errors deny with a typed error', async () => {
    const before = requests
    await rejectsWith(module.delegate(reader, 'query', { sql: 'SELEC 1' }), 'ERR_SQL_PARSE_FAILED')
    assert.equal(requests, before)
  })

  it('schema action lists visible tables', async () => {
    const result = await module.delegate(reader, 'schema', { schemaName: 'dbo' })
    const names = result.rows.map((row) => row['table_name'])
    assert.ok(names.includes('sqlgate_accounts'), JSON.stringify(names))
    assert.ok(!names.includes('sqlgate_salaries'), 'the reader has no permission on salaries')
  })

  it('table-details action lists columns', async () => {
    const result = await module.delegate(reader, 'table-details', {
      schemaName: 'dbo',
      tableName: 'sqlgate_accounts',
    })
    assert.deepEqual(
      result.rows.map((row) => row['column_name']),
      ['id', 'balance'],
    )
  })

  it('a smuggled REVERT fails on the server', async () => {
    const outcome = await runImpersonatedBatch(module.pool, {
      user: READER,
      statement: 'REVERT; SELECT amount FROM dbo.sqlgate_salaries',
      parameters: [],
      readOnly: true,
    }).catch((error: unknown) => error)

    assert.ok(outcome instanceof SqlgateError, `the batch succeeded: ${JSON.stringify(outcome)}`)
    assert.ok(['ERR_EXECUTION_FAILED', 'ERR_IMPERSONATION_FAILED'].includes(outcome.code))
  })

  it('failed impersonation never runs the statement', async () => {
    const ghost: DelegationSession = { identity: identity('sqlgate_no_such_user', ['sql-write']) }
    await rejectsWith(
      module.delegate(ghost, 'query', {
        sql: 'INSERT INTO dbo.sqlgate_audit_trail (note) VALUES (@note)',
        params: { note: 'ghost' },
      }),
      'ERR_IMPERSONATION_FAILED',
    )
    const count = await admin
      .request()
      .query("SELECT COUNT(*) AS n FROM dbo.sqlgate_audit_trail WHERE note = 'ghost'")
    assert.equal(count.recordset[0]?.n, 0)
  })

  it('pooled connections are clean after mixed traffic', async () => {
    const texts = [
      'SELECT COUNT(*) AS n FROM dbo.sqlgate_accounts',
      'SELECT 1 / 0 AS boom',
      'SELECT amount FROM dbo.sqlgate_salaries',
      'DELETE FROM dbo.sqlgate_accounts',
    ]
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        module
          .delegate(reader, 'query', { sql: texts[index % texts.length] as string })
          .catch((error: unknown) => error),
      ),
    )
    assert.equal(outcomes.filter((outcome) => outcome instanceof Error).length, 30)

    const state = await module.pool
      .request()
      .query('SELECT USER_NAME() AS who, @@TRANCOUNT AS depth')
    assert.notEqual(state.recordset[0]?.who, READER)
    assert.equal(state.recordset[0]?.depth, 0)
  })

  it('registry routes to named modules', async () => {
    const registry = new DelegationRegistry().register(module)
    const result = await registry.delegate('mssql1', reader, 'query', { sql: 'SELECT 1 AS one' })
    assert.equal(result.rows[0]?.['one'], 1)
  })
})
