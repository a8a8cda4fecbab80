import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { SqlParseFailed, SqlUnsupported } from '../../../src/errors.js'
import {
  compareFacts,
  createCrossCheckFrontEnd,
} from '../../../src/dialect/postgres/cross-check-front-end.js'
import { createLibpgQueryFrontEnd } from '../../../src/dialect/postgres/libpg-query-front-end.js'
import { createPgsqlAstFrontEnd } from '../../../src/dialect/postgres/pgsql-ast-front-end.js'
import type { RequestFacts } from '../../../src/extract/statement-facts.js'
import type { SqlFrontEnd } from '../../../src/parse/front-end.js'

/** A front end that returns the facts of `base` after `change`, to stand for a faulty parser. */
function altered(base: SqlFrontEnd, change: (facts: RequestFacts) => RequestFacts): SqlFrontEnd {
  return { name: 'altered', dialect: 'postgres', analyze: (sql) => change(base.analyze(sql)) }
}

function failing(error: Error): SqlFrontEnd {
  return {
    name: 'failing',
    dialect: 'postgres',
    analyze: () => {
      throw error
    },
  }
}

function isDisagreement(aspect: string) {
  return (error: unknown): boolean =>
    error instanceof SqlUnsupported &&
    error.frontEnd === 'cross-check' &&
    error.construct === `front-end disagreement on ${aspect}`
}

describe('cross-check front end', () => {
  let libpgQuery: SqlFrontEnd
  const pgsqlAst = createPgsqlAstFrontEnd()
  let crossCheck: SqlFrontEnd
  before(async () => {
    libpgQuery = await createLibpgQueryFrontEnd()
    crossCheck = createCrossCheckFrontEnd(libpgQuery, pgsqlAst)
  })

  it('returns the primary facts when both agree', () => {
    const sql = 'SELECT a FROM t JOIN u ON t.id = u.id'
    const facts = crossCheck.analyze(sql)
    assert.equal(facts.frontEnd, 'cross-check(libpg-query, pgsql-ast-parser)')
    assert.deepEqual(facts.statements, libpgQuery.analyze(sql).statements)
  })

  it('denies the comment that hides a DELETE', () => {
    const sql = "SELECT count(*) FROM t /* ' */ ; DELETE FROM t; -- ' */"
    assert.throws(() => crossCheck.analyze(sql), SqlUnsupported)
  })

  it('denies a different statement count', () => {
    const oneStatement = altered(pgsqlAst, (facts) => ({
      ...facts,
      statements: facts.statements.slice(0, 1),
    }))
    const check = createCrossCheckFrontEnd(libpgQuery, oneStatement)
    assert.throws(() => check.analyze('SELECT 1; DELETE FROM t'), isDisagreement('statement count'))
  })

  it('denies a missing table and names it', () => {
    const noTables = altered(pgsqlAst, (facts) => ({
      ...facts,
      statements: facts.statements.map((statement) => ({ ...statement, tables: [] })),
    }))
    const check = createCrossCheckFrontEnd(libpgQuery, noTables)
    assert.throws(
      () => check.analyze('DELETE FROM accounts'),
      (error: unknown) =>
        isDisagreement('tables')(error) &&
        (error as Error).message.includes('accounts:delete') &&
        (error as Error).message.includes('libpg-query') &&
        (error as Error).message.includes('altered'),
    )
  })

  it('denies a missing floor fact', () => {
    const noFloor = altered(pgsqlAst, (facts) => ({
      ...facts,
      statements: facts.statements.map((statement) => ({ ...statement, floor: [] })),
    }))
    const check = createCrossCheckFrontEnd(libpgQuery, noFloor)
    assert.throws(() => check.analyze("SELECT pg_read_file('x')"), isDisagreement('floor'))
  })

  it('fails closed when only the secondary cannot parse', () => {
    assert.doesNotThrow(() => libpgQuery.analyze('EXPLAIN SELECT 1'))
    assert.throws(
      () => crossCheck.analyze('EXPLAIN SELECT 1'),
      (error: unknown) => error instanceof SqlUnsupported && error.frontEnd === 'pgsql-ast-parser',
    )
  })

  it('fails closed when only the primary cannot parse', () => {
    const error = new SqlParseFailed('failing', 'rejected')
    const check = createCrossCheckFrontEnd(failing(error), pgsqlAst)
    assert.throws(() => check.analyze('SELECT 1'), (thrown: unknown) => thrown === error)
  })

  it('keeps the primary fingerprint', () => {
    assert.equal(crossCheck.fingerprint?.('SELECT 1'), libpgQuery.fingerprint?.('SELECT 1'))
  })

  it('rejects front ends of two dialects', () => {
    const mssql: SqlFrontEnd = { ...pgsqlAst, dialect: 'mssql' }
    assert.throws(() => createCrossCheckFrontEnd(libpgQuery, mssql), TypeError)
  })

  it('compares facts regardless of order', () => {
    const sql = 'SELECT a, b FROM t, u'
    const facts = libpgQuery.analyze(sql)
    const reversed: RequestFacts = {
      ...facts,
      statements: facts.statements.map((statement) => ({
        ...statement,
        tables: [...statement.tables].reverse(),
        columns: [...statement.columns].reverse(),
      })),
    }
    assert.equal(compareFacts(facts, reversed), null)
  })
})
