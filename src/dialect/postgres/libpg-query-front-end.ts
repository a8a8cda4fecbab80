/**
 * The default PostgreSQL front end: PostgreSQL's own grammar compiled to WebAssembly
 * (`libpg-query`), so statement boundaries, comments, dollar quoting and string escapes are read
 * exactly as the server reads them.
 */

import { loadModule, parseSync } from 'libpg-query'

import { SqlParseFailed, SqlUnsupported } from '../../errors.js'
import type { RequestFacts } from '../../extract/statement-facts.js'
import type { SqlFrontEnd } from '../../parse/front-end.js'
import { PostgresExtractor } from './postgres-extractor.js'
import { fingerprintPostgres } from './postgres-fingerprint.js'

const NAME = 'libpg-query'

interface ParseResult {
  readonly stmts?: readonly {
    readonly stmt?: unknown
    /** Byte offset of the statement in the UTF-8 text; absent for the first statement. */
    readonly stmt_location?: number
    /** Length in bytes; absent or 0 for "to the end of the text". */
    readonly stmt_len?: number
  }[]
}

/** Loads the WebAssembly parser once and returns the front end. */
export async function createLibpgQueryFrontEnd(): Promise<SqlFrontEnd> {
  await loadModule()
  return Object.freeze({ name: NAME, dialect: 'postgres', analyze, fingerprint: fingerprintPostgres })
}

function analyze(sql: string): RequestFacts {
  let result: ParseResult
  try {
    result = parseSync(sql) as ParseResult
  } catch (error) {
    throw new SqlParseFailed(NAME, parseMessage(error), { cause: error, ...positionOf(error) })
  }

  const extractor = new PostgresExtractor()
  try {
    const entries = result.stmts ?? []
    const bytes = entries.length > 1 ? Buffer.from(sql, 'utf8') : null
    const statements = entries.map((entry) => {
      const facts = extractor.extract(entry.stmt)
      return bytes === null ? facts : Object.freeze({ ...facts, span: spanOf(bytes, entry) })
    })
    return Object.freeze({ dialect: 'postgres', frontEnd: NAME, statements: Object.freeze(statements) })
  } catch (error) {
    // A tree deep enough to exhaust the stack is denied like any other unsupported input.
    if (error instanceof RangeError) {
      throw new SqlUnsupported(NAME, 'nesting depth', 'the statement is nested too deeply to analyze')
    }
    throw error
  }
}

/** Converts libpg-query's byte offsets into UTF-16 offsets of the original string. */
function spanOf(
  bytes: Buffer,
  entry: { readonly stmt_location?: number; readonly stmt_len?: number },
): { start: number; end: number } {
  const startByte = entry.stmt_location ?? 0
  const endByte = entry.stmt_len === undefined || entry.stmt_len === 0 ? bytes.length : startByte + entry.stmt_len
  const start = bytes.subarray(0, startByte).toString('utf8').length
  const end = start + bytes.subarray(startByte, endByte).toString('utf8').length
  return Object.freeze({ start, end })
}

/**
 * Returns the parser's message without the SQL text, because PostgreSQL messages can quote the
 * input.
 */
function parseMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const withoutInput = message
    .replace(/\s+at or near[\s\S]*$/, '')
    .replace(/"[^"]*"|'[^']*'/g, '…')
    .slice(0, 120)
  return `PostgreSQL parser rejected the SQL: ${withoutInput}`
}

function positionOf(error: unknown): { position?: number } {
  const details = (error as { sqlDetails?: { cursorPosition?: unknown } } | null)?.sqlDetails
  const position = details?.cursorPosition
  return typeof position === 'number' ? { position } : {}
}
