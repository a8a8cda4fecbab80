import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import fc from 'fast-check'

import { fingerprintPostgres } from '../../src/dialect/postgres/postgres-fingerprint.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'

/** A secret that cannot be mistaken for a keyword: a fixed prefix and random letters and digits. */
const letterSecret = fc
  .stringMatching(/^[a-z0-9]{10,20}$/)
  .map((value) => `zq${value}`)
const digitSecret = fc.stringMatching(/^[1-9][0-9]{9,15}$/)
const bitSecret = fc.stringMatching(/^1[01]{15,30}$/)
const hexSecret = fc.stringMatching(/^[A-F][0-9A-F]{11,20}$/)

/** SQL text with the secret in one literal or comment, well formed or not. */
const templates: readonly ((secret: string) => string)[] = [
  (secret) => `SELECT id FROM accounts WHERE note = '${secret}'`,
  (secret) => `SELECT E'a\\'${secret}'`,
  (secret) => `SELECT $$${secret}$$`,
  (secret) => `SELECT $tag$ ${secret} $tag$`,
  (secret) => `SELECT U&'${secret}'`,
  (secret) => `SELECT N'${secret}'`,
  (secret) => `SELECT 1 -- ${secret}`,
  (secret) => `SELECT /* ${secret} */ 1`,
  (secret) => `SELECT '${secret}' FRM accounts`,
  (secret) => `SELECT 'unterminated ${secret}`,
  (secret) => `SELECT E'${secret}`,
  (secret) => `SELECT $$${secret}`,
  (secret) => `DELETE FROM accounts WHERE note = '${secret}'`,
  (secret) => `SELECT 1; SELECT '${secret}'`,
  (secret) => `SELECT set_config('role', '${secret}', false)`,
]

const numericTemplates: readonly ((secret: string) => string)[] = [
  (secret) => `SELECT ${secret}`,
  (secret) => `SELECT ${secret}.5`,
  (secret) => `SELECT * FROM accounts WHERE id = ${secret}`,
  (secret) => `SELECT ${secret}abc`,
]

describe('fingerprint and decision properties', () => {
  let engine: PolicyEngine

  before(async () => {
    engine = await createPolicyEngine({ cache: false })
  })

  /** Fails when the fingerprint or the decision (reasons, facts, error) mentions the secret. */
  function assertHidden(sql: string, secret: string): void {
    const fingerprint = fingerprintPostgres(sql) ?? ''
    assert.ok(!fingerprint.includes(secret), `fingerprint of ${sql}`)
    const decision = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
    const text = JSON.stringify({ ...decision, error: decision.error?.message ?? null })
    assert.ok(!text.includes(secret), `decision of ${sql}: ${text}`)
  }

  it('hides text literals and comments', () => {
    const property = fc.property(
      letterSecret,
      fc.integer({ min: 0, max: templates.length - 1 }),
      (secret, index) => assertHidden(templates[index]?.(secret) ?? '', secret),
    )
    fc.assert(property, { numRuns: 300 })
  })

  it('hides numbers', () => {
    const property = fc.property(
      digitSecret,
      fc.integer({ min: 0, max: numericTemplates.length - 1 }),
      (secret, index) => assertHidden(numericTemplates[index]?.(secret) ?? '', secret),
    )
    fc.assert(property, { numRuns: 200 })
  })

  it('hides bit and hex strings', () => {
    const property = fc.property(bitSecret, hexSecret, (bits, hex) => {
      assertHidden(`SELECT B'${bits}'`, bits)
      assertHidden(`SELECT X'${hex}'`, hex)
    })
    fc.assert(property, { numRuns: 200 })
  })
})
