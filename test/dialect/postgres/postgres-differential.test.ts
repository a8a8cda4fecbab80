import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { before, describe, it } from 'node:test'

import { createLibpgQueryFrontEnd } from '../../../src/dialect/postgres/libpg-query-front-end.js'
import { createPgsqlAstFrontEnd } from '../../../src/dialect/postgres/pgsql-ast-front-end.js'
import type { SqlFrontEnd } from '../../../src/parse/front-end.js'
import {
  APP_CORPUS,
  REGRESSION_CORPUS,
  adminDenials,
  compareCorpus,
  decidedShare,
} from '../../../scripts/differential.js'
import { parseCorpus } from '../../support/corpus.js'

/** Statement ids whose facts differ without a known parser defect to explain it. */
function unexplained(outcomes: ReturnType<typeof compareCorpus>): number[] {
  return outcomes
    .filter((outcome) => outcome.disagreement !== null && outcome.defect === null)
    .map((outcome) => outcome.statement.id)
}

describe('PostgreSQL front ends on the corpora', () => {
  let libpgQuery: SqlFrontEnd
  const pgsqlAst = createPgsqlAstFrontEnd()
  before(async () => {
    libpgQuery = await createLibpgQueryFrontEnd()
  })

  describe('application corpus', () => {
    const statements = parseCorpus(readFileSync(APP_CORPUS, 'utf8'))

    it('has facts that agree wherever both parse', () => {
      const outcomes = compareCorpus(statements, libpgQuery, pgsqlAst)
      assert.deepEqual(unexplained(outcomes), [])
      const agreeing = outcomes.filter(
        (outcome) => !(outcome.pgsqlAst instanceof Error) && outcome.disagreement === null,
      )
      assert.ok(agreeing.length >= 280, `only ${agreeing.length} statements agree`)
    })

    it('has no denial for the admin role', async () => {
      assert.deepEqual(await adminDenials(statements), [])
    })
  })

  describe('regression corpus', () => {
    const present = existsSync(REGRESSION_CORPUS)
    const skip = present ? false : `${REGRESSION_CORPUS} is absent`
    const statements = present ? parseCorpus(readFileSync(REGRESSION_CORPUS, 'utf8')) : []

    it('has facts that agree wherever both parse', { skip }, () => {
      const outcomes = compareCorpus(statements, libpgQuery, pgsqlAst)
      assert.ok(outcomes.length > 17000, `only ${outcomes.length} statements were read`)
      assert.deepEqual(unexplained(outcomes), [])
    })

    it('gets 99% decided by the default front end', { skip }, async () => {
      const share = await decidedShare(statements)
      assert.ok(share >= 0.99, `only ${(share * 100).toFixed(2)}% were decided`)
    })
  })
})
