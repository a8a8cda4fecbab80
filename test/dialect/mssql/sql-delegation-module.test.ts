import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { after, before, beforeEach, describe, it } from 'node:test'

import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import sql from 'mssql'

import { buildExecuteAsBatch, inferParameter } from '../../../src/dialect/mssql/execute-as-batch.js'
import { createMssqlFrontEnd } from '../../../src/dialect/mssql/mssql-front-end.js'
import { toPoolConfig } from '../../../src/dialect/mssql/mssql-module-config.js'
import { SQLDelegationModule } from '../../../src/dialect/mssql/sql-delegation-module.js'
import { lexTsql } from '../../../src/dialect/mssql/tsql-lexer.js'
import { splitTsqlStatements } from '../../../src/dialect/mssql/tsql-splitter.js'
import { createPolicyEngine } from '../../../src/engine/create-policy-engine.js'
import {
  AccessDenied,
  ExecutionFailed,
  ImpersonationFailed,
  isSqlgateError,
} from '../../../src/errors.js'
import { createPolicySource } from '../../../src/policy/policy-source.js'
import { RowLimits } from '../../../src/policy/row-limits.js'
import type { VerifiedIdentity } from '../../../src/token/verified-identity.js'
import { RecordingPool, type RecordedCall } from './support/recording-pool.js'

const CONFIG = { server: '127.0.0.1', database: 'app', user: 'sqlgate_service', password: 'pw-S3cret' }

function identity(roles: string[], legacyName = 'alice'): { identity: VerifiedIdentity } {
  return {
    identity: Object.freeze({
      subject: 'user-1',
      legacyName,
      roles,
      issuer: 'https://idp.test',
      audience: 'sqlgate',
      expiresAt: new Date(Date.now() + 60_000),
    }),
  }
}

function heads(sqlText: string): string[] {
  return splitTsqlStatements(lexTsql(sqlText)).map((statement) =>
    statement.kind === 'simple' ? (statement.tokens[0]?.value ?? '') : 'IF',
  )
}

let pool: RecordingPool
let module: SQLDelegationModule

before(async () => {
  const directory = new URL('../../../policies/', import.meta.url)
  const model = readFileSync(new URL('model.conf', directory), 'utf8')
  const policy =
    readFileSync(new URL('policy.csv', directory), 'utf8') +
    '\np, sql-read, *, table:information_schema.*, select, allow\n'
  const engine = await createPolicyEngine({
    policy: createPolicySource(model, policy),
    frontEnds: { mssql: createMssqlFrontEnd() },
  })
  module = new SQLDelegationModule('app-mssql', {
    engine,
    createPool: (config) => {
      pool = new RecordingPool({ ...config, password: 'unused' })
      return pool
    },
  })
  await module.initialize(CONFIG)
})

after(async () => {
  await module.close()
})

beforeEach(() => {
  pool.calls.length = 0
  pool.script = () => ({ outputs: { sqlgate_reverted: true } })
})

function rpc(calls: readonly RecordedCall[]): RecordedCall {
  const found = calls.find((call) => call.kind === 'rpc')
  assert.ok(found, 'an RPC was sent')
  return found
}

