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

import {
  createColumnCatalog,
  type CatalogEntry,
  type CatalogTable,
  type ColumnCatalog,
} from '../../catalog/column-catalog.js'
import { CatalogUnavailable, isSqlgateError } from '../../errors.js'
import { inferParameter } from './execute-as-batch.js'
import { runImpersonatedBatch } from './mssql-impersonated-batch.js'

export interface MssqlColumnCatalogOptions {
  /** How long a table's column list is reused, in milliseconds. Default 30,000 (0 disables). */
  readonly ttlMillis?: number
  /** Maximum cached lists, one per user and table, oldest evicted first. Default 10,000. */
  readonly maxEntries?: number
}

interface CachedColumns {
  readonly columns: readonly string[]
  readonly expiresAt: number
}

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
  readonly #ttlMillis: number
  readonly #maxEntries: number
  readonly #cache = new Map<string, CachedColumns>()

  constructor(options: MssqlColumnCatalogOptions = {}) {
    this.#ttlMillis = Math.max(0, options.ttlMillis ?? 30_000)
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000)
  }

  /**
   * Returns a snapshot with the columns of `tables` that `user` can see. A table the user cannot
   * see has an empty list, since every statement over it fails on the server anyway.
   * @throws CatalogUnavailable when the catalog query fails.
   */
  async read(
    pool: sql.ConnectionPool,
    user: string,
    tables: readonly CatalogTable[],
  ): Promise<ColumnCatalog> {
    const now = Date.now()
    const entries: CatalogEntry[] = []
    const missing: CatalogTable[] = []
    for (const table of tables) {
      const cached = this.#cache.get(cacheKey(user, table))
      if (cached === undefined || cached.expiresAt <= now) missing.push(table)
      else entries.push({ ...table, columns: cached.columns })
    }
    if (missing.length > 0) entries.push(...(await this.#query(pool, user, missing)))
    return createColumnCatalog(entries)
  }

  /** Drops every cached list, for example after DDL. */
  clear(): void {
    this.#cache.clear()
  }

  async #query(
    pool: sql.ConnectionPool,
    user: string,
    tables: readonly CatalogTable[],
  ): Promise<CatalogEntry[]> {
    let rows: readonly Record<string, unknown>[]
    try {
      const parameters = tables.flatMap((table, index) => [
        inferParameter(`s${index}`, table.schema),
        inferParameter(`t${index}`, table.name),
      ])
      const result = await runImpersonatedBatch(pool, {
        user,
        statement: columnsQuery(tables.length),
        parameters,
        readOnly: true,
      })
      rows = result.rows
    } catch (error) {
      const detail = isSqlgateError(error) ? `: ${error.message}` : ''
      throw new CatalogUnavailable(`reading column lists from the catalog failed${detail}`, {
        cause: error,
      })
    }

    const columns = new Map<string, string[]>()
    for (const table of tables) columns.set(cacheKey(user, table), [])
    for (const row of rows) {
      const table = { schema: String(row['table_schema']), name: String(row['table_name']) }
      columns.get(cacheKey(user, table))?.push(String(row['column_name']).toLowerCase())
    }

    const expiresAt = Date.now() + this.#ttlMillis
    return tables.map((table) => {
      const key = cacheKey(user, table)
      const list = Object.freeze(columns.get(key) ?? [])
      if (this.#ttlMillis > 0) this.#remember(key, { columns: list, expiresAt })
      return { ...table, columns: list }
    })
  }

  #remember(key: string, entry: CachedColumns): void {
    this.#cache.delete(key)
    this.#cache.set(key, entry)
    while (this.#cache.size > this.#maxEntries) {
      const oldest = this.#cache.keys().next()
      if (oldest.done === true) break
      this.#cache.delete(oldest.value)
    }
  }
}

/** Cache key of a user's table; names fold to lower case, as the default collation compares. */
function cacheKey(user: string, table: CatalogTable): string {
  return JSON.stringify([user, table.schema.toLowerCase(), table.name.toLowerCase()])
}
