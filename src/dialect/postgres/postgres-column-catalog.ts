/**
 * Reads column lists from information_schema.columns under the end user's database role, in a
 * READ ONLY transaction opened the same way as for the user's own statement, so the lists hold
 * the columns that role can see. Lists are cached per role and table for `ttlMillis`.
 *
 * The cache trades freshness for round trips: a column added by DDL within the TTL is not in a
 * cached list, so `*` over that table is checked without it until the entry expires. Set the
 * TTL to 0 to read the catalog on every request that needs it.
 */

import type pg from 'pg'

import type { CatalogTable, ColumnCatalog } from '../../catalog/column-catalog.js'
import { ColumnListCache, type ColumnListCacheOptions } from '../../catalog/column-list-cache.js'
import { runImpersonatedQuery } from './postgres-impersonated-query.js'

const COLUMNS_QUERY =
  'SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c ' +
  'JOIN unnest($1::text[], $2::text[]) AS wanted(table_schema, table_name) ' +
  'ON c.table_schema = wanted.table_schema AND c.table_name = wanted.table_name ' +
  'ORDER BY c.table_schema, c.table_name, c.ordinal_position'

/** Cache bounds: `ttlMillis` (default 30,000, 0 disables) and `maxEntries` (default 10,000). */
export type PostgresColumnCatalogOptions = ColumnListCacheOptions

/** Transaction settings the catalog query shares with the module's statements. */
export interface CatalogQuerySettings {
  readonly statementTimeoutMillis: number
  readonly searchPath: readonly string[]
}

/**
 * Column lists read under impersonation, cached per database role and table. One instance per
 * delegation module, so modules on different databases never share lists.
 */
export class PostgresColumnCatalog {
  readonly #cache: ColumnListCache

  constructor(options: PostgresColumnCatalogOptions = {}) {
    this.#cache = new ColumnListCache(options)
  }

  /**
   * Returns a snapshot with the columns of `tables` that are visible to `role`. A table the role
   * cannot see has an empty list, since every statement over it fails on the server anyway.
   * @throws CatalogUnavailable when the catalog query fails.
   */
  read(
    pool: pg.Pool,
    role: string,
    tables: readonly CatalogTable[],
    settings: CatalogQuerySettings,
  ): Promise<ColumnCatalog> {
    return this.#cache.read(tables, {
      keyOf: (table) => JSON.stringify([role, table.schema, table.name]),
      normalizeColumn: (name) => name,
      readRows: async (missing) => {
        const client = await pool.connect()
        const result = await runImpersonatedQuery(client, {
          role,
          texts: [COLUMNS_QUERY],
          values: [missing.map((table) => table.schema), missing.map((table) => table.name)],
          readOnly: true,
          statementTimeoutMillis: settings.statementTimeoutMillis,
          searchPath: settings.searchPath,
          pipeline: false,
        })
        return result.rows as Record<string, unknown>[]
      },
    })
  }

  /** Drops every cached list, for example after DDL. */
  clear(): void {
    this.#cache.clear()
  }
}
