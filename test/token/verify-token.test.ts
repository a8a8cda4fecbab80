import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose'
import type { CryptoKey, JSONWebKeySet, JWTPayload } from 'jose'

import { TokenClaimMissing, TokenExpired, TokenInvalid } from '../../src/errors.js'
import { createKeySet } from '../../src/token/key-set.js'
import { verifyToken } from '../../src/token/verify-token.js'
import type { VerifyTokenOptions } from '../../src/token/verify-token.js'
import { TestIdentityProvider } from '../support/identity-provider.js'
import { expectTokenError } from './assert-token-error.js'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'sqlgate'
const KID = 'signing-key'

let privateKey: CryptoKey
let jwks: JSONWebKeySet
let options: VerifyTokenOptions

const validClaims: JWTPayload = {
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'user-1',
  legacy_name: 'alice',
  roles: ['analyst'],
}

/** Verifies `token` and expects `TokenInvalid` whose text never contains `secrets`. */
function expectInvalid(
  token: string,
  secrets = [token],
  overrides: Partial<VerifyTokenOptions> = {},
) {
  const promise = verifyToken(token, { ...options, ...overrides })
  return expectTokenError(promise, TokenInvalid, 'ERR_TOKEN_INVALID', secrets)
}

/** Verifies `token` and expects `TokenClaimMissing` whose text never contains the token. */
function expectClaimMissing(token: string, overrides: Partial<VerifyTokenOptions> = {}) {
  const promise = verifyToken(token, { ...options, ...overrides })
  return expectTokenError(promise, TokenClaimMissing, 'ERR_TOKEN_CLAIM_MISSING', [token])
}

/** Verifies `token` and expects `TokenExpired` whose text never contains the token. */
function expectExpired(token: string, overrides: Partial<VerifyTokenOptions> = {}) {
  const promise = verifyToken(token, { ...options, ...overrides })
  return expectTokenError(promise, TokenExpired, 'ERR_TOKEN_EXPIRED', [token])
}

async function sign(claims: JWTPayload, header: { alg?: string; kid?: string } = {}) {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ iat: now, nbf: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: KID, ...header })
    .sign(privateKey)
}

before(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true })
  privateKey = pair.privateKey
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'ES256' }] }
  options = { keySet: createKeySet({ jwks }), issuer: ISSUER, audience: AUDIENCE }
})

