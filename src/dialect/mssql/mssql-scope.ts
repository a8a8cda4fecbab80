/**
 * Name resolution for the T-SQL extractor: which table an alias or a column qualifier means in
 * one query block, with the enclosing blocks visible for correlated subqueries.
 */

/** A row source in FROM: a base table, or a CTE, derived table or function (no table facts). */
export type MssqlSource =
  | { readonly kind: 'table'; readonly schema: string | null; readonly name: string }
  | { readonly kind: 'other' }

export class MssqlScope {
  readonly parent: MssqlScope | null
  readonly #sources = new Map<string, MssqlSource>()
  readonly #ctes = new Set<string>()

  constructor(parent: MssqlScope | null) {
    this.parent = parent
  }

  /** Registers a row source under its alias, or its name when it has none (lower case). */
  add(key: string, source: MssqlSource): void {
    this.#sources.set(key, source)
  }

  addCte(name: string): void {
    this.#ctes.add(name)
  }

  /** Tells whether `name` is a CTE visible here, so an unqualified FROM name is not a table. */
  hasCte(name: string): boolean {
    return this.#ctes.has(name) || (this.parent?.hasCte(name) ?? false)
  }

  /** Finds the source that a qualifier names, searching enclosing blocks outwards. */
  resolve(qualifier: string): MssqlSource | undefined {
    return this.#sources.get(qualifier) ?? this.parent?.resolve(qualifier)
  }

  /**
   * Base tables that an unqualified column may belong to: those of the nearest block that has
   * any source. All of them are returned, because which one has the column is a catalog fact.
   */
  candidateTables(): Array<Extract<MssqlSource, { kind: 'table' }>> {
    if (this.#sources.size === 0) return this.parent?.candidateTables() ?? []

    const tables: Array<Extract<MssqlSource, { kind: 'table' }>> = []
    for (const source of this.#sources.values()) {
      if (source.kind === 'table') tables.push(source)
    }
    return tables
  }

  /** Base tables of this block only, for `SELECT *`. */
  ownTables(): Array<Extract<MssqlSource, { kind: 'table' }>> {
    return [...this.#sources.values()].filter(
      (source): source is Extract<MssqlSource, { kind: 'table' }> => source.kind === 'table',
    )
  }
}
