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

import {
  createColumnCatalog,
  type CatalogEntry,
  type CatalogTable,
  type ColumnCatalog,
} from '../../catalog/column-catalog.js'
import { CatalogUnavailable, isSqlgateError } from '../../errors.js'
import { runImpersonatedQuery } from './postgres-impersonated-query.js'

const COLUMNS_QUERY =
  'SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c ' +
  'JOIN unnest($1::text[], $2::text[]) AS wanted(table_schema, table_name) ' +
  'ON c.table_schema = wanted.table_schema AND c.table_name = wanted.table_name ' +
  'ORDER BY c.table_schema, c.table_name, c.ordinal_position'

export interface PostgresColumnCatalogOptions {
  /** How long a table's column list is reused, in milliseconds. Default 30,000 (0 disables). */
  readonly ttlMillis?: number
  /** Maximum cached lists, one per role and table, oldest evicted first. Default 10,000. */
  readonly maxEntries?: number
}

/** Transaction settings the catalog query shares with the module's statements. */
export interface CatalogQuerySettings {
  readonly statementTimeoutMillis: number
  readonly searchPath: readonly string[]
}

interface CachedColumns {
  readonly columns: readonly string[]
  readonly expiresAt: number
}

/**
 * Column lists read under impersonation, cached per database role and table. One instance per
 * delegation module, so modules on different databases never share lists.
 */
export class PostgresColumnCatalog {
  readonly #ttlMillis: number
  readonly #maxEntries: number
  readonly #cache = new Map<string, CachedColumns>()

  constructor(options: PostgresColumnCatalogOptions = {}) {
    this.#ttlMillis = Math.max(0, options.ttlMillis ?? 30_000)
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000)
  }

  /**
   * Returns a snapshot with the columns of `tables` that are visible to `role`. A table the role cannot
   * see has an empty list, since every statement over it fails on the server anyway.
   * @throws CatalogUnavailable when the catalog query fails.
   */
  async read(
    pool: pg.Pool,
    role: string,
    tables: readonly CatalogTable[],
    settings: CatalogQuerySettings,
  ): Promise<ColumnCatalog> {
    const now = Date.now()
    const entries: CatalogEntry[] = []
    const missing: CatalogTable[] = []
    for (const table of tables) {
      const cached = this.#cache.get(cacheKey(role, table))
      if (cached === undefined || cached.expiresAt <= now) missing.push(table)
      else entries.push({ ...table, columns: cached.columns })
    }
    if (missing.length > 0) entries.push(...(await this.#query(pool, role, missing, settings)))
    return createColumnCatalog(entries)
  }

  /** Drops every cached list, for example after DDL. */
  clear(): void {
    this.#cache.clear()
  }

  async #query(
    pool: pg.Pool,
    role: string,
    tables: readonly CatalogTable[],
    settings: CatalogQuerySettings,
  ): Promise<CatalogEntry[]> {
    let rows: Record<string, unknown>[]
    try {
      const client = await pool.connect()
      const result = await runImpersonatedQuery(client, {
        role,
        texts: [COLUMNS_QUERY],
        values: [tables.map((table) => table.schema), tables.map((table) => table.name)],
        readOnly: true,
        statementTimeoutMillis: settings.statementTimeoutMillis,
        searchPath: settings.searchPath,
        pipeline: false,
      })
      rows = result.rows as Record<string, unknown>[]
    } catch (error) {
      const detail = isSqlgateError(error) ? `: ${error.message}` : ''
      throw new CatalogUnavailable(`reading column lists from the catalog failed${detail}`, {
        cause: error,
      })
    }

    const columns = new Map<string, string[]>()
    for (const table of tables) columns.set(cacheKey(role, table), [])
    for (const row of rows) {
      const table = { schema: String(row['table_schema']), name: String(row['table_name']) }
      columns.get(cacheKey(role, table))?.push(String(row['column_name']))
    }

    const expiresAt = Date.now() + this.#ttlMillis
    return tables.map((table) => {
      const key = cacheKey(role, table)
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

function cacheKey(role: string, table: CatalogTable): string {
  return JSON.stringify([role, table.schema, table.name])
}