describe('verifyToken accepts', () => {
  test('valid token', async () => {
    const identity = await verifyToken(await sign(validClaims), options)

    assert.equal(identity.subject, 'user-1')
    assert.equal(identity.legacyName, 'alice')
    assert.deepEqual(identity.roles, ['analyst'])
    assert.equal(identity.issuer, ISSUER)
    assert.equal(identity.audience, AUDIENCE)
    assert.ok(identity.expiresAt.getTime() > Date.now())
    assert.equal(identity.actor, undefined)
    assert.ok(Object.isFrozen(identity))
    assert.ok(Object.isFrozen(identity.roles))
  })

  test('act claim kept and frozen', async () => {
    const act = { sub: 'gateway', act: { sub: 'batch-job' } }
    const identity = await verifyToken(await sign({ ...validClaims, act }), options)

    assert.deepEqual(identity.actor, act)
    assert.ok(Object.isFrozen(identity.actor))
    assert.ok(Object.isFrozen(identity.actor?.act))
  })

  test('audience array matching one value', async () => {
    const token = await sign({ ...validClaims, aud: ['other', AUDIENCE] })
    const identity = await verifyToken(token, { ...options, audience: ['x', AUDIENCE] })

    assert.equal(identity.audience, AUDIENCE)
  })

  test('custom claim names', async () => {
    const token = await sign({ ...validClaims, db_user: 'bob', groups: ['ops', 'ops'] })
    const identity = await verifyToken(token, {
      ...options,
      legacyNameClaim: 'db_user',
      rolesClaim: 'groups',
    })

    assert.equal(identity.legacyName, 'bob')
    assert.deepEqual(identity.roles, ['ops'])
  })

  test('scope roles added', async () => {
    const scopeRoles = { 'sql:read': 'sql-read', 'sql:write': ['sql-write', 'analyst'] }
    const withScope = await sign({ ...validClaims, scope: 'openid sql:read sql:write' })
    const withScp = await sign({ ...validClaims, scp: ['sql:read', 'toString'] })

    const fromScope = await verifyToken(withScope, { ...options, scopeRoles })
    const fromScp = await verifyToken(withScp, { ...options, scopeRoles })

    assert.deepEqual(fromScope.roles, ['analyst', 'sql-read', 'sql-write'])
    assert.deepEqual(fromScp.roles, ['analyst', 'sql-read'])
  })

  test('delimited roles only when enabled', async () => {
    const token = await sign({ ...validClaims, roles: 'analyst, auditor ops' })

    await expectClaimMissing(token)
    const identity = await verifyToken(token, { ...options, allowDelimitedRoles: true })
    assert.deepEqual(identity.roles, ['analyst', 'auditor', 'ops'])
  })

  test('SQL Server domain user when enabled', async () => {
    const token = await sign({ ...validClaims, legacy_name: 'CORP\\alice' })

    await expectClaimMissing(token)
    const identity = await verifyToken(token, { ...options, legacyNameFormat: 'sqlserver' })
    assert.equal(identity.legacyName, 'CORP\\alice')
  })

  test('expiry within clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = await sign({ ...validClaims, iat: now - 600, exp: now - 10 })

    const identity = await verifyToken(token, options)
    assert.equal(identity.subject, 'user-1')
    await expectExpired(token, { clockToleranceSeconds: 0 })
  })

  test('HS256 with explicit secret key set', async () => {
    const secret = new TextEncoder().encode('s'.repeat(32))
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({ ...validClaims, nbf: now, exp: now + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret)

    const identity = await verifyToken(token, { ...options, keySet: { secret } })
    assert.equal(identity.legacyName, 'alice')
  })

  test('JWKS file key set', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sqlgate-jwks-'))
    const path = join(directory, 'jwks.json')
    await writeFile(path, JSON.stringify(jwks))
    try {
      const identity = await verifyToken(await sign(validClaims), {
        ...options,
        keySet: { jwksFile: path },
      })
      assert.equal(identity.legacyName, 'alice')
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})

describe('verifyToken rejects', () => {
  test('bad signature', async () => {
    const token = await sign(validClaims)
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
    const tampered = `${header}.${payload}.${flipped}`

    const error = await expectInvalid(tampered)
    assert.equal(error.reason, 'signature')
  })

  test('payload changed after signing', async () => {
    const token = await sign(validClaims)
    const [header, , signature] = token.split('.') as [string, string, string]
    const claims = { ...validClaims, legacy_name: 'postgres', exp: 9999999999 }
    const forged = Buffer.from(JSON.stringify(claims)).toString('base64url')
    const tampered = `${header}.${forged}.${signature}`

    const error = await expectInvalid(tampered)
    assert.equal(error.reason, 'signature')
  })

  test('wrong audience', async () => {
    const token = await sign({ ...validClaims, aud: 'another-service' })

    const error = await expectInvalid(token)
    assert.equal(error.reason, 'audience')
    assert.equal(error.message, 'token audience is not accepted')
  })

  test('wrong issuer', async () => {
    const token = await sign({ ...validClaims, iss: 'https://evil.test' })

    const error = await expectInvalid(token)
    assert.equal(error.reason, 'issuer')
    assert.equal(error.message, 'token issuer is not accepted')
  })

  test('expired', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = await sign({ ...validClaims, iat: now - 600, exp: now - 120 })

    const error = await expectExpired(token)
    assert.equal(error.message, 'token has expired')
  })

  test('not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = await sign({ ...validClaims, nbf: now + 120 })

    const error = await expectExpired(token)
    assert.equal(error.message, 'token is not yet valid')
  })

  test('missing exp', async () => {
    const token = await new SignJWT({ ...validClaims, nbf: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'ES256', kid: KID })
      .sign(privateKey)

    const error = await expectInvalid(token)
    assert.equal(error.reason, 'claims')
    assert.equal(error.message, 'token "exp" claim is missing')
  })

  test('missing nbf', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({ ...validClaims, iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: 'ES256', kid: KID })
      .sign(privateKey)

    const identity = await verifyToken(token, options)
    assert.equal(identity.legacyName, 'alice')
    const error = await expectInvalid(token, [token], { requireNotBefore: true })
    assert.equal(error.reason, 'claims')
    assert.equal(error.message, 'token "nbf" claim is missing')
  })

  test('alg none', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60
    const token = new UnsecuredJWT({ ...validClaims, exp }).encode()

    const error = await expectInvalid(token)
    assert.equal(error.reason, 'algorithm')
  })

  test('HS256 against a public key set', async () => {
    // The classic key confusion attack: the public key's JWK used as an HMAC secret.
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]))
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({ ...validClaims, nbf: now, exp: now + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: KID })
      .sign(secret)

    const error = await expectInvalid(token)
    assert.equal(error.reason, 'algorithm')
  })

  test('unknown key id', async () => {
    const token = await sign(validClaims, { kid: 'not-in-the-set' })

    const error = await expectInvalid(token)
    assert.equal(error.reason, 'key-not-found')
  })

  test('malformed token', async () => {
    for (const token of ['', 'abc', 'a.b.c', 'eyJhbGciOiJFUzI1NiJ9.e30']) {
      const error = await expectInvalid(token, token === '' ? [] : [token])
      assert.equal(error.reason, 'malformed')
    }
  })

  test('oversized token', async () => {
    const token = await sign({ ...validClaims, padding: 'x'.repeat(20000) })

    const error = await expectInvalid(token)
    assert.equal(error.reason, 'too-large')
  })

  test('no legacy_name', async () => {
    const { legacy_name: _omitted, ...claims } = validClaims
    const token = await sign(claims)

    const error = await expectClaimMissing(token)
    assert.equal(error.claim, 'legacy_name')
    assert.equal(error.message, 'token has no "legacy_name" claim')
  })

  test('invalid legacy_name', async () => {
    const invalid: unknown[] = [
      'x'.repeat(64),
      'é'.repeat(32),
      'alice\u0000',
      'ali\nce',
      'al"ice',
      "al'ice",
      'al`ice',
      ' alice',
      'CORP\\alice',
      'ali\u202ece',
      42,
      ['alice'],
      { name: 'alice' },
    ]
    for (const legacyName of invalid) {
      const token = await sign({ ...validClaims, legacy_name: legacyName })

      const error = await expectClaimMissing(token)
      assert.equal(error.claim, 'legacy_name')
      assert.equal(error.message, 'token "legacy_name" claim is not a valid database role name')
    }
  })

  test('invalid SQL Server legacy_name', async () => {
    for (const legacyName of ['CORP\\', '\\alice', 'A\\B\\C', 'ali]ce', 'x'.repeat(129)]) {
      const token = await sign({ ...validClaims, legacy_name: legacyName })

      const error = await expectClaimMissing(token, { legacyNameFormat: 'sqlserver' })
      assert.equal(error.claim, 'legacy_name')
    }
  })

  test('no roles', async () => {
    const { roles: _omitted, ...claims } = validClaims
    const token = await sign({ ...claims, scope: 'sql:read' })

    const error = await expectClaimMissing(token, { scopeRoles: { 'sql:read': 'sql-read' } })
    assert.equal(error.claim, 'roles')
    assert.equal(error.message, 'token has no "roles" claim')
  })

  test('empty roles', async () => {
    const token = await sign({ ...validClaims, roles: [] })

    const error = await expectClaimMissing(token)
    assert.equal(error.claim, 'roles')
    assert.equal(error.message, 'token "roles" claim is empty')
  })

  test('malformed roles', async () => {
    for (const roles of ['analyst', [''], ['  '], ['ok', 7], [null], ['a\u0000b'], {}]) {
      const token = await sign({ ...validClaims, roles })

      const error = await expectClaimMissing(token)
      assert.equal(error.claim, 'roles')
    }
  })

  test('no subject', async () => {
    const { sub: _omitted, ...claims } = validClaims
    const token = await sign(claims)

    const error = await expectClaimMissing(token)
    assert.equal(error.claim, 'sub')
  })

  test('malformed act claim', async () => {
    const token = await sign({ ...validClaims, act: 'gateway' })

    const error = await expectClaimMissing(token)
    assert.equal(error.claim, 'act')
  })

  test('unreadable JWKS file', async () => {
    const token = await sign(validClaims)
    const keySet = { jwksFile: join(tmpdir(), 'sqlgate-no-such-jwks.json') }

    const error = await expectInvalid(token, [token], { keySet })
    assert.equal(error.reason, 'key-set-unavailable')
  })

  test('claims hidden from inspection', async () => {
    const token = await sign({ ...validClaims, aud: 'another-service', legacy_name: 'secret-role' })

    await expectInvalid(token, [token, 'secret-role'])
  })
})

