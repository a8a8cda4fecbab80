import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import { readAttackCases } from '../support/attack-cases.js'

describe('PostgreSQL attack cases', () => {
  let engine: PolicyEngine
  before(async () => {
    engine = await createPolicyEngine()
  })

  for (const attack of readAttackCases().filter((item) => item.dialect === 'postgresql')) {
    it(`${attack.id} is ${attack.expected === 'allow' ? 'allowed' : 'denied'}`, () => {
      const decision = engine.check({ dialect: 'postgres', roles: [attack.role], sql: attack.sql })
      assert.equal(decision.allowed, attack.expected === 'allow', JSON.stringify(decision.denials))
      if (attack.expected === 'deny') assert.ok(decision.denials.length > 0)
    })
  }
})
