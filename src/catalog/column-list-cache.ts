/**
 * Column lists read from a database catalog, cached per identity and table for a time to live.
 * Each dialect supplies the query. This class decides what to read, groups the returned rows by
 * table, and bounds the cache by entries, oldest evicted first.
 */

import { CatalogUnavailable, isSqlgateError } from '../errors.js'
import {
  createColumnCatalog,
  type CatalogEntry,
  type CatalogTable,
  type ColumnCatalog,
} from './column-catalog.js'

export interface ColumnListCacheOptions {
  /** How long a table's column list is reused, in milliseconds. Default 30,000 (0 disables). */
  readonly ttlMillis?: number
  /** Maximum cached lists, one per identity and table, oldest evicted first. Default 10,000. */
  readonly maxEntries?: number
}

/** The dialect-specific part of a catalog read: cache keys, name folding and the query. */
export interface ColumnListSource {
  /** Key of a table's list for the identity the read runs as. */
  keyOf(table: CatalogTable): string
  /** Column name as the dialect's front end spells it, for example folded to lower case. */
  normalizeColumn(name: string): string
  /** Rows with `table_schema`, `table_name` and `column_name`, in column order. */
  readRows(tables: readonly CatalogTable[]): Promise<readonly Record<string, unknown>[]>
}

interface CachedColumns {
  readonly columns: readonly string[]
  readonly expiresAt: number
}

export class ColumnListCache {
  readonly #ttlMillis: number
  readonly #maxEntries: number
  readonly #cache = new Map<string, CachedColumns>()

  constructor(options: ColumnListCacheOptions = {}) {
    this.#ttlMillis = Math.max(0, options.ttlMillis ?? 30_000)
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000)
  }

  /**
   * Returns a snapshot with the columns of `tables`, reading the ones not cached. A table the
   * identity cannot see has an empty list, since every statement over it fails on the server.
   * @throws CatalogUnavailable when the catalog query fails.
   */
  async read(tables: readonly CatalogTable[], source: ColumnListSource): Promise<ColumnCatalog> {
    const now = Date.now()
    const entries: CatalogEntry[] = []
    const missing: CatalogTable[] = []
    for (const table of tables) {
      const cached = this.#cache.get(source.keyOf(table))
      if (cached === undefined || cached.expiresAt <= now) missing.push(table)
      else entries.push({ ...table, columns: cached.columns })
    }
    if (missing.length > 0) entries.push(...(await this.#readMissing(missing, source)))
    return createColumnCatalog(entries)
  }

  /** Drops every cached list, for example after DDL. */
  clear(): void {
    this.#cache.clear()
  }

  async #readMissing(
    tables: readonly CatalogTable[],
    source: ColumnListSource,
  ): Promise<CatalogEntry[]> {
    let rows: readonly Record<string, unknown>[]
    try {
      rows = await source.readRows(tables)
    } catch (error) {
      const detail = isSqlgateError(error) ? `: ${error.message}` : ''
      throw new CatalogUnavailable(`reading column lists from the catalog failed${detail}`, {
        cause: error,
      })
    }

    const columns = new Map<string, string[]>()
    for (const table of tables) columns.set(source.keyOf(table), [])
    for (const row of rows) {
      const table = { schema: String(row['table_schema']), name: String(row['table_name']) }
      columns.get(source.keyOf(table))?.push(source.normalizeColumn(String(row['column_name'])))
    }

    const expiresAt = Date.now() + this.#ttlMillis
    return tables.map((table) => {
      const key = source.keyOf(table)
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
