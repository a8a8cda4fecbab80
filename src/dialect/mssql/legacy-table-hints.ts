/**
 * Table hints written without `WITH`, as in `FROM accounts (NOLOCK)`. SQL Server still accepts
 * this older form, but node-sql-parser reads it as a call of a table-valued function named
 * `accounts`, so the table would be missing from the facts and its lock hints ignored.
 */

import { isNode, unsupported, type AstNode } from './mssql-ast.js'
import { TSQL_LOCK_HINTS, TSQL_READ_HINTS } from './tsql-keywords.js'

function isHintWord(value: unknown): value is string {
  if (typeof value !== 'string') return false
  const word = value.toUpperCase()
  return TSQL_READ_HINTS.has(word) || TSQL_LOCK_HINTS.has(word)
}

/** Returns the hint word of one call argument, or `null` when the argument is no hint. */
function hintOf(argument: unknown): string | null {
  if (!isNode(argument)) return null

  // `NOLOCK` alone: an unqualified column reference.
  const unqualified =
    argument['type'] === 'column_ref' &&
    (argument['table'] === null || argument['table'] === undefined)
  if (unqualified && isHintWord(argument['column'])) return argument['column'].toUpperCase()

  // `INDEX(1)`: a call of a function named like a hint.
  const name = isNode(argument['name']) ? argument['name']['name'] : null
  if (argument['type'] === 'function' && Array.isArray(name) && name.length === 1) {
    const [part] = name
    if (isNode(part) && isHintWord(part['value'])) return part['value'].toUpperCase()
  }
  return null
}

/**
 * Rebuilds a FROM item that the parser read as `name(HINT, ...)` into a table item with those
 * hints, in the shape the parser gives `name WITH (HINT, ...)`. Returns `null` when no argument
 * is a hint word, so the call stays a table-valued function.
 * @throws SqlUnsupported when hint words are mixed with other arguments.
 */
export function legacyHintTable(
  call: AstNode,
  schema: string | null,
  name: string,
  alias: string | null,
): AstNode | null {
  const args = isNode(call['args']) ? call['args']['value'] : null
  if (!Array.isArray(args)) return null

  const hints = args.map(hintOf)
  if (hints.every((hint) => hint === null)) return null
  if (hints.some((hint) => hint === null)) unsupported('table hint without WITH')

  return {
    db: schema,
    table: name,
    as: alias,
    table_hint: {
      keyword: null,
      expr: hints.map((hint) => ({
        keyword: 'literal_string',
        expr: { type: 'origin', value: hint },
      })),
      parentheses: true,
    },
    temporal_table: null,
    operator: null,
  }
}
