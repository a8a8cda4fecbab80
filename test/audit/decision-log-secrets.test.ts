import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'

import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'

import type { AuditEvent, DecisionEvent } from '../../src/audit/audit-event.js'
import {
  PostgreSQLDelegationModule,
} from '../../src/dialect/postgres/postgres-delegation-module.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import type { DelegationSession, QueryParams } from '../../src/execute/delegation-module.js'
import { createLogger } from '../../src/logging/create-logger.js'
import { createPinoAuditSink } from '../../src/logging/pino-audit-sink.js'
import { openTestDatabase, READER_ROLE, type TestDatabase } from '../support/test-database.js'

const CHANNELS = [
  'sqlgate:authorize:decision',
  'sqlgate:execute:result',
  'sqlgate:policy:reload',
  'sqlgate:policy:sync',
]

/**
 * Values that must never reach a log line, an audit event or an error message. Every request
 * below carries at least one of them as a parameter value, an SQL literal or a comment.
 */
const SECRETS = [
  '123-45-6789',
  'param-secret-4f1c',
  'param-secret-int-9d2e',
  'param-secret-salary-77a1',
  'literal-secret-e51b',
  'dollar-secret-0b3d',
  'escape-secret-c9aa',
  'unicode-secret',
  '1011001110',
  'C0FFEE42',
  '987654321',
  '424242',
  'comment-secret-6de0',
  'exec-literal-secret-31f8',
  'parse-literal-secret-a2c4',
  'denied-literal-secret-5e77',
]

interface Request {
  readonly name: string
  readonly params: QueryParams
  /** `allowed`, `denied` (before the database) or `failed` (by the database). */
  readonly outcome: 'allowed' | 'denied' | 'failed'
}

const REQUESTS: readonly Request[] = [
  {
    name: 'literal in WHERE',
    params: { sql: "SELECT id FROM accounts WHERE id::text <> '123-45-6789'" },
    outcome: 'allowed',
  },
  {
    name: 'parameter value',
    params: { sql: 'SELECT id FROM accounts WHERE id::text = $1', params: ['param-secret-4f1c'] },
    outcome: 'allowed',
  },
  {
    name: 'every literal kind',
    params: {
      sql:
        "SELECT 'literal-secret-e51b', $$dollar-secret-0b3d$$, E'escape-secret-c9aa', " +
        "U&'unicode-secret', B'1011001110', X'C0FFEE42', 987654321 /* comment-secret-6de0 */ " +
        '-- comment-secret-6de0',
    },
    outcome: 'allowed',
  },
  {
    name: 'parameter quoted by the server',
    params: { sql: 'SELECT $1::int AS n', params: ['param-secret-int-9d2e'] },
    outcome: 'failed',
  },
  {
    name: 'literal quoted by the server',
    params: { sql: "SELECT 'exec-literal-secret-31f8'::int AS n" },
    outcome: 'failed',
  },
  {
    name: 'table without grant',
    params: {
      sql: 'SELECT amount FROM salaries WHERE amount::text = $1',
      params: ['param-secret-salary-77a1'],
    },
    outcome: 'failed',
  },
  {
    name: 'denied delete',
    params: { sql: 'DELETE FROM accounts WHERE id = 424242' },
    outcome: 'denied',
  },
  {
    name: 'denied update',
    params: {
      sql: "UPDATE accounts SET balance = 0 WHERE id::text = 'denied-literal-secret-5e77'",
    },
    outcome: 'denied',
  },
  {
    name: 'parse failure',
    params: { sql: "SELECT 'parse-literal-secret-a2c4' FRM accounts" },
    outcome: 'denied',
  },
]