describe('SQLDelegationModule query', () => {
  it('sends one batch between begin and commit on one connection', async () => {
    pool.script = () => ({ rowCount: 1, outputs: { sqlgate_reverted: true } })
    const result = await module.delegate(identity(['sql-write']), 'query', {
      sql: 'UPDATE dbo.customers SET name = @name WHERE id = @customerId',
      params: { customerId: 42, name: 'Ada' },
    })

    assert.deepEqual(
      pool.calls.map((call) => call.kind),
      ['begin', 'rpc', 'commit'],
    )
    assert.equal(new Set(pool.calls.map((call) => call.connection)).size, 1)
    assert.equal(result.rowCount, 1)
    assert.equal(result.command, 'UPDATE')
  })

  it('sends the exact EXECUTE AS batch', async () => {
    await module.delegate(identity(['sql-read']), 'query', {
      sql: 'SELECT name FROM dbo.customers WHERE id = @customerId',
      params: { customerId: 42 },
    })
    const call = rpc(pool.calls)

    assert.equal(
      call.statement,
      [
        'DECLARE @sqlgate_login sysname = SUSER_SNAME(), @sqlgate_self sysname = USER_NAME();',
        'DECLARE @sqlgate_cookie varbinary(8000);',
        'EXECUTE AS USER = @sqlgate_user WITH COOKIE INTO @sqlgate_cookie;',
        'EXEC sp_executesql @sqlgate_statement, @sqlgate_params, @customerId = @customerId;',
        'REVERT WITH COOKIE = @sqlgate_cookie;',
        'SET @sqlgate_reverted = CASE WHEN SUSER_SNAME() = @sqlgate_login AND USER_NAME() = @sqlgate_self THEN 1 ELSE 0 END;',
      ].join('\n'),
    )
  })

  it('pins each concurrent request to one connection', async () => {
    await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        module.delegate(identity(['sql-read']), 'query', {
          sql: 'SELECT name FROM dbo.customers WHERE id = @id',
          params: { id: index },
        }),
      ),
    )
    const byConnection = new Map<number, string[]>()
    for (const call of pool.calls) {
      byConnection.set(call.connection, [...(byConnection.get(call.connection) ?? []), call.kind])
    }

    assert.equal(pool.calls.filter((call) => call.kind === 'rpc').length, 6)
    assert.ok(byConnection.size > 1, 'the requests ran concurrently on several connections')
    for (const kinds of byConnection.values()) {
      // Requests on one connection follow each other: begin, batch, end, never interleaved.
      assert.equal(kinds.length % 3, 0)
      for (let index = 0; index < kinds.length; index += 3) {
        assert.deepEqual(kinds.slice(index, index + 3), ['begin', 'rpc', 'rollback'])
      }
    }
  })

  it('sends a batch that lexes as the intended statements', async () => {
    await module.delegate(identity(['sql-read']), 'query', {
      sql: 'SELECT name FROM dbo.customers WHERE id = @customerId',
      params: { customerId: 42 },
    })
    assert.deepEqual(heads(rpc(pool.calls).statement ?? ''), [
      'DECLARE',
      'DECLARE',
      'EXECUTE',
      'EXEC',
      'REVERT',
      'SET',
    ])
  })

  it('passes user, statement and values as typed parameters', async () => {
    const statement = 'SELECT name FROM dbo.customers WHERE id = @customerId AND name = @name'
    await module.delegate(identity(['sql-read'], 'CONTOSO\\alice'), 'query', {
      sql: statement,
      params: { customerId: 42, name: 'Ada' },
    })
    const call = rpc(pool.calls)
    const byName = new Map(call.parameters?.map((parameter) => [parameter.name, parameter]))

    assert.equal(
      call.declarations,
      '@sqlgate_user nvarchar(128), @sqlgate_statement nvarchar(max), @sqlgate_params nvarchar(max), ' +
        '@customerId int, @name nvarchar(4000), @sqlgate_reverted bit OUTPUT',
    )
    assert.equal(byName.get('sqlgate_user')?.value, 'CONTOSO\\alice')
    assert.equal(byName.get('sqlgate_statement')?.value, statement)
    assert.equal(byName.get('sqlgate_params')?.value, '@customerId int, @name nvarchar(4000)')
    assert.equal(byName.get('customerId')?.type, 'Int')
    assert.equal(byName.get('customerId')?.value, 42)
    assert.equal(byName.get('name')?.type, 'NVarChar')
    assert.equal(byName.get('sqlgate_reverted')?.output, true)
    assert.ok(!call.statement?.includes('alice'))
    assert.ok(!call.statement?.includes('dbo.customers'))
  })

  it('ends a read-only request with rollback', async () => {
    pool.script = () => ({ rows: [{ name: 'Ada' }], outputs: { sqlgate_reverted: true } })
    const result = await module.delegate(identity(['sql-read']), 'query', {
      sql: 'SELECT name FROM dbo.customers',
    })

    assert.deepEqual(
      pool.calls.map((call) => call.kind),
      ['begin', 'rpc', 'rollback'],
    )
    assert.deepEqual(result.rows, [{ name: 'Ada' }])
    assert.deepEqual(result.fields, ['name'])
    assert.equal(result.rowCount, 1)
  })

  it('omits the declaration list without parameters', async () => {
    await module.delegate(identity(['sql-read']), 'query', { sql: 'SELECT name FROM dbo.customers' })
    const call = rpc(pool.calls)
    assert.match(call.statement ?? '', /^EXEC sp_executesql @sqlgate_statement;$/m)
    assert.ok(!call.parameters?.some((parameter) => parameter.name === 'sqlgate_params'))
  })

  it('sends nothing for a denied statement', async () => {
    await assert.rejects(
      module.delegate(identity(['sql-read']), 'query', {
        sql: 'SELECT name FROM dbo.customers REVERT; SELECT amount FROM dbo.payroll',
      }),
      AccessDenied,
    )
    assert.deepEqual(pool.calls, [])
  })

  it('rejects an invalid parameter name before sending', async () => {
    await assert.rejects(
      module.delegate(identity(['sql-read']), 'query', {
        sql: 'SELECT name FROM dbo.customers',
        params: { 'id; DROP TABLE x': 1 },
      }),
      TypeError,
    )
    assert.deepEqual(pool.calls, [])
  })

  it('rejects an invalid user name before sending', async () => {
    await assert.rejects(
      module.delegate(identity(['sql-read'], 'bad]name'), 'query', {
        sql: 'SELECT name FROM dbo.customers',
      }),
      ImpersonationFailed,
    )
    assert.deepEqual(pool.calls, [])
  })
})