describe('verifyToken options', () => {
  test('none algorithm is a TypeError', async () => {
    const token = await sign(validClaims)

    await assert.rejects(verifyToken(token, { ...options, algorithms: ['none'] }), TypeError)
  })

  test('HMAC with public keys is a TypeError', async () => {
    const token = await sign(validClaims)

    const algorithms = ['ES256', 'HS256']
    await assert.rejects(verifyToken(token, { ...options, algorithms }), TypeError)
  })

  test('short secret is a TypeError', () => {
    assert.throws(() => createKeySet({ secret: 'too short' }), TypeError)
  })

  test('plain http JWKS URL is a TypeError', () => {
    assert.throws(() => createKeySet({ jwksUrl: 'http://idp.example.com/jwks' }), TypeError)
  })

  test('allow-list narrows algorithms', async () => {
    const token = await sign(validClaims)

    const error = await expectInvalid(token, [token], { algorithms: ['RS256'] })
    assert.equal(error.reason, 'algorithm')
  })
})

describe('verifyToken with a remote JWKS', () => {
  let provider: TestIdentityProvider

  before(async () => {
    provider = await TestIdentityProvider.start({ clientId: 'c', clientSecret: 's', subjects: {} })
  })

  after(async () => {
    await provider.close()
  })

  test('picks up rotated keys', async () => {
    const keySet = createKeySet({ jwksUrl: provider.jwksUrl, cooldownMs: 0 })
    const remote: VerifyTokenOptions = { keySet, issuer: provider.issuer, audience: AUDIENCE }
    const claims = { sub: 'user-1', aud: AUDIENCE, legacy_name: 'alice', roles: ['analyst'] }

    const first = await provider.issueSubjectToken('user-1', AUDIENCE, { claims })
    assert.equal((await verifyToken(first, remote)).legacyName, 'alice')
    assert.equal(provider.jwksFetchCount, 1)

    await provider.rotateKeys()
    const second = await provider.issueSubjectToken('user-1', AUDIENCE, { claims })
    assert.equal((await verifyToken(second, remote)).legacyName, 'alice')
    assert.equal(provider.jwksFetchCount, 2)
  })

  test('refetch waits for cooldown', async () => {
    provider.reset()
    const keySet = createKeySet({ jwksUrl: provider.jwksUrl, cooldownMs: 300 })
    const remote: VerifyTokenOptions = { keySet, issuer: provider.issuer, audience: AUDIENCE }
    const claims = { sub: 'user-1', aud: AUDIENCE, legacy_name: 'alice', roles: ['analyst'] }

    await verifyToken(await provider.issueSubjectToken('user-1', AUDIENCE, { claims }), remote)
    await provider.rotateKeys()
    const rotated = await provider.issueSubjectToken('user-1', AUDIENCE, { claims })

    const error = await expectInvalid(rotated, [rotated], remote)
    assert.equal(error.reason, 'key-not-found')
    assert.equal(provider.jwksFetchCount, 1)

    await new Promise((resolve) => setTimeout(resolve, 350))
    assert.equal((await verifyToken(rotated, remote)).legacyName, 'alice')
    assert.equal(provider.jwksFetchCount, 2)
  })
})
