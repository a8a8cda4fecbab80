/**
 * Collects the facts of one statement while an extractor walks its tree, without duplicates and
 * in first-seen order.
 */

import type {
  ColumnFact,
  FloorFact,
  FunctionFact,
  StatementFacts,
  StatementKind,
  TableAction,
  TableFact,
} from './statement-facts.js'
import type { FloorRuleId } from '../floor/floor-rules.js'

export class FactBuilder {
  readonly #kinds = new Set<StatementKind>()
  readonly #tables = new Map<string, TableFact>()
  readonly #columns = new Map<string, ColumnFact>()
  readonly #functions = new Map<string, FunctionFact>()
  readonly #floor = new Map<string, FloorFact>()
  readonly #topKind: StatementKind

  constructor(topKind: StatementKind) {
    this.#topKind = topKind
    this.#kinds.add(topKind)
  }

  addKind(kind: StatementKind): void {
    this.#kinds.add(kind)
  }

  addTable(schema: string | null, name: string, action: TableAction): void {
    const key = `${schema ?? ''}\0${name}\0${action}`
    if (!this.#tables.has(key)) this.#tables.set(key, Object.freeze({ schema, name, action }))
  }

  addColumn(
    schema: string | null,
    table: string,
    column: string,
    action: ColumnFact['action'],
  ): void {
    const key = `${schema ?? ''}\0${table}\0${column}\0${action}`
    if (!this.#columns.has(key)) {
      this.#columns.set(key, Object.freeze({ schema, table, column, action }))
    }
  }

  addFunction(schema: string | null, name: string, action: FunctionFact['action']): void {
    const key = `${schema ?? ''}\0${name}\0${action}`
    if (!this.#functions.has(key)) {
      this.#functions.set(key, Object.freeze({ schema, name, action }))
    }
  }

  addFloor(rule: FloorRuleId, construct: string): void {
    const key = `${rule}\0${construct}`
    if (!this.#floor.has(key)) this.#floor.set(key, Object.freeze({ rule, construct }))
  }

  build(): StatementFacts {
    return Object.freeze({
      kind: this.#topKind,
      kinds: Object.freeze([...this.#kinds]),
      tables: Object.freeze([...this.#tables.values()]),
      columns: Object.freeze([...this.#columns.values()]),
      functions: Object.freeze([...this.#functions.values()]),
      floor: Object.freeze([...this.#floor.values()]),
    })
  }
}
