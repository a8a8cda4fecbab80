/**
 * Small typed accessors for node-sql-parser trees, which are untyped JSON. Every read checks the
 * shape, so an unexpected tree becomes an `SqlUnsupported` error rather than a silent gap.
 */

import { SqlUnsupported } from '../../errors.js'

export const MSSQL_FRONT_END_NAME = 'node-sql-parser+tsql-lexer'

/** A node of the parser's tree. */
export type AstNode = Readonly<Record<string, unknown>>

export function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Throws the front end's `SqlUnsupported` for `construct`. */
export function unsupported(construct: string): never {
  throw new SqlUnsupported(MSSQL_FRONT_END_NAME, construct)
}

/** Returns the node at `key`, or `null` when absent or null, and denies any other value. */
export function childNode(node: AstNode, key: string): AstNode | null {
  const value = node[key]
  if (value === undefined || value === null) return null
  if (!isNode(value)) unsupported(`${key} of shape ${Array.isArray(value) ? 'list' : typeof value}`)
  return value
}

/** Returns the list at `key`, or an empty list when absent or null. */
export function childList(node: AstNode, key: string): readonly unknown[] {
  const value = node[key]
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) unsupported(`${key} of shape ${typeof value}`)
  return value
}

/** Returns the string at `key`, or `null` when absent or null. */
export function childString(node: AstNode, key: string): string | null {
  const value = node[key]
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') unsupported(`${key} of shape ${typeof value}`)
  return value
}

/**
 * Denies a node that carries a key the extractor does not read, so a parser feature added in a
 * later version cannot hide a table from the analysis.
 */
export function expectKeys(node: AstNode, known: ReadonlySet<string>, what: string): void {
  for (const [key, value] of Object.entries(node)) {
    if (value === null || value === undefined || known.has(key)) continue
    unsupported(`${what} clause ${key}`)
  }
}

/** Folds a T-SQL identifier to the default case-insensitive form. */
export function fold(name: string): string {
  return name.toLowerCase()
}
