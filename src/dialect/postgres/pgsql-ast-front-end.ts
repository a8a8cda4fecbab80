/**
 * A second PostgreSQL front end built on pgsql-ast-parser, a grammar written independently of
 * PostgreSQL's. Used alone it covers less SQL than the default libpg-query front end. Its main
 * use is the cross-check, which allows a statement only when both parsers produce the same
 * facts (see `cross-check-front-end.ts`).
 *
 * Defenses of its own, checked before or after the parser runs:
 * - An input limit (default 16 KiB) below the engine's: the parser's Earley algorithm needs
 *   about 1 s and 750 MB for one 100 KB statement.
 * - A time limit (default 3 s) and a heap limit (default 512 MB), because the parser runs in a
 *   worker thread. Its lexer backtracks exponentially on an unterminated `E'` string, which no
 *   input limit prevents: 26 spaces after `E'` took 1.3 s, and each further space about 1.7
 *   times longer.
 * - Block comments that contain `'`, `"`, `$`, `--` or a nested `/*` are denied before
 *   parsing. The parser lexes a block comment's content as tokens, so a quote or `--` there
 *   swallows the comment's end and hides the rest of the statement, or a following statement,
 *   and its lexer can take minutes on such text.
 * - Unquoted identifiers with `$` are denied: the parser reads `x$$` as `x` and a dollar quote.
 *   So are Unicode spaces such as U+00A0 outside literals, which PostgreSQL reads as identifier
 *   characters.
 * - Statement boundaries from PostgreSQL's lexical rules (`pgsql-ast-boundaries.ts`): any
 *   difference between them and the parser's statements is denied.
 */

import { SqlParseFailed, SqlTooLarge, SqlUnsupported } from '../../errors.js'
import type { RequestFacts } from '../../extract/statement-facts.js'
import type { SqlFrontEnd } from '../../parse/front-end.js'
import { scanStatementSegments, type StatementSegments } from './pgsql-ast-boundaries.js'
import { PgsqlAstExtractor } from './pgsql-ast-extractor.js'
import { PGSQL_AST_FRONT_END } from './pgsql-ast-nodes.js'
import { parseFailure } from './pgsql-ast-parse-failure.js'
import { ParseTimeout, PgsqlAstParserWorker } from './pgsql-ast-parser-worker.js'

/** Default input limit of this front end in UTF-8 bytes: 16 KiB. */
export const PGSQL_AST_MAX_SQL_BYTES = 16 * 1024

/** Default time limit of one parse in milliseconds. */
export const PGSQL_AST_PARSE_TIMEOUT_MS = 3_000

/** Default heap limit of the parser's worker thread in megabytes. */
export const PGSQL_AST_MAX_HEAP_MB = 512

export interface PgsqlAstFrontEndOptions {
  /**
   * Largest SQL text in UTF-8 bytes that this front end parses. Larger text is denied with
   * `SqlTooLarge` before parsing. Default 16 KiB. Raising it lets one request hold the
   * event loop for seconds and take hundreds of megabytes.
   */
  readonly maxSqlBytes?: number
  /**
   * Time limit of one parse in milliseconds; a slower parse is denied. Default 3,000. The
   * calling thread waits for the parse, so this is also how long one request can hold the event
   * loop. Starting the worker thread, on first use and after a timeout, has its own limit of
   * 10 s.
   */
  readonly parseTimeoutMs?: number
  /** Heap limit of the parser's worker thread in megabytes; running out is denied. Default 512. */
  readonly maxHeapMb?: number
}

/** Creates the pgsql-ast-parser front end. */
export function createPgsqlAstFrontEnd(options: PgsqlAstFrontEndOptions = {}): SqlFrontEnd {
  const maxSqlBytes = options.maxSqlBytes ?? PGSQL_AST_MAX_SQL_BYTES
  const timeoutMs = options.parseTimeoutMs ?? PGSQL_AST_PARSE_TIMEOUT_MS
  const maxHeapMb = options.maxHeapMb ?? PGSQL_AST_MAX_HEAP_MB
  for (const [name, value] of [
    ['maxSqlBytes', maxSqlBytes],
    ['parseTimeoutMs', timeoutMs],
    ['maxHeapMb', maxHeapMb],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new TypeError(`${name} must be a positive integer`)
    }
  }
  const parser = new PgsqlAstParserWorker({ timeoutMs, maxHeapMb })
  return Object.freeze({
    name: PGSQL_AST_FRONT_END,
    dialect: 'postgres',
    analyze: (sql: string) => analyze(sql, maxSqlBytes, parser),
  })
}

