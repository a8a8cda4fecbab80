import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { inspect } from 'node:util'

import {
  TokenClaimMissing,
  TokenExchangeFailed,
  TokenExpired,
  TokenInvalid,
} from '../../src/errors.js'
import {
  TOKEN_TYPE_ACCESS_TOKEN,
  createTokenExchangeConfig,
} from '../../src/token/token-exchange-config.js'
import type { TokenExchangeConfig } from '../../src/token/token-exchange-config.js'
import { TokenExchangeService } from '../../src/token/token-exchange-service.js'
import { TOKEN_EXCHANGE_GRANT, TestIdentityProvider } from '../support/identity-provider.js'
import { assertNoSecrets, expectTokenError } from './assert-token-error.js'

const CLIENT_ID = 'sqlgate-gateway'
const CLIENT_SECRET = 'client-secret-7f3a9c1e5b2d4086'
const FRONTEND_AUDIENCE = 'sqlgate-frontend'
const DATABASE_AUDIENCE = 'sqlgate-database'

let corp: TestIdentityProvider
let partner: TestIdentityProvider

before(async () => {
  corp = await TestIdentityProvider.start({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    subjects: {
      'user-1': { legacy_name: 'alice', roles: ['analyst'] },
      'user-2': { roles: ['analyst'] },
    },
  })
  partner = await TestIdentityProvider.start({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    algorithm: 'RS256',
    subjects: { 'user-1': { legacy_name: 'alice_admin', roles: ['admin', 'auditor'] } },
  })
  partner.subjectTokenIssuer = corp
})

after(async () => {
  await corp.close()
  await partner.close()
})

beforeEach(() => {
  corp.reset()
  partner.reset()
})

/** Changes to the default test configuration; `undefined` removes a setting. */
type ConfigOverrides = { [K in keyof TokenExchangeConfig]?: TokenExchangeConfig[K] | undefined }

/** Builds a configuration for `provider` that trusts requestor tokens issued by `corp`. */
function configFor(
  provider: TestIdentityProvider,
  overrides: ConfigOverrides = {},
): TokenExchangeConfig {
  return createTokenExchangeConfig({
    idpName: provider === corp ? 'corp' : 'partner',
    tokenEndpoint: provider.tokenEndpoint,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    audience: DATABASE_AUDIENCE,
    scope: 'sql:read',
    issuer: provider.issuer,
    jwksUrl: provider.jwksUrl,
    jwksCooldownMs: 0,
    requestorVerification: {
      issuer: corp.issuer,
      audience: FRONTEND_AUDIENCE,
      keySet: { jwksUrl: corp.jwksUrl, cooldownMs: 0 },
    },
    retryDelayMs: 10,
    timeoutMs: 1000,
    ...overrides,
  } as TokenExchangeConfig)
}

function subjectToken(sub = 'user-1', lifetimeSeconds?: number): Promise<string> {
  const options = lifetimeSeconds === undefined ? {} : { lifetimeSeconds }
  return corp.issueSubjectToken(sub, FRONTEND_AUDIENCE, options)
}

/** Exchanges `token` and expects `TokenExchangeFailed` that leaks neither token nor secret. */
async function expectExchangeFailed(service: TokenExchangeService, token: string) {
  const error = await expectTokenError(
    service.exchange(token),
    TokenExchangeFailed,
    'ERR_TOKEN_EXCHANGE_FAILED',
    [token, CLIENT_SECRET],
  )
  assertServiceHidesSecrets(service, token)

  return error
}

function assertServiceHidesSecrets(service: TokenExchangeService, token: string): void {
  for (const rendering of [inspect(service, { depth: 10 }), JSON.stringify(service)]) {
    assert.ok(!rendering.includes(token), 'service rendering contains the token')
    assert.ok(!rendering.includes(CLIENT_SECRET), 'service rendering contains the secret')
  }
}

