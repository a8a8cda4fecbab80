/**
 * Finds statement boundaries in PostgreSQL text with PostgreSQL's own lexical rules, independently
 * of pgsql-ast-parser. That parser's lexer reads quotes and `$$` inside block comments as string
 * starts, so it can see one statement where the server runs several. The front end compares the
 * parser's statement positions with these boundaries and denies the text when they differ.
 *
 * The rules follow PostgreSQL's scanner (scan.l) with `standard_conforming_strings` on, the
 * default since PostgreSQL 9.1: block comments nest, a backslash escapes a quote only in `E''`
 * strings, dollar quotes end only at the same tag, and `$` continues an identifier.
 */

/** Statement segments between top-level semicolons. */
export interface StatementSegments {
  /** Offsets of the `;` tokens that end statements, in order. */
  readonly separators: readonly number[]
  /** For each segment (one more than separators), whether it has a token that is not a comment. */
  readonly hasTokens: readonly boolean[]
  /**
   * Whether a block comment contains `'`, `"`, `$`, `--` or a nested `/*`. pgsql-ast-parser
   * lexes a comment's content as tokens, and these start tokens that can swallow its end.
   */
  readonly unsafeBlockComment: boolean
  /**
   * Whether an unquoted identifier contains `$`. PostgreSQL reads `x$$` as one identifier, but
   * pgsql-ast-parser reads `x` followed by the start of a dollar quote.
   */
  readonly dollarInIdentifier: boolean
  /**
   * Whether a Unicode space such as U+00A0 appears outside literals and block comments.
   * PostgreSQL reads it as part of an identifier and continues a line comment over U+2028, but
   * pgsql-ast-parser reads both as whitespace and line ends.
   */
  readonly unicodeSpace: boolean
}

/** Reason the scan stopped. */
export type ScanProblem = 'unterminated comment' | 'unterminated string' | 'unterminated identifier'

const IDENTIFIER_START = /[A-Za-z_\u0080-\uffff]/
const IDENTIFIER_PART = /[A-Za-z0-9_$\u0080-\uffff]/
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y
/** PostgreSQL's whitespace; other Unicode spaces are identifier characters to its scanner. */
const WHITESPACE = /[ \t\n\r\f\v]/
/** Characters that JavaScript's `\s` matches and PostgreSQL's scanner does not treat as space. */
const UNICODE_SPACE = /[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/

/** Scans `sql` and returns its segments, or the problem that stopped the scan. */
export function scanStatementSegments(sql: string): StatementSegments | ScanProblem {
  const separators: number[] = []
  const hasTokens: boolean[] = [false]
  let unsafeBlockComment = false
  let dollarInIdentifier = false
  let unicodeSpace = false
  const markToken = (): void => {
    hasTokens[hasTokens.length - 1] = true
  }

  let index = 0
  while (index < sql.length) {
    const char = sql[index] as string
    const next = sql[index + 1]

    if (WHITESPACE.test(char)) {
      index += 1
    } else if (char === '-' && next === '-') {
      const end = sql.slice(index).search(/[\r\n]/)
      const stop = end === -1 ? sql.length : index + end
      if (UNICODE_SPACE.test(sql.slice(index, stop))) unicodeSpace = true
      index = stop
    } else if (char === '/' && next === '*') {
      const end = skipBlockComment(sql, index)
      if (end === -1) return 'unterminated comment'
      if (/['"$]|--|\/\*/.test(sql.slice(index + 2, end - 2))) unsafeBlockComment = true
      index = end
    } else if (char === ';') {
      separators.push(index)
      hasTokens.push(false)
      index += 1
    } else if (char === "'") {
      markToken()
      const end = skipQuoted(sql, index, "'", false)
      if (end === -1) return 'unterminated string'
      index = end
    } else if (char === '"') {
      markToken()
      const end = skipQuoted(sql, index, '"', false)
      if (end === -1) return 'unterminated identifier'
      index = end
    } else if (char === '$' && dollarTagAt(sql, index) !== null) {
      markToken()
      const tag = dollarTagAt(sql, index) as string
      const close = sql.indexOf(tag, index + tag.length)
      if (close === -1) return 'unterminated string'
      index = close + tag.length
    } else if (IDENTIFIER_START.test(char)) {
      markToken()
      // E'...' is an escape string only when the E is a word of its own before the quote.
      if ((char === 'e' || char === 'E') && next === "'") {
        const end = skipQuoted(sql, index + 1, "'", true)
        if (end === -1) return 'unterminated string'
        index = end
        continue
      }
      index += 1
      while (index < sql.length && IDENTIFIER_PART.test(sql[index] as string)) {
        if (sql[index] === '$') dollarInIdentifier = true
        if (UNICODE_SPACE.test(sql[index] as string)) unicodeSpace = true
        index += 1
      }
    } else {
      // Numbers, parameters, operators and punctuation cannot hide a semicolon.
      markToken()
      index += 1
    }
  }
  return { separators, hasTokens, unsafeBlockComment, dollarInIdentifier, unicodeSpace }
}

/** Returns the dollar-quote tag (`$$` or `$name$`) that starts at `index`, or `null`. */
function dollarTagAt(sql: string, index: number): string | null {
  DOLLAR_TAG.lastIndex = index
  return DOLLAR_TAG.exec(sql)?.[0] ?? null
}

/** Returns the offset after a nested block comment that starts at `start`, or -1. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 0
  let index = start
  while (index < sql.length) {
    if (sql.startsWith('/*', index)) {
      depth += 1
      index += 2
    } else if (sql.startsWith('*/', index)) {
      depth -= 1
      index += 2
      if (depth === 0) return index
    } else {
      index += 1
    }
  }
  return -1
}

/**
 * Returns the offset after a quoted token that opens at `start`, or -1. A doubled quote stands
 * for itself; with `backslashEscapes` a backslash also escapes the next character.
 */
function skipQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let index = start + 1
  while (index < sql.length) {
    const char = sql[index]
    if (backslashEscapes && char === '\\') {
      index += 2
    } else if (char === quote) {
      if (sql[index + 1] !== quote) return index + 1
      index += 2
    } else {
      index += 1
    }
  }
  return -1
}