interface Located {
  readonly _location?: { readonly start?: unknown; readonly end?: unknown }
}

function analyze(sql: string, maxSqlBytes: number, parser: PgsqlAstParserWorker): RequestFacts {
  const bytes = Buffer.byteLength(sql, 'utf8')
  if (bytes > maxSqlBytes) throw new SqlTooLarge(bytes, maxSqlBytes, PGSQL_AST_FRONT_END)

  const segments = scanStatementSegments(sql)
  if (typeof segments === 'string') {
    throw new SqlParseFailed(PGSQL_AST_FRONT_END, `the SQL text has an ${segments}`)
  }
  if (segments.unsafeBlockComment) {
    throw new SqlUnsupported(
      PGSQL_AST_FRONT_END,
      'block comment with quotes or comment marks',
      'pgsql-ast-parser cannot read a block comment that contains a quote, a dollar sign, ' +
        '`--` or a nested comment',
    )
  }
  if (segments.unicodeSpace) {
    throw new SqlUnsupported(
      PGSQL_AST_FRONT_END,
      'Unicode space',
      'pgsql-ast-parser reads Unicode spaces as whitespace where PostgreSQL reads identifiers',
    )
  }
  if (segments.dollarInIdentifier) {
    throw new SqlUnsupported(
      PGSQL_AST_FRONT_END,
      'identifier with a dollar sign',
      'pgsql-ast-parser reads a dollar sign in an unquoted identifier as a dollar quote',
    )
  }

  let statements: unknown[]
  try {
    statements = parser.parse(sql)
  } catch (error) {
    if (error instanceof ParseTimeout) {
      throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'parse time', error.message)
    }
    throw parseFailure(sql, error)
  }
  if (!Array.isArray(statements)) {
    throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'parse result that is not a statement list')
  }
  const spans = statementSpans(statements as Located[], segments, sql.length)

  const extractor = new PgsqlAstExtractor(sql)
  try {
    const facts = statements.map((statement, index) => {
      const extracted = extractor.extract(statement)
      // Several statements run one at a time, each from its own slice of the text.
      return statements.length > 1
        ? Object.freeze({ ...extracted, span: spans[index] as { start: number; end: number } })
        : extracted
    })
    return Object.freeze({
      dialect: 'postgres',
      frontEnd: PGSQL_AST_FRONT_END,
      statements: Object.freeze(facts),
    })
  } catch (error) {
    // A tree deep enough to exhaust the stack is denied like any other unsupported input.
    if (error instanceof RangeError) {
      const message = 'the statement is nested too deeply to analyze'
      throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'nesting depth', message)
    }
    throw error
  }
}

/**
 * Checks that the parser found exactly one statement in each segment that PostgreSQL's lexical
 * rules find between semicolons, and that no statement crosses a semicolon. Returns each
 * statement's segment as a span of the text, without the semicolon that ends it.
 */
function statementSpans(
  statements: readonly Located[],
  segments: StatementSegments,
  length: number,
): { start: number; end: number }[] {
  const segmentOf = (offset: number): number => {
    let segment = 0
    const { separators } = segments
    while (segment < separators.length && (separators[segment] as number) < offset) segment += 1
    return segment
  }

  const used: number[] = []
  for (const statement of statements) {
    const start = statement._location?.start
    const end = statement._location?.end
    if (typeof start !== 'number' || typeof end !== 'number' || end <= start) {
      throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'statement without a position')
    }
    const first = segmentOf(start)
    if (segmentOf(end - 1) !== first || used.includes(first)) throw boundaryMismatch()
    used.push(first)
  }

  const expected = segments.hasTokens.flatMap((hasTokens, segment) => (hasTokens ? [segment] : []))
  const same = expected.every((segment, index) => used[index] === segment)
  if (expected.length !== used.length || !same) {
    throw boundaryMismatch()
  }

  const { separators } = segments
  return used.map((segment) => ({
    start: segment === 0 ? 0 : (separators[segment - 1] as number) + 1,
    end: separators[segment] ?? length,
  }))
}

function boundaryMismatch(): SqlUnsupported {
  return new SqlUnsupported(
    PGSQL_AST_FRONT_END,
    'statement boundaries',
    'pgsql-ast-parser splits the SQL text into statements differently from PostgreSQL',
  )
}
