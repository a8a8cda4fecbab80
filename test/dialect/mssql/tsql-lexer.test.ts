import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { SqlParseFailed } from '../../../src/errors.js'
import { lexTsql, type TsqlToken } from '../../../src/dialect/mssql/tsql-lexer.js'

function kinds(tokens: readonly TsqlToken[]): string[] {
  return tokens.map((token) => `${token.kind}:${token.value}`)
}

describe('lexTsql', () => {
  it('reads a backslash as an ordinary character', () => {
    const tokens = lexTsql("SELECT '\\'; DELETE FROM dbo.users; --'")
    assert.deepEqual(kinds(tokens), [
      'word:SELECT',
      'string:\\',
      'punctuation:;',
      'word:DELETE',
      'word:FROM',
      'word:DBO',
      'punctuation:.',
      'word:USERS',
      'punctuation:;',
    ])
  })

  it('collapses doubled quotes in strings', () => {
    const [token] = lexTsql("'it''s'")
    assert.equal(token?.kind, 'string')
    assert.equal(token?.value, "it's")
    assert.equal(token?.national, false)
  })

  it('reads N strings as national', () => {
    const [token] = lexTsql("n'x'")
    assert.equal(token?.kind, 'string')
    assert.equal(token?.national, true)
  })

  it('reads bracketed identifiers with doubled brackets', () => {
    const [token] = lexTsql('[a]]b]')
    assert.equal(token?.kind, 'quoted-identifier')
    assert.equal(token?.value, 'a]b')
  })

  it('reads double-quoted identifiers', () => {
    const [token] = lexTsql('"we""ird"')
    assert.equal(token?.kind, 'quoted-identifier')
    assert.equal(token?.value, 'we"ird')
  })

  it('skips nested block comments', () => {
    const tokens = lexTsql('SELECT /* a /* b */ DELETE */ 1')
    assert.deepEqual(kinds(tokens), ['word:SELECT', 'number:1'])
  })

  it('ends a line comment at CR or LF', () => {
    assert.deepEqual(kinds(lexTsql('-- x\rREVERT')), ['word:REVERT'])
    assert.deepEqual(kinds(lexTsql('-- x\nREVERT')), ['word:REVERT'])
  })

  it('keeps quotes inside comments inert', () => {
    const tokens = lexTsql("SELECT 1 /* ' */ ; REVERT -- '")
    assert.deepEqual(kinds(tokens), ['word:SELECT', 'number:1', 'punctuation:;', 'word:REVERT'])
  })

  it('reads variables, temp names and numbers', () => {
    const tokens = lexTsql('@id @@SPID #t ##g 1.5e3 0x1F $12.50 .5')
    assert.deepEqual(
      tokens.map((token) => token.kind),
      ['variable', 'variable', 'temp-name', 'temp-name', 'number', 'number', 'number', 'number'],
    )
  })

  it('reads SELECT*FROM as three tokens', () => {
    assert.deepEqual(kinds(lexTsql('SELECT*FROM dbo.users')).slice(0, 3), [
      'word:SELECT',
      'operator:*',
      'word:FROM',
    ])
  })

  it('reads two-character operators', () => {
    const tokens = lexTsql('a<>b!=c>=d::e')
    assert.deepEqual(
      tokens.filter((token) => token.kind === 'operator').map((token) => token.value),
      ['<>', '!=', '>=', '::'],
    )
  })

  const failures: Array<[string, string]> = [
    ['unterminated string', "SELECT 'abc"],
    ['unterminated identifier', 'SELECT [abc'],
    ['unterminated comment', 'SELECT 1 /* /* */'],
    ['unknown character', 'SELECT {fn user()}'],
    ['number glued to a word', 'SELECT 1eREVERT'],
  ]
  for (const [name, sql] of failures) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => lexTsql(sql),
        (error: unknown) =>
          error instanceof SqlParseFailed &&
          error.code === 'ERR_SQL_PARSE_FAILED' &&
          error.frontEnd === 'tsql-lexer' &&
          !error.message.includes(sql),
      )
    })
  }
})
