import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'

// The package entry points resolve to dist/, which `npm run build` writes (CI builds first).
const built = existsSync(new URL('../../dist/index.js', import.meta.url))

/** Imports a package entry by name, typed loosely so typechecking does not need dist/. */
async function load(specifier: string): Promise<Record<string, any>> {
  return (await import(specifier)) as Record<string, any>
}

describe('package exports', { skip: built ? false : 'dist/ is missing: run npm run build' }, () => {
  it('main entry exports the engine', async () => {
    const sqlgate = await load('sqlgate')
    const engine = await sqlgate.createPolicyEngine()
    assert.equal(engine.check({ dialect: 'postgres', roles: ['sql-read'], sql: 'SELECT 1' }).allowed, true)
    assert.equal(typeof sqlgate.DelegationRegistry, 'function')
    assert.equal(typeof sqlgate.verifyToken, 'function')
  })

  it('dialect subpaths export the modules', async () => {
    const postgres = await load('sqlgate/postgres')
    const mssql = await load('sqlgate/mssql')
    assert.equal(typeof postgres.PostgreSQLDelegationModule, 'function')
    assert.equal(typeof mssql.SQLDelegationModule, 'function')
  })

  it('errors subpath exports error classes', async () => {
    const errors = await load('sqlgate/errors')
    assert.equal(new errors.AccessDenied([]).code, 'ERR_ACCESS_DENIED')
  })
})