describe('TokenExchangeService exchanges', () => {
  test('token for verified identity', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken()

    const identity = await service.exchange(token)

    assert.equal(identity.subject, 'user-1')
    assert.equal(identity.legacyName, 'alice')
    assert.deepEqual(identity.roles, ['analyst'])
    assert.deepEqual(identity.actor, { sub: CLIENT_ID })
    assert.equal(identity.issuer, corp.issuer)
    assert.equal(identity.audience, DATABASE_AUDIENCE)
    assert.ok(Object.isFrozen(identity))
    assert.equal(corp.exchangeCount, 1)
  })

  test('request form and Basic auth', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken()

    await service.exchange(token)

    const request = corp.requests[0]
    assert.ok(request !== undefined)
    assert.equal(request.form.grant_type, TOKEN_EXCHANGE_GRANT)
    assert.equal(request.form.subject_token, token)
    assert.equal(request.form.subject_token_type, TOKEN_TYPE_ACCESS_TOKEN)
    assert.equal(request.form.audience, DATABASE_AUDIENCE)
    assert.equal(request.form.scope, 'sql:read')
    assert.equal(request.form.requested_token_type, undefined)
    assert.equal(request.form.client_secret, undefined)
    const expected = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')
    assert.equal(request.authorization, `Basic ${expected}`)
  })

  test('client auth in form fields', async () => {
    const config = configFor(corp, {
      clientAuth: 'post',
      requestedTokenType: 'urn:ietf:params:oauth:token-type:jwt',
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
    })
    const service = new TokenExchangeService({ config })

    await service.exchange(await subjectToken())

    const request = corp.requests[0]
    assert.ok(request !== undefined)
    assert.equal(request.authorization, undefined)
    assert.equal(request.form.client_id, CLIENT_ID)
    assert.equal(request.form.client_secret, CLIENT_SECRET)
    assert.equal(request.form.requested_token_type, 'urn:ietf:params:oauth:token-type:jwt')
    assert.equal(request.form.subject_token_type, 'urn:ietf:params:oauth:token-type:jwt')
  })

  test('scope roles added', async () => {
    const config = configFor(corp, { scopeRoles: { 'sql:read': 'sql-read' } })
    const identity = await new TokenExchangeService({ config }).exchange(await subjectToken())

    assert.deepEqual(identity.roles, ['analyst', 'sql-read'])
  })

  test('requestor issuer picks its JWKS', async () => {
    const requestorVerification = [
      { issuer: partner.issuer, audience: FRONTEND_AUDIENCE, keySet: { jwks: partner.jwks } },
      { issuer: corp.issuer, audience: FRONTEND_AUDIENCE, keySet: { jwksUrl: corp.jwksUrl } },
    ]
    const config = configFor(corp, { requestorVerification })
    const identity = await new TokenExchangeService({ config }).exchange(await subjectToken())

    assert.equal(identity.legacyName, 'alice')
  })

  test('without local requestor verification', async () => {
    const config = configFor(corp, { requestorVerification: 'identity-provider' })
    const identity = await new TokenExchangeService({ config }).exchange(await subjectToken())

    assert.equal(identity.legacyName, 'alice')
  })
})

