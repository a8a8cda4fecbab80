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
  readonly stmts?: readonly { readonly stmt?: unknown }[]
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
    const statements = (result.stmts ?? []).map((entry) => extractor.extract(entry.stmt))
    return Object.freeze({ dialect: 'postgres', frontEnd: NAME, statements: Object.freeze(statements) })
  } catch (error) {
    // A tree deep enough to exhaust the stack is denied like any other unsupported input.
    if (error instanceof RangeError) {
      throw new SqlUnsupported(NAME, 'nesting depth', 'the statement is nested too deeply to analyze')
    }
    throw error
  }
}

/** The parser's message without the SQL text: PostgreSQL messages can quote the input. */
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