describe('SQLDelegationModule failures', () => {
  it('rolls back and closes the connection when the statement fails', async () => {
    pool.script = () => ({ error: { number: 547, message: 'conflict with value 42' } })
    const before = pool.connections.length

    const error = await module
      .delegate(identity(['sql-write']), 'query', {
        sql: 'DELETE FROM dbo.customers WHERE id = @id',
        params: { id: 42 },
      })
      .then(
        () => assert.fail('expected a failure'),
        (failure: unknown) => failure,
      )

    assert.ok(error instanceof ExecutionFailed)
    assert.equal(error.sqlState, '547')
    assert.ok(!error.message.includes('42'))
    const used = pool.calls.map((call) => call.connection)
    const connection = pool.connections[used[0] as number]
    assert.equal(connection?.closed, true)
    assert.ok(!pool.calls.some((call) => call.kind === 'commit'))
    assert.ok(pool.connections.length >= before)
  })

  it('uses a fresh connection after a failed one', async () => {
    pool.script = () => ({ error: { number: 547, message: 'conflict' } })
    await assert.rejects(
      module.delegate(identity(['sql-write']), 'query', { sql: 'DELETE FROM dbo.customers' }),
      ExecutionFailed,
    )
    const failed = pool.calls[0]?.connection
    pool.calls.length = 0
    pool.script = () => ({ outputs: { sqlgate_reverted: true } })

    await module.delegate(identity(['sql-read']), 'query', { sql: 'SELECT name FROM dbo.customers' })
    assert.notEqual(pool.calls[0]?.connection, failed)
    assert.equal(pool.connections[pool.calls[0]?.connection as number]?.closed, false)
  })

  it('reports a failed EXECUTE AS as impersonation failure', async () => {
    pool.script = () => ({ error: { number: 15517, message: 'Cannot execute as the database principal' } })
    await assert.rejects(
      module.delegate(identity(['sql-read']), 'query', { sql: 'SELECT name FROM dbo.customers' }),
      ImpersonationFailed,
    )
    const connection = pool.connections[pool.calls[0]?.connection as number]
    assert.equal(connection?.closed, true)
  })

  it('closes the connection when the revert is not confirmed', async () => {
    pool.script = () => ({ outputs: { sqlgate_reverted: false } })
    await assert.rejects(
      module.delegate(identity(['sql-write']), 'query', {
        sql: 'INSERT INTO dbo.customers (name) VALUES (@name)',
        params: { name: 'Ada' },
      }),
      ImpersonationFailed,
    )
    assert.ok(!pool.calls.some((call) => call.kind === 'commit'))
    assert.equal(pool.connections[pool.calls[0]?.connection as number]?.closed, true)
  })

  it('closes the connection when the server aborts the transaction', async () => {
    pool.script = () => ({
      abortTransaction: true,
      error: { number: 1205, message: 'deadlock victim' },
    })
    await assert.rejects(
      module.delegate(identity(['sql-write']), 'query', { sql: 'DELETE FROM dbo.customers' }),
      ExecutionFailed,
    )
    assert.equal(pool.connections[pool.calls[0]?.connection as number]?.closed, true)
  })
})