describe('TokenExchangeService cache', () => {
  test('second request hits cache', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken()

    const first = await service.exchange(token)
    const second = await service.exchange(token)

    assert.equal(second, first)
    assert.equal(corp.exchangeCount, 1)
    assert.equal(service.stats.cachedIdentities, 1)
  })

  test('ten concurrent requests, one exchange', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken()

    const identities = await Promise.all(Array.from({ length: 10 }, () => service.exchange(token)))

    assert.equal(corp.exchangeCount, 1)
    assert.equal(new Set(identities).size, 1)
    assert.equal(service.stats.inFlight, 0)
  })

  test('another token, another exchange', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })

    await service.exchange(await subjectToken('user-1', 300))
    await service.exchange(await subjectToken('user-1', 301))

    assert.equal(corp.exchangeCount, 2)
  })

  test('equal configs share the cache', async () => {
    const service = new TokenExchangeService()
    const token = await subjectToken()

    await service.exchange(token, configFor(corp))
    await service.exchange(token, configFor(corp))
    await service.exchange(token, configFor(corp, { scope: 'sql:write' }))

    assert.equal(corp.exchangeCount, 2)
  })

  test('failed exchange not cached', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken()
    corp.behaviour = 'invalid-grant'

    await expectExchangeFailed(service, token)
    corp.behaviour = 'ok'
    const identity = await service.exchange(token)

    assert.equal(identity.legacyName, 'alice')
    assert.equal(corp.exchangeCount, 2)
  })

  test('entry not served within skew', async () => {
    const config = configFor(corp, { cache: { expirySkewSeconds: 400 } })
    const service = new TokenExchangeService({ config })
    const token = await subjectToken()

    await service.exchange(token)
    await service.exchange(token)

    assert.equal(corp.exchangeCount, 2)
    assert.equal(service.stats.cachedIdentities, 0)
  })

  test('requestor expiry bounds the entry', async () => {
    // The TE-JWT lives 300 s, but the requestor token expires within the 30 s skew.
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken('user-1', 20)

    await service.exchange(token)
    await service.exchange(token)

    assert.equal(corp.exchangeCount, 2)
  })

  test('least recently used evicted', async () => {
    const config = configFor(corp, { cache: { maxEntries: 2 } })
    const service = new TokenExchangeService({ config })
    const tokens = await Promise.all([300, 301, 302].map((life) => subjectToken('user-1', life)))

    for (const token of tokens) await service.exchange(token)
    await service.exchange(tokens[2] ?? '')
    await service.exchange(tokens[0] ?? '')

    assert.equal(corp.exchangeCount, 4)
    assert.equal(service.stats.cachedIdentities, 2)
  })

  test('cache disabled', async () => {
    const config = configFor(corp, { cache: { enabled: false } })
    const service = new TokenExchangeService({ config })
    const token = await subjectToken()

    await service.exchange(token)
    await service.exchange(token)

    assert.equal(corp.exchangeCount, 2)
  })
})

