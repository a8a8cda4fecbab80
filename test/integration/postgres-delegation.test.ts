import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'

import {
  PostgreSQLDelegationModule,
  type PostgreSQLModuleConfig,
} from '../../src/dialect/postgres/postgres-delegation-module.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import {
  AccessDenied,
  ExecutionFailed,
  SqlgateError,
  type ErrorCode,
} from '../../src/errors.js'
import type { DelegationSession } from '../../src/execute/delegation-module.js'
import { DelegationRegistry } from '../../src/execute/delegation-registry.js'
import { runImpersonatedQuery } from '../../src/dialect/postgres/postgres-impersonated-query.js'
import { createPolicySource } from '../../src/policy/policy-source.js'
import type { VerifiedIdentity } from '../../src/token/verified-identity.js'
import { readFileSync } from 'node:fs'
import { openTestDatabase, READER_ROLE, WRITER_ROLE, type TestDatabase } from '../support/test-database.js'

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

const reader: DelegationSession = { identity: identity(READER_ROLE, ['sql-read']) }
const writer: DelegationSession = { identity: identity(WRITER_ROLE, ['sql-write']) }

/** A module plus a count of connections it took from its pool. */
interface CountedModule {
  readonly module: PostgreSQLDelegationModule
  acquired: number
}

async function createModule(
  database: TestDatabase,
  engine: PolicyEngine,
  name: string,
  extra: Partial<PostgreSQLModuleConfig> = {},
): Promise<CountedModule> {
  const module = new PostgreSQLDelegationModule(name, { engine })
  await module.initialize({ ...database.moduleConfig, ...extra })
  const counted: CountedModule = { module, acquired: 0 }
  module.pool.on('acquire', () => {
    counted.acquired += 1
  })
  return counted
}

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

