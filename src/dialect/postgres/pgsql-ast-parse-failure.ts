/**
 * Turns a pgsql-ast-parser failure into a typed error without SQL text. The parser's own message
 * quotes the input and the token that failed, so only the position and the token type are kept.
 * When the text uses a construct the parser is known not to support, the error names it.
 */

import { SqlParseFailed, SqlUnsupported } from '../../errors.js'
import { PGSQL_AST_FRONT_END } from './pgsql-ast-nodes.js'

/** Constructs that pgsql-ast-parser 12 cannot parse, found by a pattern over the SQL text. */
const KNOWN_GAPS: readonly (readonly [RegExp, string])[] = [
  [/^\s*explain\b/i, 'EXPLAIN'],
  [/^\s*merge\b/i, 'MERGE'],
  [/\bwith\s+recursive\b/i, 'WITH RECURSIVE'],
  [/\bdelete\s+from\b[\s\S]*\busing\b/i, 'DELETE ... USING'],
  [/\bwindow\s+("[^"]*"|\w+)\s+as\s*\(/i, 'WINDOW clause'],
  [/\b(except|intersect)\b/i, 'EXCEPT or INTERSECT'],
  [/\btablesample\b/i, 'TABLESAMPLE'],
  [/\blateral\b/i, 'LATERAL'],
  [/\bnatural\s+(\w+\s+)?join\b/i, 'NATURAL JOIN'],
  [/\bfor\s+(update|share|no\s+key\s+update|key\s+share)\s+of\b/i, 'FOR UPDATE OF'],
  [/\bdefault\s+values\b/i, 'DEFAULT VALUES'],
  [/\bis\s+(not\s+)?distinct\s+from\b/i, 'IS DISTINCT FROM'],
  [/\$[A-Za-z_]\w*\$/, 'dollar quoting with a tag'],
  [/(^|[^\w$])[eE]'[^']*\\'/, "E'' string with an escaped quote"],
  [/[uU]&['"]/, 'Unicode escape'],
]

/** Builds the error for a failed parse of `sql`. */
export function parseFailure(sql: string, error: unknown): SqlParseFailed | SqlUnsupported {
  if (error instanceof RangeError) {
    const message = 'the statement is nested too deeply to parse'
    return new SqlUnsupported(PGSQL_AST_FRONT_END, 'nesting depth', message)
  }
  const gap = KNOWN_GAPS.find(([pattern]) => pattern.test(sql))
  if (gap !== undefined) {
    return new SqlUnsupported(
      PGSQL_AST_FRONT_END,
      gap[1],
      `pgsql-ast-parser cannot parse the SQL text, which uses ${gap[1]}`,
    )
  }

  const message = error instanceof Error ? error.message : String(error)
  const position = /line (\d+) col (\d+)/.exec(message)
  const token = /Unexpected (\w+) token/.exec(message)?.[1]
  const where = position === null ? '' : ` at line ${position[1]} column ${position[2]}`
  const what = token === undefined ? '' : `: unexpected ${token} token`
  return new SqlParseFailed(
    PGSQL_AST_FRONT_END,
    `pgsql-ast-parser rejected the SQL text${where}${what}`,
    // The parser's error is not kept as the cause: its message quotes the SQL text.
    offsetOf(sql, position),
  )
}

/** Converts a one-based line and column into a zero-based offset. */
function offsetOf(sql: string, position: RegExpExecArray | null): { position?: number } {
  if (position === null) return {}
  const line = Number(position[1])
  const column = Number(position[2])
  let offset = 0
  for (let current = 1; current < line; current += 1) {
    const next = sql.indexOf('\n', offset)
    if (next === -1) return {}
    offset = next + 1
  }
  return { position: offset + column - 1 }
}