describe('TokenExchangeService failures', () => {
  test('slow provider times out', async () => {
    const config = configFor(corp, { timeoutMs: 100, retries: 1 })
    const service = new TokenExchangeService({ config })
    const token = await subjectToken()
    corp.behaviour = 'slow'
    corp.delayMs = 1000

    const error = await expectExchangeFailed(service, token)

    assert.equal(error.oauthError, 'timeout')
    assert.match(error.message, /timed out after 2 attempts/)
    assert.equal(corp.exchangeCount, 2)
  })

  test('HTTP 500 retried then fails', async () => {
    const warnings: Record<string, unknown>[] = []
    const logger = { warn: (details: Readonly<Record<string, unknown>>) => warnings.push(details) }
    const service = new TokenExchangeService({ config: configFor(corp), logger })
    const token = await subjectToken()
    corp.behaviour = 'server-error'

    const error = await expectExchangeFailed(service, token)

    assert.equal(error.oauthError, 'server_error')
    assert.equal(error.status, 500)
    assert.equal(corp.exchangeCount, 3)
    assert.equal(warnings.length, 2)
    assert.ok(!JSON.stringify(warnings).includes(token))
    assert.ok(!JSON.stringify(warnings).includes(CLIENT_SECRET))
  })

  test('HTTP 503 keeps the OAuth error', async () => {
    const service = new TokenExchangeService({ config: configFor(corp, { retries: 1 }) })
    corp.behaviour = 'unavailable'

    const error = await expectExchangeFailed(service, await subjectToken())

    assert.equal(error.oauthError, 'temporarily_unavailable')
    assert.equal(error.status, 503)
    assert.equal(corp.exchangeCount, 2)
  })

  test('HTTP 500 then success', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    corp.pendingServerErrors = 2

    const identity = await service.exchange(await subjectToken())

    assert.equal(identity.legacyName, 'alice')
    assert.equal(corp.exchangeCount, 3)
  })

  test('invalid_grant not retried', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken()
    corp.behaviour = 'invalid-grant'

    const error = await expectExchangeFailed(service, token)

    assert.equal(error.oauthError, 'invalid_grant')
    assert.equal(error.status, 400)
    assert.equal(corp.exchangeCount, 1)
    assert.match(error.message, /rejected the token exchange with HTTP 400: invalid_grant/)
    assert.match(error.message, /\[redacted\]/)
    assert.doesNotMatch(error.message, /[\u0000-\u001f]/)
    assert.doesNotMatch(error.message, /eyJ/)
  })

  test('redirect not followed', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    corp.behaviour = 'redirect'

    const error = await expectExchangeFailed(service, await subjectToken())

    assert.equal(error.oauthError, 'unexpected_redirect')
    assert.equal(error.status, 302)
    assert.equal(corp.exchangeCount, 1)
  })

  test('wrong audience in TE-JWT', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    corp.behaviour = 'wrong-audience'

    const error = await expectExchangeFailed(service, await subjectToken())

    assert.equal(error.oauthError, 'invalid_issued_token')
    assert.ok(error.cause instanceof TokenInvalid)
    assert.equal(error.cause.reason, 'audience')
  })

  test('expired TE-JWT', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    corp.behaviour = 'expired'

    const error = await expectExchangeFailed(service, await subjectToken())

    assert.equal(error.oauthError, 'invalid_issued_token')
    assert.ok(error.cause instanceof TokenExpired)
  })

  test('TE-JWT with unknown key id', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    corp.behaviour = 'unknown-key'

    const error = await expectExchangeFailed(service, await subjectToken())

    assert.equal(error.oauthError, 'invalid_issued_token')
    assert.ok(error.cause instanceof TokenInvalid)
    assert.equal(error.cause.reason, 'key-not-found')
  })

  test('oversized response rejected', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    corp.behaviour = 'oversized'

    const error = await expectExchangeFailed(service, await subjectToken())

    assert.equal(error.oauthError, 'invalid_response')
    assert.equal(error.status, 200)
    assert.equal(corp.exchangeCount, 1)
  })

  test('unexpected issued token type', async () => {
    const config = configFor(corp, { requestedTokenType: TOKEN_TYPE_ACCESS_TOKEN })
    const service = new TokenExchangeService({ config })

    const error = await expectExchangeFailed(service, await subjectToken())

    assert.equal(error.oauthError, 'invalid_response')
  })

  test('unreachable token endpoint', async () => {
    const config = configFor(corp, { tokenEndpoint: 'http://127.0.0.1:9/token', retries: 1 })
    const service = new TokenExchangeService({ config })

    const error = await expectExchangeFailed(service, await subjectToken())

    assert.equal(error.oauthError, 'network_error')
    assert.equal(error.status, undefined)
  })

  test('TE-JWT without legacy_name', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken('user-2')

    const error = await expectTokenError(
      service.exchange(token),
      TokenClaimMissing,
      'ERR_TOKEN_CLAIM_MISSING',
      [token, CLIENT_SECRET],
    )

    assert.equal(error.claim, 'legacy_name')
  })

  test('expired requestor token', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken('user-1', -120)

    await expectTokenError(service.exchange(token), TokenExpired, 'ERR_TOKEN_EXPIRED', [token])

    assert.equal(corp.exchangeCount, 0)
  })

  test('requestor token from unknown issuer', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await partner.issueSubjectToken('user-1', FRONTEND_AUDIENCE)

    const error = await expectTokenError(
      service.exchange(token),
      TokenInvalid,
      'ERR_TOKEN_INVALID',
      [token],
    )

    assert.equal(error.reason, 'issuer')
    assert.equal(corp.exchangeCount, 0)
  })

  test('forged requestor token', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const [header, payload] = (await subjectToken()).split('.')
    const forged = `${header}.${payload}.${'A'.repeat(86)}`

    const error = await expectTokenError(
      service.exchange(forged),
      TokenInvalid,
      'ERR_TOKEN_INVALID',
      [forged],
    )

    assert.equal(error.reason, 'signature')
    assert.equal(corp.exchangeCount, 0)
  })

  test('opaque requestor token rejected', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })

    const error = await expectTokenError(
      service.exchange('opaque-access-token-value'),
      TokenInvalid,
      'ERR_TOKEN_INVALID',
      ['opaque-access-token-value'],
    )

    assert.equal(error.reason, 'malformed')
  })
})

