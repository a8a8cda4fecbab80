/**
 * A T-SQL lexer that follows SQL Server's own quoting rules, so statement boundaries and keywords
 * are found where the server finds them. The general-purpose parser gets some of these rules
 * wrong (it reads `\'` as an escaped quote), and a wrong quote rule lets a second statement hide
 * inside what looks like a string.
 */

import { SqlParseFailed } from '../../errors.js'

export const TSQL_LEXER_NAME = 'tsql-lexer'

/**
 * Token kinds. Comments and whitespace produce no token.
 * - `word`: an unquoted identifier or keyword; `value` is upper case.
 * - `quoted-identifier`: `[name]` or `"name"`; `value` is the name with escapes and trailing
 *   spaces removed.
 * - `string`: `'text'` or `N'text'`; `value` is the text with `''` collapsed.
 * - `variable`: `@name` or `@@name`; `temp-name`: `#name` or `##name`.
 */
export type TsqlTokenKind =
  | 'word'
  | 'quoted-identifier'
  | 'string'
  | 'number'
  | 'variable'
  | 'temp-name'
  | 'operator'
  | 'punctuation'

export interface TsqlToken {
  readonly kind: TsqlTokenKind
  /** The token exactly as written. */
  readonly text: string
  /** Upper-case word, unescaped identifier or string content, or `text` for other kinds. */
  readonly value: string
  /** Zero-based offset of the first character. */
  readonly start: number
  /** Whether a string literal has the `N` prefix. */
  readonly national?: boolean
}

const OPERATORS = [
  '<>', '!=', '>=', '<=', '!<', '!>', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '::',
  '=', '<', '>', '+', '-', '*', '/', '%', '&', '|', '^', '~', '!',
]
const PUNCTUATION = new Set(['(', ')', ',', ';', '.'])

