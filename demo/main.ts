/**
 * The sqlgate demo: three users with signed TE-JWTs send real SQL through a PostgreSQL
 * delegation module. Uses the server in DATABASE_URL when set, else an embedded PGlite.
 *
 * Run with `npm start`. The decision log is off by default so the table stays readable; set
 * `SQLGATE_LOG_LEVEL=info` to write it to standard error as pino JSON lines.
 */

import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import pg from 'pg'

import { PostgreSQLDelegationModule } from '../src/dialect/postgres/postgres-delegation-module.js'
import { startEmbeddedPostgres } from '../src/embedded/embedded-postgres.js'
import { createPolicyEngine } from '../src/engine/create-policy-engine.js'
import type { Grant } from '../src/authorize/decision.js'
import { AccessDenied, ExecutionFailed, isSqlgateError } from '../src/errors.js'
import { createLogger } from '../src/logging/create-logger.js'
import { createPinoAuditSink } from '../src/logging/pino-audit-sink.js'
import { createDemoSchema, DEMO_ROLES } from './demo-schema.js'
import { DEMO_REQUESTS, DEMO_USERS, type DemoUser } from './demo-requests.js'
import { printTable, type DemoRow } from './print-table.js'

const ISSUER = 'https://idp.demo.local'
const AUDIENCE = 'shop'

async function main(): Promise<void> {
  const url = process.env['DATABASE_URL']
  const embedded = url === undefined || url === '' ? await startEmbeddedPostgres() : undefined
  const connectionString = embedded?.connectionString ?? (url as string)
  process.stdout.write(
    embedded === undefined
      ? `database: PostgreSQL server from DATABASE_URL\n`
      : `database: embedded PGlite on 127.0.0.1:${embedded.port} (no server needed)\n`,
  )

  const admin = new pg.Client({ connectionString })
  await admin.connect()
  await createDemoSchema(admin)
  await admin.end()

  // The identity provider's key: TE-JWTs are signed with it and verified against its JWKS.
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid: 'demo-key', alg: 'ES256' }
  const forgerKey = (await generateKeyPair('ES256')).privateKey

  const engine = await createPolicyEngine({
    policyDirectory: new URL('./policies/', import.meta.url).pathname,
  })
  const level = process.env['SQLGATE_LOG_LEVEL'] ?? 'silent'
  const audit = createPinoAuditSink(createLogger({ destination: process.stderr, level }))
  const module = new PostgreSQLDelegationModule('shop', { engine, audit })
  const parsed = new URL(connectionString)
  await module.initialize({
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    database: decodeURIComponent(parsed.pathname.slice(1)),
    user: decodeURIComponent(parsed.username),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    options: { searchPath: ['shop'] },
    // Every pglite-socket connection shares one session, so the embedded database gets one.
    pool: { max: embedded === undefined ? 4 : 1 },
  })
  module.setTokenVerification({ keySet: { jwks: { keys: [jwk] } }, issuer: ISSUER, audience: AUDIENCE })

  const sign = (user: DemoUser): Promise<string> =>
    new SignJWT({ legacy_name: DEMO_ROLES[user.databaseRole], roles: user.roles })
      .setProtectedHeader({ alg: 'ES256', kid: 'demo-key' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(user.name)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(user.forged === true ? forgerKey : privateKey)

  const rows: DemoRow[] = []
  for (const request of DEMO_REQUESTS) {
    const user = DEMO_USERS[request.user]
    const teJwt = await sign(user)
    try {
      const result = await module.delegate({ teJwt }, 'query', {
        sql: request.sql,
        params: request.params ?? [],
      })
      rows.push({
        user: `${user.name} (${user.roles.join(', ')})`,
        sql: request.sql,
        decision: 'allow',
        why: grantOf(result.decision.grants),
        rows: result.command === 'SELECT' ? String(result.rowCount) : `${result.rowCount} changed`,
      })
    } catch (error) {
      // A statement the policy allowed can still be refused by the database's own grants.
      const refusedByDatabase = error instanceof ExecutionFailed
      rows.push({
        user: `${user.name} (${user.roles.join(', ')})`,
        sql: request.sql,
        decision: refusedByDatabase ? 'allow' : 'deny',
        why: refusedByDatabase ? `the database refused it: ${error.message}` : explain(error),
        rows: '-',
      })
    }
  }

  await module.close()
  await embedded?.stop()
  printTable(rows, process.stdout)
  if (level === 'silent') {
    process.stdout.write('\nSet SQLGATE_LOG_LEVEL=info to see the decision log on standard error.\n')
  }
}

/** Describes the policy line that allowed the first table access, else the first grant. */
function grantOf(grants: readonly Grant[]): string {
  const grant = grants.find((item) => item.object.startsWith('table:')) ?? grants[0]
  return grant === undefined ? '' : `${grant.action} on ${grant.object} by "${grant.rule}"`
}

/** Describes in one line why a request did not run: the first denied fact, or the error. */
function explain(error: unknown): string {
  if (error instanceof AccessDenied) {
    const first = error.denials[0]
    const more = error.denials.length > 1 ? ` (+${error.denials.length - 1} more)` : ''
    if (first === undefined) return error.message
    if (first.object.startsWith('floor:')) return `${first.object}: ${first.reason}`
    if (first.rule === 'no matching allow') {
      return `no policy line allows ${first.action} on ${first.object}${more}`
    }
    return `${first.action} on ${first.object}: ${first.reason}${more}`
  }
  if (isSqlgateError(error)) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}

await main()
