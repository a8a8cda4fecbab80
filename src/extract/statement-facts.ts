/**
 * Dialect-neutral facts that an extractor reports for one statement. The authorizer reads only
 * these facts, never the parse tree, so every dialect and front end must fill them completely.
 * A construct that cannot be described here is an `SqlUnsupported` error, never an omission.
 */

import type { FloorRuleId } from '../floor/floor-rules.js'

/**
 * Statement kinds, by effect. A data-modifying CTE adds its own kind (`delete` under a `select`),
 * `EXPLAIN ANALYZE` adds the kind of the statement it runs, and `SELECT ... INTO` is `create`.
 */
export type StatementKind =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'merge'
  | 'explain'
  | 'create'
  | 'alter'
  | 'drop'
  | 'truncate'
  | 'grant'
  | 'revoke'
  | 'comment'
  | 'copy'
  | 'call'
  | 'execute'
  | 'do'
  | 'prepare'
  | 'deallocate'
  | 'transaction'
  | 'set'
  | 'reset'
  | 'discard'
  | 'show'
  | 'listen'
  | 'notify'
  | 'lock'
  | 'vacuum'
  | 'analyze'
  | 'refresh'
  | 'reindex'
  | 'cluster'
  | 'checkpoint'
  | 'load'
  | 'declare'
  | 'fetch'
  | 'security-label'
  | 'revert'
  | 'use'
  | 'waitfor'
  | 'other'

/** Kinds that only read data. A request made only of these runs in a read-only transaction. */
export const READ_KINDS: ReadonlySet<StatementKind> = new Set(['select', 'explain', 'show'])

/** The action a statement performs on a table or view. */
export type TableAction =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'truncate'
  | 'lock'
  | 'create'
  | 'alter'
  | 'drop'
  | 'grant'
  | 'revoke'
  | 'references'
  | 'maintain'

/** A qualified name after the dialect's case rules: unquoted PostgreSQL names are lower case. */
export interface QualifiedName {
  /** Schema, or `null` when the SQL did not name one. */
  readonly schema: string | null
  readonly name: string
}

export interface TableFact extends QualifiedName {
  readonly action: TableAction
}

export interface ColumnFact {
  readonly schema: string | null
  readonly table: string
  /** Column name, or `*` when the statement reads every column and the catalog must expand it. */
  readonly column: string
  readonly action: 'select' | 'insert' | 'update'
}

/** `execute` for ordinary functions, `modify` for built-ins known to change data or state. */
export type FunctionAction = 'execute' | 'modify'

export interface FunctionFact extends QualifiedName {
  readonly action: FunctionAction
}

/** A built-in floor rule that the statement breaks, with the construct that broke it. */
export interface FloorFact {
  readonly rule: FloorRuleId
  /** The construct in words, for example `SET ROLE` or `function pg_read_file`. */
  readonly construct: string
}

export interface StatementFacts {
  /** The kind of the top-level statement. */
  readonly kind: StatementKind
  /** Every kind the statement has by effect, `kind` first, without duplicates. */
  readonly kinds: readonly StatementKind[]
  readonly tables: readonly TableFact[]
  readonly columns: readonly ColumnFact[]
  readonly functions: readonly FunctionFact[]
  readonly floor: readonly FloorFact[]
  /**
   * Position of the statement in the request text, as UTF-16 offsets (`text.slice(start, end)`).
   * Set by front ends that know statement boundaries; needed to run several statements.
   */
  readonly span?: { readonly start: number; readonly end: number }
}

/** The facts of a whole request: one entry per statement, in order. */
export interface RequestFacts {
  readonly dialect: string
  /** The front end that produced the facts, for example `libpg-query`. */
  readonly frontEnd: string
  readonly statements: readonly StatementFacts[]
}

/** Tells whether a statement only reads: read kinds, `select` on tables, no modifying function. */
export function isReadOnlyStatement(statement: StatementFacts): boolean {
  return (
    statement.kinds.every((kind) => READ_KINDS.has(kind)) &&
    statement.tables.every((table) => table.action === 'select') &&
    statement.functions.every((fn) => fn.action === 'execute')
  )
}

/** Tells whether every statement of the request only reads. */
export function isReadOnly(facts: RequestFacts): boolean {
  return facts.statements.every(isReadOnlyStatement)
}
