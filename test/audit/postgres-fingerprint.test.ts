import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { loadModule } from 'libpg-query'

import { fingerprintPostgres } from '../../src/dialect/postgres/postgres-fingerprint.js'

/** SQL with one recognizable secret per literal kind, and the fingerprint expected for it. */
const CASES: readonly { name: string; sql: string; expected: string }[] = [
  {
    name: 'standard string',
    sql: "SELECT * FROM t WHERE ssn = '123-45-6789'",
    expected: 'SELECT * FROM t WHERE ssn = ?',
  },
  { name: 'escape string', sql: "SELECT E'sec\\'ret-e'", expected: 'SELECT ?' },
  { name: 'lower-case escape string', sql: "SELECT e'secret-e'", expected: 'SELECT ?' },
  { name: 'dollar quote', sql: 'SELECT $$secret-dollar$$', expected: 'SELECT ?' },
  { name: 'tagged dollar quote', sql: 'SELECT $tag$secret-tag$tag$', expected: 'SELECT ?' },
  { name: 'integer', sql: 'SELECT 987654321', expected: 'SELECT ?' },
  { name: 'decimal', sql: 'SELECT 3.14159, .5, 6e23', expected: 'SELECT ? , ? , ?' },
  { name: 'hexadecimal integer', sql: 'SELECT 0xDEADBEEF', expected: 'SELECT ?' },
  { name: 'integer with underscores', sql: 'SELECT 1_000_777', expected: 'SELECT ?' },
  { name: 'bit string', sql: "SELECT B'010111'", expected: 'SELECT ?' },
  { name: 'hexadecimal bit string', sql: "SELECT X'C0FFEE'", expected: 'SELECT ?' },
  { name: 'Unicode escape string', sql: "SELECT U&'s\\0065cret'", expected: 'SELECT ?' },
  {
    name: 'Unicode escape with UESCAPE',
    sql: "SELECT U&'s!0065cret' UESCAPE '!'",
    expected: 'SELECT ? UESCAPE ?',
  },
  { name: 'national string', sql: "SELECT N'secret-n'", expected: 'SELECT N ?' },
  { name: 'string continuation', sql: "SELECT 'secret-a'\n'secret-b'", expected: 'SELECT ?' },
  { name: 'typed literal', sql: "SELECT DATE '2031-12-24'", expected: 'SELECT DATE ?' },
  { name: 'line comment', sql: 'SELECT 1 -- secret-comment', expected: 'SELECT ?' },
  { name: 'block comment', sql: 'SELECT /* secret-comment */ 1', expected: 'SELECT ?' },
  {
    name: 'nested block comment',
    sql: 'SELECT /* a /* secret-inner */ secret-outer */ 1',
    expected: 'SELECT ?',
  },
  { name: 'parameters stay', sql: 'SELECT $1, $2', expected: 'SELECT $1 , $2' },
]

describe('fingerprintPostgres', () => {
  before(async () => {
    await loadModule()
  })

  for (const { name, sql, expected } of CASES) {
    it(`replaces ${name}`, () => {
      const fingerprint = fingerprintPostgres(sql)
      assert.equal(fingerprint, expected)
      assert.ok(!/secret|123-45|987654321|14159|C0FFEE|2031|777/i.test(fingerprint ?? ''))
    })
  }

  it('returns null for unterminated strings', () => {
    assert.equal(fingerprintPostgres("SELECT 'secret-unterminated"), null)
    assert.equal(fingerprintPostgres('SELECT $q$secret-unterminated'), null)
  })

  it('keeps identifiers and keywords', () => {
    assert.equal(
      fingerprintPostgres('SELECT "Balance" FROM public.accounts WHERE id = 7'),
      'SELECT "Balance" FROM public . accounts WHERE id = ?',
    )
  })

  it('gives equal fingerprints for different values', () => {
    assert.equal(
      fingerprintPostgres("SELECT * FROM t WHERE a = 'x' AND b = 1"),
      fingerprintPostgres("SELECT * FROM t WHERE a = 'yy' AND b = 22"),
    )
  })
})