describe('TokenExchangeService identity providers', () => {
  test('key rotation picked up', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })

    await service.exchange(await subjectToken())
    const fetchesBefore = corp.jwksFetchCount
    await corp.rotateKeys()
    const identity = await service.exchange(await subjectToken())

    assert.equal(identity.legacyName, 'alice')
    assert.equal(corp.exchangeCount, 2)
    assert.ok(corp.jwksFetchCount > fetchesBefore, 'JWKS was not fetched again')
  })

  test('two providers, different roles', async () => {
    const corpService = new TokenExchangeService({ config: configFor(corp) })
    const partnerService = new TokenExchangeService({ config: configFor(partner) })
    const token = await subjectToken()

    const fromCorp = await corpService.exchange(token)
    const fromPartner = await partnerService.exchange(token)

    assert.equal(fromCorp.legacyName, 'alice')
    assert.deepEqual(fromCorp.roles, ['analyst'])
    assert.equal(fromPartner.legacyName, 'alice_admin')
    assert.deepEqual(fromPartner.roles, ['admin', 'auditor'])
    assert.equal(fromPartner.issuer, partner.issuer)
  })

  test('one service, two configs', async () => {
    const service = new TokenExchangeService()
    const token = await subjectToken()

    const fromCorp = await service.exchange(token, configFor(corp))
    const fromPartner = await service.exchange(token, configFor(partner))

    assert.deepEqual(fromCorp.roles, ['analyst'])
    assert.deepEqual(fromPartner.roles, ['admin', 'auditor'])
    assert.equal(service.stats.configs, 2)
  })
})

describe('TokenExchangeService secrets', () => {
  test('config redacts client secret', () => {
    const config = configFor(corp, { keySet: { secret: 'k'.repeat(40) }, jwksUrl: undefined })

    assert.equal(config.clientSecret, CLIENT_SECRET)
    for (const rendering of [JSON.stringify(config), inspect(config, { depth: 10 })]) {
      assert.ok(!rendering.includes(CLIENT_SECRET), 'config rendering contains the secret')
      assert.ok(!rendering.includes('k'.repeat(40)), 'config rendering contains the HMAC key')
      assert.match(rendering, /\[redacted\]/)
    }
  })

  test('service inspection shows counters only', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken()
    await service.exchange(token)

    assertServiceHidesSecrets(service, token)
    assert.match(inspect(service), /cachedIdentities: 1/)
  })

  test('errors hide secrets in every rendering', async () => {
    const service = new TokenExchangeService({ config: configFor(corp) })
    const token = await subjectToken()
    corp.behaviour = 'invalid-grant'

    const error = await expectExchangeFailed(service, token)

    assertNoSecrets(error, [token, CLIENT_SECRET])
  })
})

describe('TokenExchangeService config', () => {
  const invalid: [string, ConfigOverrides][] = [
    ['plain http to a remote host', { tokenEndpoint: 'http://idp.example.com/token' }],
    ['no key set', { jwksUrl: undefined }],
    ['empty client id', { clientId: '' }],
    ['unknown client auth', { clientAuth: 'none' as 'basic' }],
    ['negative retries', { retries: -1 }],
    ['HMAC algorithm with a JWKS', { algorithms: ['HS256'] }],
  ]

  for (const [name, overrides] of invalid) {
    test(`rejects ${name}`, async () => {
      const service = new TokenExchangeService()
      const token = await subjectToken()

      await assert.rejects(service.exchange(token, configFor(corp, overrides)), TypeError)
      assert.equal(corp.exchangeCount, 0)
    })
  }

  test('rejects missing config', async () => {
    await assert.rejects(new TokenExchangeService().exchange('x'), TypeError)
  })
})
