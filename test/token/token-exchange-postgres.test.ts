/**
 * End to end: a requestor token is exchanged at a real identity provider, and the delegation
 * module runs SQL under the database role named in the TE-JWT, with the policy roles it grants.
 * Needs PostgreSQL at 127.0.0.1:5432 (or DATABASE_URL) with trust authentication for `postgres`.
 */

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, beforeEach, describe, test } from 'node:test'

import pg from 'pg'

import {
  PostgreSQLDelegationModule,
} from '../../src/dialect/postgres/postgres-delegation-module.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import { AccessDenied, TokenExchangeFailed } from '../../src/errors.js'
import { createTokenExchangeConfig } from '../../src/token/token-exchange-config.js'
import type { TokenExchangeConfig } from '../../src/token/token-exchange-config.js'
import { TokenExchangeService } from '../../src/token/token-exchange-service.js'
import { TestIdentityProvider } from '../support/identity-provider.js'
import { expectTokenError } from './assert-token-error.js'

const DATABASE_URL = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test'
const CLIENT_ID = 'sqlgate-gateway'
const CLIENT_SECRET = 'client-secret-end-to-end-5c1d'
const FRONTEND_AUDIENCE = 'sqlgate-frontend'
const READER = 'sqlgate_exchange_reader'
const WRITER = 'sqlgate_exchange_writer'
const SERVICE_LOGIN = 'sqlgate_exchange_service'
const TABLE = `sqlgate_exchange_${randomBytes(4).toString('hex')}`

async function connectAdmin(): Promise<pg.Client | string> {
  const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 })
  try {
    await admin.connect()
    return admin
  } catch (error) {
    return `PostgreSQL is not reachable at ${new URL(DATABASE_URL).host}: ${String(error)}`
  }
}

async function createRole(admin: pg.Client, name: string, options: string): Promise<void> {
  await admin.query(
    `DO $$ BEGIN CREATE ROLE ${name} ${options}; ` +
      `EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
  )
}

const admin = await connectAdmin()
const skip = typeof admin === 'string' ? admin : false

describe('token exchange with PostgreSQL', { skip }, () => {
  const database = admin as pg.Client
  let corp: TestIdentityProvider
  let partner: TestIdentityProvider
  let service: TokenExchangeService
  let corpModule: PostgreSQLDelegationModule
  let partnerModule: PostgreSQLDelegationModule

  function configFor(provider: TestIdentityProvider, idpName: string): TokenExchangeConfig {
    return createTokenExchangeConfig({
      idpName,
      tokenEndpoint: provider.tokenEndpoint,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      audience: `${idpName}-database`,
      issuer: provider.issuer,
      jwksUrl: provider.jwksUrl,
      requestorVerification: {
        issuer: corp.issuer,
        audience: FRONTEND_AUDIENCE,
        keySet: { jwksUrl: corp.jwksUrl },
      },
      retryDelayMs: 10,
    })
  }

  async function createModule(name: string, config: TokenExchangeConfig) {
    const module = new PostgreSQLDelegationModule(name, { engine: await createPolicyEngine() })
    const url = new URL(DATABASE_URL)
    await module.initialize({
      host: url.hostname,
      port: Number(url.port || 5432),
      database: decodeURIComponent(url.pathname.slice(1)),
      user: SERVICE_LOGIN,
      pool: { max: 2 },
    })
    module.setTokenExchangeService(service, config)

    return module
  }

  before(async () => {
    await createRole(database, READER, 'NOLOGIN')
    await createRole(database, WRITER, 'NOLOGIN')
    await createRole(database, SERVICE_LOGIN, 'LOGIN NOINHERIT')
    await database.query(`GRANT ${READER}, ${WRITER} TO ${SERVICE_LOGIN}`)
    await database.query(`
      CREATE TABLE public.${TABLE} (id int PRIMARY KEY, note text NOT NULL);
      INSERT INTO public.${TABLE} VALUES (1, 'first');
      GRANT SELECT ON public.${TABLE} TO ${READER};
      GRANT SELECT, INSERT ON public.${TABLE} TO ${WRITER};
    `)

    corp = await TestIdentityProvider.start({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      subjects: { 'user-1': { legacy_name: READER, roles: ['sql-read'] } },
    })
    partner = await TestIdentityProvider.start({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      subjects: { 'user-1': { legacy_name: WRITER, roles: ['sql-write'] } },
    })
    partner.subjectTokenIssuer = corp
    service = new TokenExchangeService()
    corpModule = await createModule('corp-db', configFor(corp, 'corp'))
    partnerModule = await createModule('partner-db', configFor(partner, 'partner'))
  })

  after(async () => {
    await corpModule?.close()
    await partnerModule?.close()
    await corp?.close()
    await partner?.close()
    await database.query(`DROP TABLE IF EXISTS public.${TABLE}`)
    await database.end()
  })

  beforeEach(() => {
    corp.reset()
    partner.reset()
  })

  test('query runs as exchanged role', async () => {
    const subjectToken = await corp.issueSubjectToken('user-1', FRONTEND_AUDIENCE)

    const result = await corpModule.delegate({ subjectToken }, 'query', {
      sql: `SELECT current_user AS role_name, note FROM public.${TABLE} WHERE id = 1`,
    })

    assert.deepEqual(result.rows, [{ role_name: READER, note: 'first' }])
    assert.equal(corp.exchangeCount, 1)
  })

  test('second query uses cached identity', async () => {
    const subjectToken = await corp.issueSubjectToken('user-1', FRONTEND_AUDIENCE)
    const sql = `SELECT count(*)::int AS n FROM public.${TABLE}`

    await corpModule.delegate({ subjectToken }, 'query', { sql })
    await corpModule.delegate({ subjectToken }, 'query', { sql })

    assert.equal(corp.exchangeCount, 1)
  })

  test('policy roles come from the TE-JWT', async () => {
    const subjectToken = await corp.issueSubjectToken('user-1', FRONTEND_AUDIENCE)
    const insert = { sql: `INSERT INTO public.${TABLE} VALUES (2, 'second')` }

    await assert.rejects(corpModule.delegate({ subjectToken }, 'query', insert), AccessDenied)
    const result = await partnerModule.delegate({ subjectToken }, 'query', insert)
    const currentRole = await partnerModule.delegate({ subjectToken }, 'query', {
      sql: 'SELECT current_user AS role_name',
    })

    assert.equal(result.rowCount, 1)
    assert.deepEqual(currentRole.rows, [{ role_name: WRITER }])
    assert.equal(partner.exchangeCount, 1)
  })

  test('rejected exchange is a typed error', async () => {
    const subjectToken = await corp.issueSubjectToken('user-1', FRONTEND_AUDIENCE)
    corp.behaviour = 'invalid-grant'

    const error = await expectTokenError(
      corpModule.delegate({ subjectToken }, 'query', { sql: 'SELECT 1' }),
      TokenExchangeFailed,
      'ERR_TOKEN_EXCHANGE_FAILED',
      [subjectToken, CLIENT_SECRET],
    )

    assert.equal(error.oauthError, 'invalid_grant')
    assert.equal(corp.exchangeCount, 1)
  })
})
