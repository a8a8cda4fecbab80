import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { createCrossCheckFrontEnd } from '../../src/dialect/postgres/cross-check-front-end.js'
import { createLibpgQueryFrontEnd } from '../../src/dialect/postgres/libpg-query-front-end.js'
import { createPgsqlAstFrontEnd } from '../../src/dialect/postgres/pgsql-ast-front-end.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'

const nested = (depth: number): string => `SELECT ${'('.repeat(depth)}1${')'.repeat(depth)}`
const inList = (bytes: number): string => {
  const items: string[] = []
  let length = 0
  for (let index = 0; length < bytes; index += 1) {
    items.push(String(index))
    length += String(index).length + 1
  }
  return `SELECT * FROM accounts WHERE id IN (${items.join(',')})`
}

/** Texts that nest deeply or run long; each must end in a decision, never in a crash. */
const INPUTS: readonly (readonly [string, string])[] = [
  ['10,000 parentheses', nested(10_000)],
  ['7,000 parentheses', nested(7_000)],
  ['a 100 KB IN list', inList(100_000)],
  ['2,000 nested sub-queries', `SELECT ${'(SELECT '.repeat(2_000)}1${')'.repeat(2_000)}`],
  ['4,000 additions', `SELECT ${Array.from({ length: 4_000 }, () => '1').join(' + ')}`],
  ['5,000 NOTs', `SELECT ${'NOT '.repeat(5_000)}true`],
  ['3,000 nested arrays', `SELECT ${'ARRAY['.repeat(3_000)}1${']'.repeat(3_000)}`],
]

describe('deep nesting and long input', () => {
  const engines: Record<string, PolicyEngine> = {}
  before(async () => {
    const libpgQuery = await createLibpgQueryFrontEnd()
    const pgsqlAst = createPgsqlAstFrontEnd()
    // Past its own input limit the parser meets its time and heap limits instead.
    const unlimited = createPgsqlAstFrontEnd({ maxSqlBytes: 256 * 1024 })
    const frontEnds = {
      'libpg-query': libpgQuery,
      'pgsql-ast-parser': pgsqlAst,
      'pgsql-ast-parser without input limit': unlimited,
      'cross-check': createCrossCheckFrontEnd(libpgQuery, pgsqlAst),
    }
    for (const [name, postgres] of Object.entries(frontEnds)) {
      engines[name] = await createPolicyEngine({ frontEnds: { postgres }, cache: false })
    }
  })

  for (const [label, sql] of INPUTS) {
    it(`ends cleanly on ${label}`, () => {
      for (const [name, engine] of Object.entries(engines)) {
        const decision = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
        if (decision.error !== null) {
          assert.equal(decision.allowed, false, name)
          assert.match(decision.error.code, /^ERR_SQL_/, name)
        }
      }
    })
  }
})
