/**
 * Reads column lists from INFORMATION_SCHEMA.COLUMNS under the end user's database identity, in
 * the same EXECUTE AS batch as the user's own statements, so the lists contain the columns that
 * user can see. Lists are cached per user and table for `ttlMillis`.
 *
 * Names are compared with the database's collation, case-insensitive by default, and returned
 * folded to lower case as the T-SQL front end folds them. A column added within the TTL is
 * missing from a cached list until the entry expires; a TTL of 0 reads the catalog every time.
 */

import type sql from 'mssql'

import type { CatalogTable, ColumnCatalog } from '../../catalog/column-catalog.js'
import { ColumnListCache, type ColumnListCacheOptions } from '../../catalog/column-list-cache.js'
import { inferParameter } from './execute-as-batch.js'
import { runImpersonatedBatch } from './mssql-impersonated-batch.js'

/** Cache bounds: `ttlMillis` (default 30,000, 0 disables) and `maxEntries` (default 10,000). */
export type MssqlColumnCatalogOptions = ColumnListCacheOptions

/** Builds the catalog query for `count` tables, with parameters `@s0`, `@t0`, `@s1`, ... */
export function columnsQuery(count: number): string {
  const wanted = Array.from(
    { length: count },
    (_, index) => `(TABLE_SCHEMA = @s${index} AND TABLE_NAME = @t${index})`,
  )
  return (
    'SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, COLUMN_NAME AS column_name ' +
    `FROM INFORMATION_SCHEMA.COLUMNS WHERE ${wanted.join(' OR ')} ` +
    'ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION'
  )
}

export class MssqlColumnCatalog {
  readonly #cache: ColumnListCache

  constructor(options: MssqlColumnCatalogOptions = {}) {
    this.#cache = new ColumnListCache(options)
  }

  /**
   * Returns a snapshot with the columns of `tables` that `user` can see. A table the user cannot
   * see has an empty list, since every statement over it fails on the server anyway.
   * @throws CatalogUnavailable when the catalog query fails.
   */
  read(
    pool: sql.ConnectionPool,
    user: string,
    tables: readonly CatalogTable[],
  ): Promise<ColumnCatalog> {
    return this.#cache.read(tables, {
      // Names fold to lower case, as the default collation compares them.
      keyOf: (table) =>
        JSON.stringify([user, table.schema.toLowerCase(), table.name.toLowerCase()]),
      normalizeColumn: (name) => name.toLowerCase(),
      readRows: async (missing) => {
        const parameters = missing.flatMap((table, index) => [
          inferParameter(`s${index}`, table.schema),
          inferParameter(`t${index}`, table.name),
        ])
        const result = await runImpersonatedBatch(pool, {
          user,
          statement: columnsQuery(missing.length),
          parameters,
          readOnly: true,
        })
        return result.rows
      },
    })
  }

  /** Drops every cached list, for example after DDL. */
  clear(): void {
    this.#cache.clear()
  }
}