describe('SQLDelegationModule catalog actions', () => {
  it('lists tables with the schema name as a parameter', async () => {
    await module.delegate(identity(['sql-read']), 'schema', { schemaName: "dbo'--" })
    const call = rpc(pool.calls)
    const statement = call.parameters?.find((parameter) => parameter.name === 'sqlgate_statement')
    const schema = call.parameters?.find((parameter) => parameter.name === 'schemaName')

    assert.match(String(statement?.value), /FROM INFORMATION_SCHEMA\.TABLES WHERE TABLE_SCHEMA = @schemaName/)
    assert.equal(schema?.value, "dbo'--")
    assert.match(call.statement ?? '', /EXECUTE AS USER = @sqlgate_user/)
  })

  it('lists columns with both names as parameters', async () => {
    await module.delegate(identity(['sql-read']), 'table-details', {
      schemaName: 'dbo',
      tableName: 'customers',
    })
    const call = rpc(pool.calls)
    assert.equal(call.parameters?.find((parameter) => parameter.name === 'tableName')?.value, 'customers')
    assert.match(call.statement ?? '', /@schemaName = @schemaName, @tableName = @tableName;/)
  })
})

describe('execute-as batch parameters', () => {
  const cases: Array<[string, unknown, string]> = [
    ['small integer', 7, 'int'],
    ['large integer', 2 ** 40, 'bigint'],
    ['fraction', 1.5, 'float'],
    ['bigint', 10n, 'bigint'],
    ['boolean', true, 'bit'],
    ['short string', 'x', 'nvarchar(4000)'],
    ['long string', 'x'.repeat(4001), 'nvarchar(max)'],
    ['date', new Date(0), 'datetime2(7)'],
    ['bytes', new Uint8Array([1]), 'varbinary(max)'],
    ['null', null, 'nvarchar(4000)'],
  ]
  for (const [name, value, declaration] of cases) {
    it(`declares ${name} as ${declaration}`, () => {
      assert.equal(inferParameter('p', value).declaration, declaration)
    })
  }

  for (const name of ['1a', 'a-b', 'a b', 'sqlgate_user', 'SQLGATE_x', '', 'x'.repeat(129)]) {
    it(`rejects parameter name ${JSON.stringify(name.slice(0, 12))}`, () => {
      assert.throws(() => inferParameter(name, 1), TypeError)
    })
  }

  it('rejects values it cannot type', () => {
    assert.throws(() => inferParameter('p', { a: 1 }), TypeError)
    assert.throws(() => inferParameter('p', Number.NaN), TypeError)
    assert.throws(() => inferParameter('p', 2n ** 64n), TypeError)
  })

  it('passes named parameters through sp_executesql', () => {
    const batch = buildExecuteAsBatch([inferParameter('a', 1), inferParameter('b', 'x')])
    assert.match(batch, /EXEC sp_executesql @sqlgate_statement, @sqlgate_params, @a = @a, @b = @b;/)
  })
})

