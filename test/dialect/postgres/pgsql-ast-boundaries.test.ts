import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { scanStatementSegments } from '../../../src/dialect/postgres/pgsql-ast-boundaries.js'

/** Offsets of the statement-ending semicolons, or the scan problem. */
function separators(sql: string): readonly number[] | string {
  const segments = scanStatementSegments(sql)
  return typeof segments === 'string' ? segments : segments.separators
}

describe('statement boundaries', () => {
  const cases: readonly (readonly [string, readonly number[] | string])[] = [
    ['SELECT 1; SELECT 2', [8]],
    ["SELECT ';'", []],
    ["SELECT 'it''s;'", []],
    ["SELECT 'a\\'; DELETE FROM t; --'", [11, 26]],
    ["SELECT E'\\'; DELETE FROM t; --'", []],
    ["SELECT e'\\\\'; SELECT 1", [12]],
    ["SELECT xe'a'; SELECT 1", [12]],
    ['SELECT "a;b"; SELECT 1', [12]],
    ['SELECT $$;$$; SELECT 1', [12]],
    ['SELECT $a$ $$; $a$; SELECT 1', [18]],
    ['SELECT $1; SELECT 2', [9]],
    ['SELECT a$b$c; SELECT 1', [12]],
    ['SELECT 1 -- ;\n; SELECT 2', [14]],
    ["SELECT 1 /* ' */ ; DELETE FROM t; -- ' */", [17, 32]],
    ['SELECT 1 /* /* */ ; DELETE FROM t; */', []],
    ['SELECT 1 /* /* */', 'unterminated comment'],
    ["SELECT 'x", 'unterminated string'],
    ['SELECT "x', 'unterminated identifier'],
    ['SELECT $$x', 'unterminated string'],
  ]
  for (const [sql, expected] of cases) {
    it(`splits ${JSON.stringify(sql)}`, () => {
      assert.deepEqual(separators(sql), expected)
    })
  }

  it('marks segments without tokens', () => {
    const segments = scanStatementSegments('SELECT 1; /* c */ ; -- x\n')
    assert.notEqual(typeof segments, 'string')
    if (typeof segments === 'string') return
    assert.deepEqual(segments.hasTokens, [true, false, false])
  })

  it('flags dollar signs in identifiers', () => {
    const flagged = (sql: string): boolean => {
      const segments = scanStatementSegments(sql)
      return typeof segments !== 'string' && segments.dollarInIdentifier
    }
    assert.equal(flagged('SELECT a$b FROM t'), true)
    assert.equal(flagged('SELECT $1, $$a$$, "a$b" FROM t'), false)
  })

  it('flags unsafe block comments only', () => {
    const flagged = (sql: string): boolean => {
      const segments = scanStatementSegments(sql)
      return typeof segments !== 'string' && segments.unsafeBlockComment
    }
    assert.equal(flagged("SELECT 1 /* it's */"), true)
    assert.equal(flagged('SELECT 1 /* $$ */'), true)
    assert.equal(flagged('SELECT 1 /* "x */'), true)
    assert.equal(flagged('SELECT 1 /* -- */'), true)
    assert.equal(flagged('SELECT 1 /* /* */ */'), true)
    assert.equal(flagged('SELECT 1 /* a - b * c / d */'), false)
    assert.equal(flagged('SELECT 1 /**/'), false)
    assert.equal(flagged("SELECT 1 -- it's"), false)
    assert.equal(flagged("SELECT '/* '' */'"), false)
  })
})
