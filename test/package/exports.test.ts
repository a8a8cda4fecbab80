import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'

// The package entry points resolve to dist/, which `npm run build` writes (CI builds first).
const built = existsSync(new URL('../../dist/index.js', import.meta.url))

describe('package exports', { skip: built ? false : 'dist/ is missing: run npm run build' }, () => {
  it('main entry exports the engine', async () => {
    const sqlgate = await import('sqlgate')
    const engine = await sqlgate.createPolicyEngine()
    assert.equal(engine.check({ dialect: 'postgres', roles: ['sql-read'], sql: 'SELECT 1' }).allowed, true)
    assert.equal(typeof sqlgate.DelegationRegistry, 'function')
    assert.equal(typeof sqlgate.verifyToken, 'function')
  })

  it('dialect subpaths export the modules', async () => {
    const postgres = await import('sqlgate/postgres')
    const mssql = await import('sqlgate/mssql')
    assert.equal(typeof postgres.PostgreSQLDelegationModule, 'function')
    assert.equal(typeof mssql.SQLDelegationModule, 'function')
  })

  it('errors subpath exports error classes', async () => {
    const errors = await import('sqlgate/errors')
    assert.equal(new errors.AccessDenied([]).code, 'ERR_ACCESS_DENIED')
  })
})