describe('mssql module configuration', () => {
  it('applies the documented defaults', () => {
    const config = toPoolConfig({ server: 'db', database: 'app' })
    assert.equal(config.port, 1433)
    assert.equal(config.options?.encrypt, true)
    assert.equal(config.options?.trustServerCertificate, false)
    assert.equal(config.options?.trustedConnection, false)
    assert.deepEqual(config.pool, { max: 10, min: 0, idleTimeoutMillis: 30_000 })
    assert.equal(config.connectionTimeout, 15_000)
  })

  it('keeps the password out of JSON and inspect', () => {
    const config = toPoolConfig(CONFIG)
    assert.equal(config.password, 'pw-S3cret')
    assert.ok(!JSON.stringify(config).includes('pw-S3cret'))
    assert.ok(!inspect(config).includes('pw-S3cret'))
    assert.ok(!inspect(module).includes('pw-S3cret'))
    assert.ok(!JSON.stringify(module).includes('pw-S3cret'))
  })

  it('rejects a missing server', () => {
    assert.throws(() => toPoolConfig({ server: '', database: 'app' }), TypeError)
  })

  it('builds a pool of the mssql driver by default', () => {
    assert.ok(new sql.ConnectionPool(toPoolConfig(CONFIG)) instanceof sql.ConnectionPool)
  })
})

describe('SQLDelegationModule column rules', () => {
  let rulesPool: RecordingPool
  let rulesModule: SQLDelegationModule
  let catalogColumns: string[] = []

  before(async () => {
    const directory = new URL('../../../policies/', import.meta.url)
    const model = readFileSync(new URL('model.conf', directory), 'utf8')
    const policy =
      readFileSync(new URL('policy.csv', directory), 'utf8') +
      '\np, sql-read, *, column:dbo.customers.ssn, select, deny\n'
    const engine = await createPolicyEngine({
      policy: createPolicySource(model, policy),
      frontEnds: { mssql: createMssqlFrontEnd() },
    })
    rulesModule = new SQLDelegationModule('rules-mssql', {
      engine,
      catalog: { ttlMillis: 0 },
      createPool: (config) => {
        rulesPool = new RecordingPool({ ...config, password: 'unused' })
        return rulesPool
      },
    })
    await rulesModule.initialize(CONFIG)
    rulesPool.script = (call) => {
      const statement = String(
        call.parameters?.find((parameter) => parameter.name === 'sqlgate_statement')?.value,
      )
      if (!statement.includes('INFORMATION_SCHEMA.COLUMNS')) {
        return { outputs: { sqlgate_reverted: true } }
      }
      return {
        rows: catalogColumns.map((column) => ({
          table_schema: 'dbo',
          table_name: 'Customers',
          column_name: column,
        })),
        outputs: { sqlgate_reverted: true },
      }
    }
  })

  after(async () => {
    await rulesModule.close()
  })

  beforeEach(() => {
    rulesPool.calls.length = 0
  })

  function statements(): string[] {
    return rulesPool.calls
      .filter((call) => call.kind === 'rpc')
      .map((call) =>
        String(call.parameters?.find((parameter) => parameter.name === 'sqlgate_statement')?.value),
      )
  }

  it('denies * when the catalog lists a denied column', async () => {
    catalogColumns = ['Id', 'Name', 'SSN']
    await assert.rejects(
      rulesModule.delegate(identity(['sql-read']), 'query', { sql: 'SELECT * FROM dbo.customers' }),
      AccessDenied,
    )
    const sent = statements()
    assert.equal(sent.length, 1, 'only the catalog query was sent')
    assert.match(sent[0] ?? '', /FROM INFORMATION_SCHEMA\.COLUMNS WHERE \(TABLE_SCHEMA = @s0 AND TABLE_NAME = @t0\)/)
  })

  it('allows * when the catalog has no denied column', async () => {
    catalogColumns = ['Id', 'Name']
    await rulesModule.delegate(identity(['sql-read']), 'query', {
      sql: 'SELECT * FROM dbo.customers',
    })
    const sent = statements()
    assert.equal(sent.length, 2)
    assert.equal(sent[1], 'SELECT * FROM dbo.customers')
  })

  it('reads the catalog under the user identity', async () => {
    catalogColumns = ['Id']
    await rulesModule.delegate(identity(['sql-read'], 'bob'), 'query', {
      sql: 'SELECT * FROM dbo.customers',
    })
    const [catalogCall] = rulesPool.calls.filter((call) => call.kind === 'rpc')
    const user = catalogCall?.parameters?.find((parameter) => parameter.name === 'sqlgate_user')
    assert.equal(user?.value, 'bob')
    assert.match(catalogCall?.statement ?? '', /EXECUTE AS USER = @sqlgate_user/)
  })

  it('denies a named denied column without the catalog', async () => {
    await assert.rejects(
      rulesModule.delegate(identity(['sql-read']), 'query', {
        sql: 'SELECT ssn FROM dbo.customers',
      }),
      AccessDenied,
    )
    assert.deepEqual(statements(), [])
  })
})

