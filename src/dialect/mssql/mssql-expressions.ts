/**
 * Facts from T-SQL expressions in a node-sql-parser tree: column references, function calls
 * and subqueries. Any expression type not listed here is denied.
 */

import type { FactBuilder } from '../../extract/fact-builder.js'
import {
  childList,
  childNode,
  childString,
  fold,
  isNode,
  unsupported,
  type AstNode,
} from './mssql-ast.js'
import type { MssqlScope } from './mssql-scope.js'

/** Walks a nested query; supplied by the statement extractor to break the import cycle. */
export type SubqueryWalker = (ast: AstNode, scope: MssqlScope) => void

const LEAF_TYPES = new Set([
  'number',
  'single_quote_string',
  'var_string',
  'full_hex_string',
  'hex_string',
  'bit_string',
  'natural_string',
  'bool',
  'null',
  'star',
  'origin',
  'default',
  'datetime',
  'date',
  'time',
  'timestamp',
])

/** Functions whose first argument is a date part (`day`, `year`) rather than a column. */
const DATEPART_FUNCTIONS = new Set([
  'dateadd',
  'datediff',
  'datediff_big',
  'datepart',
  'datename',
  'datetrunc',
  'date_bucket',
])

/** Subquery quantifiers, which are operators rather than functions. */
const QUANTIFIERS = new Set(['all', 'any', 'some'])

/** Functions whose first argument is a data type. */
const TYPE_FIRST_FUNCTIONS = new Set(['convert', 'try_convert'])

export class MssqlExpressionWalker {
  readonly #facts: FactBuilder
  readonly #walkSubquery: SubqueryWalker

  constructor(facts: FactBuilder, walkSubquery: SubqueryWalker) {
    this.#facts = facts
    this.#walkSubquery = walkSubquery
  }

  /** Adds the facts of one expression, or of each item of a list. */
  walk(value: unknown, scope: MssqlScope): void {
    if (value === null || value === undefined) return

    if (Array.isArray(value)) {
      for (const item of value) this.walk(item, scope)
      return
    }

    if (!isNode(value)) unsupported(`expression of shape ${typeof value}`)

    if (isNode(value['ast'])) {
      this.#walkSubquery(value['ast'], scope)
      return
    }

    const type = childString(value, 'type')
    if (type === null) unsupported('expression without a type')
    if (LEAF_TYPES.has(type)) return

    switch (type) {
      case 'column_ref':
        this.columnRef(value, scope, 'select')
        return
      case 'binary_expr':
        this.walk(value['left'], scope)
        this.walk(value['right'], scope)
        return
      case 'unary_expr':
      case 'cast':
        this.walk(value['expr'], scope)
        return
      case 'expr_list':
        this.walk(value['value'], scope)
        return
      case 'case':
        this.walk(value['expr'], scope)
        for (const branch of childList(value, 'args')) {
          if (!isNode(branch)) unsupported('CASE branch')
          this.walk(branch['cond'], scope)
          this.walk(branch['result'], scope)
        }
        return
      case 'function':
        this.#function(value, scope)
        return
      case 'aggr_func':
        this.#aggregate(value, scope)
        return
      case 'select':
        this.#walkSubquery(value, scope)
        return
      case 'rows':
      case 'range':
        // A window frame: its bounds are constants such as `UNBOUNDED PRECEDING`.
        this.walk(value['expr'], scope)
        return
      default:
        unsupported(`expression ${type}`)
    }
  }

  /**
   * Adds the column facts of a column reference. A reference to a variable (`@name`) is a
   * parameter, not a column.
   */
  columnRef(node: AstNode, scope: MssqlScope, action: 'select' | 'insert' | 'update'): void {
    const column = columnName(node)
    if (column.startsWith('@')) return

    const qualifier = childString(node, 'table')
    if (qualifier === null) {
      for (const table of scope.candidateTables()) {
        this.#facts.addColumn(table.schema, table.name, column, action)
      }
      return
    }

    const source = scope.resolve(fold(qualifier))
    if (source === undefined) unsupported('column qualifier that names no table in scope')
    if (source.kind === 'table') this.#facts.addColumn(source.schema, source.name, column, action)
  }

  #function(node: AstNode, scope: MssqlScope): void {
    const { schema, name } = functionName(node)
    // The parser reads the quantifier of `a > ALL (SELECT ...)` as a function call.
    if (schema !== null || !QUANTIFIERS.has(name)) this.#facts.addFunction(schema, name, 'execute')

    const args = childNode(node, 'args')
    const values = args === null ? [] : childList(args, 'value')
    const skipFirst = DATEPART_FUNCTIONS.has(name) || TYPE_FIRST_FUNCTIONS.has(name)
    values.forEach((arg, index) => {
      if (index === 0 && skipFirst && isNode(arg) && arg['type'] === 'column_ref') return
      this.walk(arg, scope)
    })

    this.#window(node['over'], scope)
    this.walk(node['within_group'], scope)
  }

  #aggregate(node: AstNode, scope: MssqlScope): void {
    const name = childString(node, 'name')
    if (name === null) unsupported('aggregate without a name')
    this.#facts.addFunction(null, fold(name), 'execute')

    const args = childNode(node, 'args')
    if (args !== null) {
      this.walk(args['expr'], scope)
      this.walk(args['orderby'], scope)
    }
    this.#window(node['over'], scope)
    this.walk(node['within_group'], scope)
  }

  #window(over: unknown, scope: MssqlScope): void {
    if (over === null || over === undefined) return
    if (!isNode(over)) unsupported('OVER clause')

    const spec = childNode(over, 'as_window_specification')
    const windowSpec = spec === null ? null : childNode(spec, 'window_specification')
    if (windowSpec === null) unsupported('OVER clause without a window specification')

    for (const item of childList(windowSpec, 'partitionby')) {
      this.walk(isNode(item) ? item['expr'] : item, scope)
    }
    for (const item of childList(windowSpec, 'orderby')) {
      this.walk(isNode(item) ? item['expr'] : item, scope)
    }
    this.walk(windowSpec['window_frame_clause'], scope)
  }
}

/** Returns the folded column name of a `column_ref`. */
export function columnName(node: AstNode): string {
  const column = node['column']
  if (typeof column === 'string') return column.startsWith('@') ? column : fold(column)
  if (isNode(column) && isNode(column['expr']) && typeof column['expr']['value'] === 'string') {
    return fold(column['expr']['value'])
  }
  return unsupported('column reference of unknown shape')
}

/** Returns the folded schema and name of a function call node. */
export function functionName(node: AstNode): { schema: string | null; name: string } {
  const nameNode = childNode(node, 'name')
  if (nameNode === null) unsupported('function without a name')

  const parts = childList(nameNode, 'name')
  if (parts.length !== 1 || !isNode(parts[0]) || typeof parts[0]['value'] !== 'string') {
    unsupported('function name of unknown shape')
  }
  const schemaNode = childNode(nameNode, 'schema')
  const schema = schemaNode === null ? null : schemaNode['value']
  if (schema !== null && typeof schema !== 'string') unsupported('function schema of unknown shape')

  return { schema: schema === null ? null : fold(schema), name: fold(parts[0]['value']) }
}
