/**
 * Typed access to pgsql-ast-parser's tree. The parser's TypeScript types do not list every
 * shape it emits, so the extractor reads nodes as plain records and checks each field it uses:
 * a field of an unexpected shape raises `SqlUnsupported` instead of being skipped.
 */

import { SqlUnsupported } from '../../errors.js'

/** Front end name used in facts and errors. */
export const PGSQL_AST_FRONT_END = 'pgsql-ast-parser'

/** A tree node: a record with a `type` tag (empty for untagged parts such as a SET item). */
export interface AstNode {
  readonly type: string
  readonly [field: string]: unknown
}

/** Node types of queries that return rows: they may stand wherever a sub-query may. */
export const QUERY_TYPES: ReadonlySet<string> = new Set([
  'select',
  'union',
  'union all',
  'values',
  'with',
  'with recursive',
])

/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 = 63 bytes; pgsql-ast-parser does not. */
const MAX_IDENTIFIER_BYTES = 63

/**
 * Reads a node. With `tagged` (the default) the node must carry a string `type`; untagged
 * parts of the tree get an empty type.
 */
export function asNode(value: unknown, what: string, tagged = true): AstNode {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SqlUnsupported(PGSQL_AST_FRONT_END, what)
  }
  const type = (value as { type?: unknown }).type
  if (typeof type === 'string') return value as AstNode
  if (tagged) throw new SqlUnsupported(PGSQL_AST_FRONT_END, `${what} without a type`)
  return { ...(value as Record<string, unknown>), type: '' }
}

/** Reads an optional list: `null` and `undefined` are empty, any other non-array is unsupported. */
export function asList(value: unknown): readonly unknown[] {
  if (value === null || value === undefined) return []
  if (!Array.isArray(value)) {
    throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'list of an unknown shape')
  }
  return value
}

/**
 * Turns a parsed identifier into the name PostgreSQL uses. The parser keeps the doubled quotes
 * of a quoted identifier (`"a""b"` becomes `a""b`); an unquoted name cannot contain `"`, so
 * undoubling is exact. Names longer than 63 bytes are cut the way the server cuts them.
 */
export function identifier(raw: string): string {
  const name = raw.replaceAll('""', '"')
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name
  let cut = ''
  for (const char of name) {
    if (Buffer.byteLength(cut + char, 'utf8') > MAX_IDENTIFIER_BYTES) break
    cut += char
  }
  return cut
}

/** Reads the identifier of a `{ name }` node. */
export function nameOf(value: unknown, what: string): string {
  const name = asNode(value, what, false)['name']
  if (typeof name !== 'string') {
    throw new SqlUnsupported(PGSQL_AST_FRONT_END, `${what} without a name`)
  }
  return identifier(name)
}

/** Reads a `{ schema?, name }` node. */
export function qualifiedName(
  value: unknown,
  what: string,
): { schema: string | null; name: string } {
  const node = asNode(value, what, false)
  const schema = node['schema']
  if (schema !== undefined && schema !== null && typeof schema !== 'string') {
    throw new SqlUnsupported(PGSQL_AST_FRONT_END, `${what} with an unknown schema`)
  }
  const name = nameOf(node, what)
  return { schema: typeof schema === 'string' ? identifier(schema) : null, name }
}
