/**
 * Name scopes for the PostgreSQL extractor: which range entries (tables, sub-queries, functions)
 * and which CTE names a part of the tree can see. Column references are resolved against them.
 */

export interface RangeEntry {
  /** The name the query uses for the entry: its alias, else the table name. */
  readonly alias: string
  /** The base table behind the entry, or `null` for a sub-query, CTE, function or join. */
  readonly table: { readonly schema: string | null; readonly name: string } | null
  /** For an aliased join: the entries joined under the alias, whose columns it exposes. */
  readonly members?: readonly RangeEntry[]
}

/** The base tables whose columns an entry exposes: its table, or those of a join's members. */
export function tablesOf(entry: RangeEntry): NonNullable<RangeEntry['table']>[] {
  if (entry.table !== null) return [entry.table]
  return (entry.members ?? []).flatMap(tablesOf)
}

export class Scope {
  readonly parent: Scope | null
  readonly entries: RangeEntry[] = []
  readonly #ctes = new Set<string>()

  constructor(parent: Scope | null) {
    this.parent = parent
  }

  /** Creates a child scope for a sub-query, which can refer to this scope's entries and CTE names. */
  child(): Scope {
    return new Scope(this)
  }

  addCte(name: string): void {
    this.#ctes.add(name)
  }

  /** Tells whether an unqualified relation name refers to a CTE visible here. */
  isCte(name: string): boolean {
    for (let scope: Scope | null = this; scope !== null; scope = scope.parent) {
      if (scope.#ctes.has(name)) return true
    }
    return false
  }

  /** Finds the entry a qualifier names, searching outward. */
  findByAlias(alias: string): RangeEntry | undefined {
    for (let scope: Scope | null = this; scope !== null; scope = scope.parent) {
      const entry = scope.entries.find((candidate) => candidate.alias === alias)
      if (entry !== undefined) return entry
    }
    return undefined
  }

  /**
   * Finds the entry of a table named with its schema, searching outward. An entry whose table
   * was named without a schema also matches, because the search path may resolve it there.
   */
  findByTable(schema: string, name: string): RangeEntry | undefined {
    for (let scope: Scope | null = this; scope !== null; scope = scope.parent) {
      const entry = scope.entries.find(
        (candidate) =>
          (candidate.table?.schema === schema || candidate.table?.schema === null) &&
          candidate.table.name === name,
      )
      if (entry !== undefined) return entry
    }
    return undefined
  }

  /**
   * The entries an unqualified column may belong to. Without the catalog it could be in any
   * entry of this scope or, in a correlated sub-query, of an outer one, so all are returned.
   */
  candidatesForColumn(): RangeEntry[] {
    const candidates: RangeEntry[] = []
    for (let scope: Scope | null = this; scope !== null; scope = scope.parent) {
      candidates.push(...scope.entries)
    }
    return candidates
  }
}
