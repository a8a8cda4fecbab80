/**
 * A snapshot of the columns of some tables, used to expand `*` when a table has column rules.
 * The policy engine checks synchronously, so a delegation module reads what the catalog must
 * supply before the check and passes the snapshot in. A table missing from the snapshot is
 * never treated as having no columns: the check denies and names the table instead.
 */

import { createHash } from 'node:crypto'

/** A table the check needs the columns of. Names are as the database stores them. */
export interface CatalogTable {
  readonly schema: string
  readonly name: string
}

export interface ColumnCatalog {
  /** Hash of the contents, part of the decision cache key. */
  readonly version: string
  /** The table's columns, or `undefined` when the snapshot does not contain the table. */
  columnsOf(schema: string, table: string): readonly string[] | undefined
  /** Every table of the snapshot, in insertion order. */
  tables(): readonly CatalogTable[]
}

/** One table and its columns, as a dump or an introspection query lists them. */
export interface CatalogEntry extends CatalogTable {
  readonly columns: readonly string[]
}

/** Builds a frozen snapshot. A table listed twice keeps the union of its columns. */
export function createColumnCatalog(entries: Iterable<CatalogEntry>): ColumnCatalog {
  const columns = new Map<string, string[]>()
  const tables: CatalogTable[] = []
  for (const entry of entries) {
    const key = tableKey(entry.schema, entry.name)
    let list = columns.get(key)
    if (list === undefined) {
      list = []
      columns.set(key, list)
      tables.push(Object.freeze({ schema: entry.schema, name: entry.name }))
    }
    for (const column of entry.columns) if (!list.includes(column)) list.push(column)
  }

  const hash = createHash('sha256')
  for (const [key, list] of columns) hash.update(key).update('\0').update(list.join('\0'))
  const version = hash.digest('hex').slice(0, 16)
  for (const list of columns.values()) Object.freeze(list)

  return Object.freeze({
    version,
    columnsOf: (schema: string, table: string) => columns.get(tableKey(schema, table)),
    tables: () => tables,
  })
}

/** Merges snapshots; a later snapshot adds to the tables of an earlier one. */
export function mergeColumnCatalogs(catalogs: readonly ColumnCatalog[]): ColumnCatalog {
  const entries: CatalogEntry[] = []
  for (const catalog of catalogs) {
    for (const table of catalog.tables()) {
      entries.push({ ...table, columns: catalog.columnsOf(table.schema, table.name) ?? [] })
    }
  }
  return createColumnCatalog(entries)
}

function tableKey(schema: string, table: string): string {
  return `${schema}\0${table}`
}