// Sticky and global patterns matched at an offset, so a long text is never copied per token.
const LINE_END = /[\r\n]/gu
const NUMBER = /0x[0-9a-f]*|(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/iuy
const MONEY = /\$(\d+\.?\d*|\.\d+)/uy

function isIdentifierStart(ch: string): boolean {
  return /[\p{L}_]/u.test(ch)
}

function isIdentifierPart(ch: string): boolean {
  return /[\p{L}\p{N}_@#$]/u.test(ch)
}

/**
 * Splits T-SQL text into tokens. Block comments nest, as they do in SQL Server.
 * @throws SqlParseFailed on an unterminated string, quoted identifier or comment, or on a
 * character that cannot start a token.
 */
export function lexTsql(sql: string): TsqlToken[] {
  const tokens: TsqlToken[] = []
  const length = sql.length
  let i = 0

  const fail = (what: string, at: number): never => {
    throw new SqlParseFailed(TSQL_LEXER_NAME, `${what} at offset ${at}`, { position: at })
  }

  // Reads a delimited run that ends at `close`, where a doubled `close` is an escaped one.
  const readDelimited = (from: number, close: string, what: string): [string, number] => {
    let value = ''
    let j = from
    for (;;) {
      const end = sql.indexOf(close, j)
      if (end < 0) fail(`unterminated ${what}`, from - 1)
      value += sql.slice(j, end)
      if (sql[end + 1] === close) {
        value += close
        j = end + 2
        continue
      }
      return [value, end + 1]
    }
  }

  while (i < length) {
    const ch = sql[i] as string
    const next = sql[i + 1]

    if (/\s/u.test(ch)) {
      i += 1
      continue
    }

    if (ch === '-' && next === '-') {
      // Ending the comment at CR as well as LF can only make more text visible to the checks.
      LINE_END.lastIndex = i
      const match = LINE_END.exec(sql)
      i = match === null ? length : match.index + 1
      continue
    }

    if (ch === '/' && next === '*') {
      let depth = 1
      let j = i + 2
      while (depth > 0) {
        if (j >= length) fail('unterminated block comment', i)
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth += 1
          j += 2
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth -= 1
          j += 2
        } else {
          j += 1
        }
      }
      i = j
      continue
    }

    const start = i

    if ((ch === 'N' || ch === 'n') && next === "'") {
      const [value, end] = readDelimited(i + 2, "'", 'string literal')
      tokens.push({ kind: 'string', text: sql.slice(start, end), value, start, national: true })
      i = end
      continue
    }

    if (ch === "'") {
      const [value, end] = readDelimited(i + 1, "'", 'string literal')
      tokens.push({ kind: 'string', text: sql.slice(start, end), value, start, national: false })
      i = end
      continue
    }

    if (ch === '[' || ch === '"') {
      const close = ch === '[' ? ']' : '"'
      const [name, end] = readDelimited(i + 1, close, 'quoted identifier')
      // SQL Server compares identifiers like strings, so `[salaries ]` names table `salaries`.
      const value = name.replace(/ +$/u, '')
      tokens.push({ kind: 'quoted-identifier', text: sql.slice(start, end), value, start })
      i = end
      continue
    }

    if (ch === '@' || ch === '#') {
      let j = i + 1
      if (sql[j] === ch) j += 1
      while (j < length && isIdentifierPart(sql[j] as string)) j += 1
      if (j === i + 1) fail(`stray ${ch}`, i)
      const text = sql.slice(start, j)
      const kind = ch === '@' ? 'variable' : 'temp-name'
      tokens.push({ kind, text, value: text.toUpperCase(), start })
      i = j
      continue
    }

    if (/[0-9]/u.test(ch) || (ch === '.' && next !== undefined && /[0-9]/u.test(next))) {
      NUMBER.lastIndex = i
      const match = NUMBER.exec(sql)
      const text = match?.[0] ?? ch
      const after = sql[i + text.length]
      // `1eREVERT` or `0x1g`: how SQL Server splits such text is not worth guessing.
      if (after !== undefined && (isIdentifierPart(after) || after === '.')) {
        fail('number followed by a letter or a dot', i)
      }
      tokens.push({ kind: 'number', text, value: text, start })
      i += text.length
      continue
    }

    if (ch === '$' && next !== undefined && /[0-9.]/u.test(next)) {
      MONEY.lastIndex = i
      const match = MONEY.exec(sql)
      const text = match?.[0] ?? ch
      tokens.push({ kind: 'number', text, value: text, start })
      i += text.length
      continue
    }

    // Pseudo-columns such as `$action` (MERGE OUTPUT) and `$IDENTITY`.
    if (ch === '$' && next !== undefined && /[A-Za-z]/u.test(next)) {
      let j = i + 1
      while (j < length && isIdentifierPart(sql[j] as string)) j += 1
      const text = sql.slice(start, j)
      tokens.push({ kind: 'word', text, value: text.toUpperCase(), start })
      i = j
      continue
    }

    if (isIdentifierStart(ch)) {
      let j = i + 1
      while (j < length && isIdentifierPart(sql[j] as string)) j += 1
      const text = sql.slice(start, j)
      tokens.push({ kind: 'word', text, value: text.toUpperCase(), start })
      i = j
      continue
    }

    if (PUNCTUATION.has(ch)) {
      tokens.push({ kind: 'punctuation', text: ch, value: ch, start })
      i += 1
      continue
    }

    const operator = OPERATORS.find((op) => sql.startsWith(op, i))
    if (operator !== undefined) {
      tokens.push({ kind: 'operator', text: operator, value: operator, start })
      i += operator.length
      continue
    }

    fail('unexpected character', i)
  }

  return tokens
}

/** Tells whether `token` is the unquoted word `word` (upper case). */
export function isWord(token: TsqlToken | undefined, ...words: string[]): boolean {
  return token !== undefined && token.kind === 'word' && words.includes(token.value)
}

/** Tells whether `token` is the punctuation or operator `text`. */
export function isSymbol(token: TsqlToken | undefined, text: string): boolean {
  return (
    token !== undefined &&
    (token.kind === 'punctuation' || token.kind === 'operator') &&
    token.text === text
  )
}