describe('PostgreSQL delegation', () => {
  let database: TestDatabase
  let engine: PolicyEngine
  let main: CountedModule

  before(async () => {
    database = await openTestDatabase()
    engine = await createPolicyEngine()
    main = await createModule(database, engine, 'postgresql1')
  })

  after(async () => {
    await main.module.close()
    await database.close()
  })

  it('sql-read gets rows of a granted table', async () => {
    const result = await main.module.delegate(reader, 'query', {
      sql: 'SELECT id, balance FROM accounts WHERE id <= $1 ORDER BY id',
      params: [2],
    })
    assert.deepEqual(
      result.rows.map((row) => row['id']),
      [1, 2],
    )
    assert.deepEqual(result.fields, ['id', 'balance'])
    assert.equal(result.decision.allowed, true)
  })

  it('runs under the impersonated role', async () => {
    const result = await main.module.delegate(reader, 'query', { sql: 'SELECT current_user AS who' })
    assert.equal(result.rows[0]?.['who'], READER_ROLE)
  })

  const denied: readonly { sql: string; object: string; action: string }[] = [
    { sql: 'DELETE FROM accounts WHERE id = 1', object: 'table:public.accounts', action: 'delete' },
    {
      sql: 'WITH x AS (DELETE FROM accounts WHERE id = 1 RETURNING *) SELECT * FROM x',
      object: 'table:public.accounts',
      action: 'delete',
    },
    { sql: 'EXPLAIN ANALYZE DELETE FROM accounts', object: 'statement', action: 'delete' },
    { sql: 'SELECT * INTO t2 FROM accounts', object: 'table:public.t2', action: 'create' },
    { sql: "SELECT pg_read_file('x')", object: 'floor:server-files', action: 'lift' },
    { sql: "SELECT * FROM pg_read_file('x')", object: 'floor:server-files', action: 'lift' },
    {
      sql: "SELECT set_config('role','none',false)",
      object: 'floor:identity-change',
      action: 'lift',
    },
    { sql: 'RESET ROLE', object: 'floor:identity-change', action: 'lift' },
    { sql: 'SELECT 1; DELETE FROM accounts', object: 'floor:multiple-statements', action: 'lift' },
    {
      sql: "SELECT 1 /* ' */ ; DELETE FROM accounts; -- ' */",
      object: 'floor:multiple-statements',
      action: 'lift',
    },
  ]

  for (const { sql, object, action } of denied) {
    it(`sql-read is denied: ${sql}`, async () => {
      const before = main.acquired
      const error = await rejectsWith(main.module.delegate(reader, 'query', { sql }), 'ERR_ACCESS_DENIED')
      assert.ok(error instanceof AccessDenied)
      const named = error.denials.find((denial) => denial.object === object && denial.action === action)
      assert.ok(named, `no denial names ${action} on ${object}: ${JSON.stringify(error.denials)}`)
      assert.equal(main.acquired, before, 'a denied request took a connection')
    })
  }

  it('database refuses a table the policy allows', async () => {
    // The default policy lets sql-read select any table in public; the role has no grant on salaries.
    const decision = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql: 'SELECT amount FROM salaries' })
    assert.equal(decision.allowed, true)
    const error = await rejectsWith(
      main.module.delegate(reader, 'query', { sql: 'SELECT amount FROM salaries' }),
      'ERR_EXECUTION_FAILED',
    )
    assert.ok(error instanceof ExecutionFailed)
    assert.equal(error.sqlState, '42501')
  })

  it('sql-write inserts and reads back', async () => {
    const inserted = await main.module.delegate(writer, 'query', {
      sql: 'INSERT INTO audit_trail (note) VALUES ($1) RETURNING note',
      params: ['written by writer'],
    })
    assert.equal(inserted.rowCount, 1)
    assert.equal(inserted.rows[0]?.['note'], 'written by writer')
  })

  it('read-only transaction for read statements', async () => {
    const result = await main.module.delegate(reader, 'query', {
      sql: 'SELECT current_setting($1) AS read_only',
      params: ['transaction_read_only'],
    })
    assert.equal(result.rows[0]?.['read_only'], 'on')
  })

  it('parse errors deny with a typed error', async () => {
    const before = main.acquired
    await rejectsWith(main.module.delegate(reader, 'query', { sql: 'SELEC 1' }), 'ERR_SQL_PARSE_FAILED')
    assert.equal(main.acquired, before)
  })

  it('schema action lists visible tables', async () => {
    const result = await main.module.delegate(reader, 'schema', { schemaName: 'public' })
    const names = result.rows.map((row) => row['table_name'])
    assert.ok(names.includes('accounts'), JSON.stringify(names))
    assert.ok(!names.includes('salaries'), 'the reader role has no privilege on salaries')
  })

  it('table-details action lists columns', async () => {
    const result = await main.module.delegate(reader, 'table-details', {
      schemaName: 'public',
      tableName: 'accounts',
    })
    assert.deepEqual(
      result.rows.map((row) => row['column_name']),
      ['id', 'balance'],
    )
  })

  it('table-details rejects an invalid name', async () => {
    await assert.rejects(
      main.module.delegate(reader, 'table-details', { schemaName: 'public', tableName: '' }),
      TypeError,
    )
  })

  it('pooled connections are clean after mixed traffic', async () => {
    const poolSize = database.kind === 'embedded' ? 1 : 2
    const small = await createModule(database, engine, 'postgresql-small', {
      pool: { max: poolSize },
    })
    try {
      const requests: Promise<unknown>[] = []
      for (let index = 0; index < 200; index += 1) {
        const kind = index % 4
        const sql =
          kind === 0
            ? 'SELECT count(*) FROM accounts'
            : kind === 1
              ? 'DELETE FROM accounts'
              : kind === 2
                ? 'SELECT 1 / 0'
                : 'SELECT amount FROM salaries'
        requests.push(small.module.delegate(reader, 'query', { sql }).catch((error: unknown) => error))
      }
      const outcomes = await Promise.all(requests)
      const failures = outcomes.filter((outcome) => outcome instanceof Error).length
      assert.equal(failures, 150)

      const clients = await Promise.all(
        Array.from({ length: poolSize }, () => small.module.pool.connect()),
      )
      for (const client of clients) {
        const state = await client.query(
          "SELECT current_user AS who, current_setting('transaction_read_only') AS read_only",
        )
        assert.equal(state.rows[0]?.who, database.serviceLogin)
        assert.equal(state.rows[0]?.read_only, 'off')
        // 'I' means idle: no transaction is open on the connection.
        assert.equal((client as unknown as { _txStatus: string })._txStatus, 'I')
      }
      for (const client of clients) client.release()
    } finally {
      await small.module.close()
    }
  })

  for (const pipeline of [false, true]) {
    it(`failed role switch never runs the statement (pipeline ${pipeline})`, async () => {
      const module = await createModule(database, engine, `postgresql-switch-${pipeline}`, {
        options: { pipeline },
      })
      try {
        const ghost: DelegationSession = { identity: identity('sqlgate_no_such_role', ['sql-write']) }
        await rejectsWith(
          module.module.delegate(ghost, 'query', {
            sql: 'INSERT INTO audit_trail (note) VALUES ($1)',
            params: ['ghost'],
          }),
          'ERR_IMPERSONATION_FAILED',
        )
        const rows = await database.admin.query("SELECT count(*)::int AS n FROM audit_trail WHERE note = 'ghost'")
        assert.equal(rows.rows[0]?.n, 0)

        const result = await module.module.delegate(writer, 'query', {
          sql: 'SELECT current_user AS who',
        })
        assert.equal(result.rows[0]?.['who'], WRITER_ROLE)
      } finally {
        await module.module.close()
      }
    })
  }

  // The benchmarks' fastest path: pipeline and named prepared statements together, on one
  // connection, so the statement is already prepared when the role switch fails.
  describe('pipeline with prepared statements', () => {
    let prepared: CountedModule

    before(async () => {
      prepared = await createModule(database, engine, 'postgresql-pipeline-prepared', {
        options: { pipeline: true, preparedStatements: true },
        pool: { max: 1 },
      })
    })

    after(async () => {
      await prepared.module.close()
    })

    it('failed role switch skips a prepared statement', async () => {
      const sql = 'INSERT INTO audit_trail (note) VALUES ($1)'
      await prepared.module.delegate(writer, 'query', { sql, params: ['prepared by writer'] })

      const ghost: DelegationSession = { identity: identity('sqlgate_no_such_role', ['sql-write']) }
      await rejectsWith(
        prepared.module.delegate(ghost, 'query', { sql, params: ['ghost prepared'] }),
        'ERR_IMPERSONATION_FAILED',
      )
      const rows = await database.admin.query(
        "SELECT count(*)::int AS n FROM audit_trail WHERE note = 'ghost prepared'",
      )
      assert.equal(rows.rows[0]?.n, 0)
    })

    it('prepared plan carries no privileges', async () => {
      const sql = 'SELECT amount FROM salaries WHERE id = $1'
      const allowed = await prepared.module.delegate(writer, 'query', { sql, params: [1] })
      assert.equal(allowed.rowCount, 1)

      // Same text on the same connection: the server checks the reader's privileges again.
      const error = await rejectsWith(
        prepared.module.delegate(reader, 'query', { sql, params: [1] }),
        'ERR_EXECUTION_FAILED',
      )
      assert.equal((error as ExecutionFailed).sqlState, '42501')
    })

    it('connection is clean after failures', async () => {
      const result = await prepared.module.delegate(reader, 'query', {
        sql: "SELECT current_user AS who, current_setting('transaction_read_only') AS read_only",
      })
      assert.equal(result.rows[0]?.['who'], READER_ROLE)
      assert.equal(result.rows[0]?.['read_only'], 'on')
    })
  })

  it('lifted floor runs statements in one transaction', async () => {
    const model = readFileSync(new URL('../../policies/model.conf', import.meta.url), 'utf8')
    const policy = [
      'g, batch, sql-write, *',
      readFileSync(new URL('../../policies/policy.csv', import.meta.url), 'utf8'),
      'p, batch, *, floor:multiple-statements, lift, allow',
    ].join('\n')
    const batchEngine = await createPolicyEngine({ policy: createPolicySource(model, policy) })
    const module = await createModule(database, batchEngine, 'postgresql-batch')
    try {
      const session = { identity: identity(WRITER_ROLE, ['batch']) }
      const result = await module.module.delegate(session, 'query', {
        sql: "INSERT INTO audit_trail (note) VALUES ('batch é'); SELECT note FROM audit_trail WHERE note LIKE 'batch%'",
      })
      assert.deepEqual(
        result.rows.map((row) => row['note']),
        ['batch é'],
      )

      // A failing second statement rolls back the first.
      await rejectsWith(
        module.module.delegate(session, 'query', {
          sql: "INSERT INTO audit_trail (note) VALUES ('batch rolled back'); SELECT 1 / 0",
        }),
        'ERR_EXECUTION_FAILED',
      )
      const rows = await database.admin.query(
        "SELECT count(*)::int AS n FROM audit_trail WHERE note = 'batch rolled back'",
      )
      assert.equal(rows.rows[0]?.n, 0)
    } finally {
      await module.module.close()
    }
  })

  for (const pipeline of [false, true]) {
    it(`role change inside a function rolls back (pipeline ${pipeline})`, async () => {
      // A function written by the database owner that switches role, as a careless one might.
      await database.admin.query(`
        CREATE OR REPLACE FUNCTION public.sqlgate_switch_role(target text) RETURNS text
        LANGUAGE plpgsql AS $$ BEGIN PERFORM set_config('role', target, false); RETURN target; END $$;
        GRANT EXECUTE ON FUNCTION public.sqlgate_switch_role(text) TO ${READER_ROLE};
      `)
      const module = await createModule(database, engine, `postgresql-guard-${pipeline}`, {
        options: { pipeline },
      })
      try {
        await rejectsWith(
          module.module.delegate(reader, 'query', {
            sql: 'SELECT public.sqlgate_switch_role($1)',
            params: [WRITER_ROLE],
          }),
          'ERR_IMPERSONATION_FAILED',
        )
        const client = await module.module.pool.connect()
        try {
          const state = await client.query('SELECT current_user AS who')
          assert.equal(state.rows[0]?.who, database.serviceLogin)
        } finally {
          client.release()
        }
      } finally {
        await module.module.close()
      }
    })
  }

  it('server rejects a text holding two statements', async () => {
    const client = await main.module.pool.connect()
    const error = await rejectsWith(
      runImpersonatedQuery(client, {
        role: READER_ROLE,
        texts: ['SELECT 1; SELECT 2'],
        values: [],
        readOnly: true,
        statementTimeoutMillis: 5000,
        searchPath: ['public'],
        pipeline: false,
      }),
      'ERR_EXECUTION_FAILED',
    )
    assert.equal((error as ExecutionFailed).sqlState, '42601')
  })

  describe('TE-JWT verification', () => {
    type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
    let privateKey: PrivateKey
    let jwk: JWK
    let otherKey: PrivateKey

    before(async () => {
      const pair = await generateKeyPair('ES256', { extractable: true })
      privateKey = pair.privateKey
      jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }
      otherKey = (await generateKeyPair('ES256')).privateKey
      main.module.setTokenVerification({
        keySet: { jwks: { keys: [jwk] } },
        issuer: 'https://idp.test',
        audience: 'postgresql1',
      })
    })

    async function token(
      claims: Record<string, unknown>,
      options: { key?: PrivateKey; expiresIn?: string; audience?: string } = {},
    ): Promise<string> {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('https://idp.test')
        .setAudience(options.audience ?? 'postgresql1')
        .setSubject('alice')
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(options.key ?? privateKey)
    }

    const good = { legacy_name: READER_ROLE, roles: ['sql-read'] }

    it('valid token runs the query', async () => {
      const result = await main.module.delegate({ teJwt: await token(good) }, 'query', {
        sql: 'SELECT count(*)::int AS n FROM accounts',
      })
      assert.equal(result.rows[0]?.['n'], 3)
    })

    const bad: readonly [string, () => Promise<string>, ErrorCode][] = [
      ['bad signature', () => token(good, { key: otherKey }), 'ERR_TOKEN_INVALID'],
      ['wrong audience', () => token(good, { audience: 'postgresql2' }), 'ERR_TOKEN_INVALID'],
      ['expired', () => token(good, { expiresIn: '-10m' }), 'ERR_TOKEN_EXPIRED'],
      ['no legacy_name', () => token({ roles: ['sql-read'] }), 'ERR_TOKEN_CLAIM_MISSING'],
      ['no roles', () => token({ legacy_name: READER_ROLE }), 'ERR_TOKEN_CLAIM_MISSING'],
      [
        'alg none',
        async () => {
          const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')
          const now = Math.floor(Date.now() / 1000)
          const payload = Buffer.from(
            JSON.stringify({ ...good, iss: 'https://idp.test', aud: 'postgresql1', sub: 'alice', exp: now + 300 }),
          ).toString('base64url')
          return `${header}.${payload}.`
        },
        'ERR_TOKEN_INVALID',
      ],
    ]

    for (const [name, make, code] of bad) {
      it(`rejects a token: ${name}`, async () => {
        const teJwt = await make()
        const before = main.acquired
        const error = await rejectsWith(
          main.module.delegate({ teJwt }, 'query', { sql: 'SELECT 1' }),
          code,
        )
        assert.equal(main.acquired, before, 'a rejected token reached the database')
        assert.ok(!error.message.includes(teJwt), 'the error message contains the token')
      })
    }
  })

  it('registry routes to named modules', async () => {
    const registry = new DelegationRegistry().register(main.module)
    const result = await registry.delegate('postgresql1', reader, 'query', { sql: 'SELECT 1 AS one' })
    assert.equal(result.rows[0]?.['one'], 1)
    await rejectsWith(
      registry.delegate('postgresql9', reader, 'query', { sql: 'SELECT 1' }),
      'ERR_MODULE_NOT_REGISTERED',
    )
  })
})