describe('decision log secrecy', () => {
  let database: TestDatabase
  let engine: PolicyEngine
  let module: PostgreSQLDelegationModule
  let privateKey: CryptoKey
  let otherKey: CryptoKey
  const sinkEvents: AuditEvent[] = []
  const channelEvents: unknown[] = []
  const thrown: Error[] = []
  const tokens: string[] = []
  let logText = ''
  const subscriber = (message: unknown): void => {
    channelEvents.push(message)
  }

  async function token(
    options: { key?: CryptoKey; expiresIn?: string; roles?: string[] } = {},
  ): Promise<string> {
    const jwt = await new SignJWT({
      legacy_name: READER_ROLE,
      roles: options.roles ?? ['sql-read'],
      act: { sub: 'reporting-agent' },
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'audit-key' })
      .setIssuer('https://idp.test')
      .setAudience('postgresql-audit')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(options.key ?? privateKey)
    tokens.push(jwt)
    return jwt
  }

  async function send(
    session: DelegationSession,
    params: QueryParams,
  ): Promise<'allowed' | 'thrown'> {
    try {
      await module.delegate(session, 'query', params)
      return 'allowed'
    } catch (error) {
      assert.ok(error instanceof Error)
      thrown.push(error)
      return 'thrown'
    }
  }

  before(async () => {
    database = await openTestDatabase()
    engine = await createPolicyEngine()
    const logger = createLogger({
      level: 'trace',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logText += chunk.toString()
          done()
        },
      }),
    })
    const logSink = createPinoAuditSink(logger)
    module = new PostgreSQLDelegationModule('postgresql-audit', {
      engine,
      audit: (event) => {
        sinkEvents.push(event)
        logSink(event)
      },
    })
    await module.initialize(database.moduleConfig)
    for (const name of CHANNELS) diagnosticsChannel.subscribe(name, subscriber)

    const pair = await generateKeyPair('ES256', { extractable: true })
    privateKey = pair.privateKey
    otherKey = (await generateKeyPair('ES256')).privateKey
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'audit-key', alg: 'ES256' }
    module.setTokenVerification({
      keySet: { jwks: { keys: [jwk] } },
      issuer: 'https://idp.test',
      audience: 'postgresql-audit',
    })

    for (const request of REQUESTS) {
      const outcome = await send({ teJwt: await token() }, request.params)
      assert.equal(
        outcome === 'allowed' ? 'allowed' : 'thrown',
        request.outcome === 'allowed' ? 'allowed' : 'thrown',
        request.name,
      )
    }
    const select = { sql: "SELECT id FROM accounts WHERE id::text <> '123-45-6789'" }
    assert.equal(await send({ teJwt: await token({ key: otherKey }) }, select), 'thrown')
    assert.equal(await send({ teJwt: await token({ expiresIn: '-10m' }) }, select), 'thrown')
    assert.equal(await send({ teJwt: await token({ roles: ['no-such-role'] }) }, select), 'thrown')
  })

  after(async () => {
    for (const name of CHANNELS) diagnosticsChannel.unsubscribe(name, subscriber)
    await module.close()
    await database.close()
  })

  it('logs one decision per request', () => {
    const decisions = sinkEvents.filter((event) => event.type === 'decision')
    assert.equal(decisions.length, REQUESTS.length + 3)
    assert.equal(
      channelEvents.filter((event) => (event as AuditEvent).type === 'decision').length,
      decisions.length,
    )
    const logged = logText.trim().split('\n')
    assert.equal(logged.length, sinkEvents.length)
  })

  it('decision events carry the identity and policy', () => {
    const event = sinkEvents.find(
      (candidate): candidate is DecisionEvent =>
        candidate.type === 'decision' && candidate.decision === 'allow',
    )
    assert.ok(event)
    assert.equal(event.subject, 'alice')
    assert.equal(event.legacyName, READER_ROLE)
    assert.deepEqual(event.roles, ['sql-read'])
    assert.deepEqual(event.actor, { sub: 'reporting-agent' })
    assert.equal(event.module, 'postgresql-audit')
    assert.equal(event.dialect, 'postgres')
    assert.equal(event.policyVersion, engine.policyVersion)
    assert.equal(event.fingerprint, 'SELECT id FROM accounts WHERE id :: text <> ?')
    assert.ok(event.facts !== null)
    assert.ok(event.grants.length > 0)
    assert.ok(event.durationMs >= 0)
    assert.ok(event.requestId.length > 0)
  })

  it('failed identities are logged without a subject', () => {
    const codes = sinkEvents
      .filter((event): event is DecisionEvent => event.type === 'decision')
      .filter((event) => event.subject === null)
      .map((event) => event.errorCode)
    assert.deepEqual(codes, ['ERR_TOKEN_INVALID', 'ERR_TOKEN_EXPIRED'])
  })

  it('every literal kind is fingerprinted', () => {
    const fingerprints = sinkEvents
      .filter((event): event is DecisionEvent => event.type === 'decision')
      .map((event) => event.fingerprint)
    assert.ok(
      fingerprints.includes('SELECT ? , ? , ? , ? , ? , ? , ?'),
      JSON.stringify(fingerprints),
    )
  })

  const places: readonly [string, () => string][] = [
    ['the pino log', () => logText],
    ['the sink events', () => JSON.stringify(sinkEvents)],
    ['the channel events', () => JSON.stringify(channelEvents)],
    ['the thrown messages', () => thrown.map((error) => `${error.name}: ${error.message}`).join()],
    ['the thrown errors', () => JSON.stringify(thrown.map((error) => ({ ...error })))],
    ['the error causes', () => thrown.map((error) => String(error.cause ?? '')).join('\n')],
  ]

  for (const [place, text] of places) {
    it(`no secret in ${place}`, () => {
      const content = text()
      assert.ok(content.length > 0, `${place} is empty`)
      for (const secret of SECRETS) {
        const found = content.toLowerCase().includes(secret.toLowerCase())
        assert.ok(!found, `${place} contains ${secret}`)
      }
    })

    it(`no token in ${place}`, () => {
      const content = text()
      assert.ok(tokens.length === REQUESTS.length + 3)
      for (const jwt of tokens) {
        // Each part is checked alone, so a logged payload or signature is found too.
        for (const part of jwt.split('.')) {
          assert.ok(!content.includes(part), `${place} contains part of a token`)
        }
      }
    })
  }
})
