/**
 * Spelling of policy objects. Names that are plain lower-case identifiers are written bare; any
 * other name is double-quoted with `"` doubled, as SQL writes it, so `"Weird.Name"` can never be
 * read as a schema and a table.
 */

import type { ColumnFact, FunctionFact, TableFact } from '../extract/statement-facts.js'

const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_$]*$/

/** Writes one identifier as it appears inside a policy object. */
export function formatIdentifier(name: string): string {
  return PLAIN_IDENTIFIER.test(name) ? name : `"${name.replaceAll('"', '""')}"`
}

/** `table:<schema>.<name>`, with a missing schema replaced by the dialect's default schema. */
export function tableObject(table: TableFact, defaultSchema: string): string {
  return `table:${formatIdentifier(table.schema ?? defaultSchema)}.${formatIdentifier(table.name)}`
}

/** `column:<schema>.<table>.<column>`. */
export function columnObject(column: ColumnFact, defaultSchema: string): string {
  const schema = formatIdentifier(column.schema ?? defaultSchema)
  const name = column.column === '*' ? '*' : formatIdentifier(column.column)
  return `column:${schema}.${formatIdentifier(column.table)}.${name}`
}

/** `function:<name>` when the SQL did not qualify it, else `function:<schema>.<name>`. */
export function functionObject(fn: FunctionFact): string {
  const name = formatIdentifier(fn.name)
  return fn.schema === null ? `function:${name}` : `function:${formatIdentifier(fn.schema)}.${name}`
}