describe('SQLDelegationModule row limits', () => {
  it('cuts rows past the role limit', async () => {
    let limitedPool: RecordingPool | undefined
    const limited = new SQLDelegationModule('limited-mssql', {
      engine: await createPolicyEngine({ frontEnds: { mssql: createMssqlFrontEnd() } }),
      rowLimits: RowLimits.parse('sql-read, *, 2\n'),
      createPool: (config) => {
        limitedPool = new RecordingPool({ ...config, password: 'unused' })
        return limitedPool
      },
    })
    await limited.initialize(CONFIG)
    try {
      assert.ok(limitedPool)
      limitedPool.script = () => ({
        rows: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
        outputs: { sqlgate_reverted: true },
      })
      const reader = await limited.delegate(identity(['sql-read']), 'query', {
        sql: 'SELECT name FROM dbo.customers',
      })
      assert.deepEqual(reader.rows, [{ name: 'a' }, { name: 'b' }])
      assert.equal(reader.truncated, true)

      const admin = await limited.delegate(identity(['admin']), 'query', {
        sql: 'SELECT name FROM dbo.customers',
      })
      assert.equal(admin.rows.length, 3)
      assert.equal(admin.truncated, false)
    } finally {
      await limited.close()
    }
  })
})

type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

describe('SQLDelegationModule TE-JWT verification', () => {
  let privateKey: KeyLike
  let otherKey: KeyLike

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true })
    privateKey = pair.privateKey
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }
    otherKey = (await generateKeyPair('ES256')).privateKey
    module.setTokenVerification({
      keySet: { jwks: { keys: [jwk] } },
      issuer: 'https://idp.test',
      audience: 'app-mssql',
    })
  })

  async function token(
    claims: Record<string, unknown>,
    options: { key?: KeyLike; expiresIn?: string; audience?: string } = {},
  ): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('https://idp.test')
      .setAudience(options.audience ?? 'app-mssql')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(options.key ?? privateKey)
  }

  const good = { legacy_name: 'CONTOSO\\alice', roles: ['sql-read'] }

  it('runs the query for a valid token', async () => {
    await module.delegate({ teJwt: await token(good) }, 'query', {
      sql: 'SELECT name FROM dbo.customers',
    })
    const user = rpc(pool.calls).parameters?.find((parameter) => parameter.name === 'sqlgate_user')
    assert.equal(user?.value, 'CONTOSO\\alice')
  })

  const bad: ReadonlyArray<[string, () => Promise<string>, string]> = [
    ['bad signature', () => token(good, { key: otherKey }), 'ERR_TOKEN_INVALID'],
    ['wrong audience', () => token(good, { audience: 'other-module' }), 'ERR_TOKEN_INVALID'],
    ['expired', () => token(good, { expiresIn: '-10m' }), 'ERR_TOKEN_EXPIRED'],
    ['no legacy_name', () => token({ roles: ['sql-read'] }), 'ERR_TOKEN_CLAIM_MISSING'],
    ['no roles', () => token({ legacy_name: 'alice' }), 'ERR_TOKEN_CLAIM_MISSING'],
  ]
  for (const [name, make, code] of bad) {
    it(`rejects a token with ${name}`, async () => {
      const teJwt = await make()
      await assert.rejects(
        module.delegate({ teJwt }, 'query', { sql: 'SELECT name FROM dbo.customers' }),
        (error: unknown) =>
          isSqlgateError(error) && error.code === code && !error.message.includes(teJwt),
      )
      assert.deepEqual(pool.calls, [])
    })
  }
})
