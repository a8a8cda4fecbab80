/**
 * Walks one node-sql-parser `transactsql` tree and records its facts. Tables are found by
 * walking the tree, never through the parser's own table list, which leaves out the target of
 * `SELECT ... INTO`.
 */

import type { FactBuilder } from '../../extract/fact-builder.js'
import type { StatementKind, TableAction } from '../../extract/statement-facts.js'
import {
  childList,
  childNode,
  childString,
  expectKeys,
  fold,
  isNode,
  unsupported,
  type AstNode,
} from './mssql-ast.js'
import { legacyHintTable } from './legacy-table-hints.js'
import { MssqlExpressionWalker, columnName, functionName } from './mssql-expressions.js'
import { MssqlScope } from './mssql-scope.js'
import { TSQL_LOCK_HINTS, TSQL_READ_HINTS } from './tsql-keywords.js'

const SELECT_KEYS = new Set([
  'with', 'type', 'options', 'distinct', 'columns', 'into', 'from', 'for', 'where', 'groupby',
  'having', 'top', 'orderby', 'limit', '_next', 'set_op', 'parentheses_symbol', '_parentheses',
])
const INSERT_KEYS = new Set(['type', 'table', 'columns', 'values', 'partition', 'prefix'])
const UPDATE_KEYS = new Set(['with', 'type', 'table', 'set', 'from', 'where'])
const DELETE_KEYS = new Set(['with', 'type', 'table', 'from', 'where'])
const SOURCE_KEYS = new Set([
  'server', 'db', 'schema', 'table', 'as', 'table_hint', 'temporal_table', 'operator', 'join', 'on',
  'type', 'expr', 'addition', 'prefix',
])

/** Statement kinds a nested node can add, besides `select`. */
const NESTED_KINDS: ReadonlySet<StatementKind> = new Set([
  'insert',
  'update',
  'delete',
  'truncate',
  'drop',
  'create',
])

/** A resolved DML target: the table, and the name or alias it was written as. */
interface Target {
  readonly schema: string | null
  readonly name: string
  readonly key: string
}

export class MssqlExtractor {
  /**
   * Last name parts (folded) of every table reference the walk read, CTE and temporary names
   * included, for the cross-check against the names the lexer finds.
   */
  readonly visitedNames = new Set<string>()
  readonly #facts: FactBuilder
  readonly #expressions: MssqlExpressionWalker

  constructor(facts: FactBuilder) {
    this.#facts = facts
    this.#expressions = new MssqlExpressionWalker(facts, (ast, scope) => this.statement(ast, scope))
  }

  /** Records the facts of a statement node; `parent` is the enclosing query block, if any. */
  statement(ast: AstNode, parent: MssqlScope | null): void {
    // A nested statement other than a query adds its kind, so no write hides in a subquery.
    if (parent !== null && typeof ast['type'] === 'string' && ast['type'] !== 'select') {
      const kind = ast['type'] as StatementKind
      if (NESTED_KINDS.has(kind)) this.#facts.addKind(kind)
    }

    switch (ast['type']) {
      case 'select':
        this.#select(ast, parent)
        return
      case 'insert':
        this.#insert(ast, parent)
        return
      case 'update':
        this.#modify(ast, parent, 'update')
        return
      case 'delete':
        this.#modify(ast, parent, 'delete')
        return
      case 'truncate':
      case 'drop':
        this.#tableDdl(ast, ast['type'] === 'drop' ? 'drop' : 'truncate', 'name')
        return
      case 'create':
        if (ast['query_expr'] !== null && ast['query_expr'] !== undefined) {
          unsupported('CREATE TABLE AS')
        }
        this.#tableDdl(ast, 'create', 'table')
        return
      default:
        unsupported(`statement ${String(ast['type'])}`)
    }
  }

  #select(ast: AstNode, parent: MssqlScope | null): void {
    expectKeys(ast, SELECT_KEYS, 'SELECT')
    const cteScope = this.#with(ast, parent)
    const scope = new MssqlScope(cteScope)

    for (const item of childList(ast, 'from')) this.#source(item, scope, null)

    this.#into(ast)
    const aliases = new Set<string>()
    for (const column of childList(ast, 'columns')) {
      if (!isNode(column)) unsupported('select list item')
      const expr = childNode(column, 'expr')
      const alias = childString(column, 'as')
      if (alias !== null) aliases.add(fold(alias))

      if (expr !== null && expr['type'] === 'column_ref' && expr['column'] === '*') {
        this.#star(expr, scope)
      } else if (expr !== null && isAliasAssignment(expr)) {
        // `SELECT total = SUM(amount)`: in a T-SQL select list, `name =` names the column.
        aliases.add(columnName(expr['left'] as AstNode))
        this.#expressions.walk(expr['right'], scope)
      } else {
        this.#expressions.walk(expr, scope)
      }
    }

    this.#expressions.walk(ast['where'], scope)
    this.#expressions.walk(ast['having'], scope)
    const groupBy = ast['groupby']
    this.#expressions.walk(isNode(groupBy) ? groupBy['columns'] : groupBy, scope)
    for (const item of childList(ast, 'orderby')) {
      const expr = isNode(item) ? item['expr'] : item
      // ORDER BY may name a select-list alias, which is not a table column.
      if (isNode(expr) && isUnqualifiedColumn(expr) && aliases.has(columnName(expr))) continue
      this.#expressions.walk(expr, scope)
    }
    this.#top(ast, scope)
    this.#limit(ast, scope)
    this.#forClause(ast)

    const next = childNode(ast, '_next')
    if (next !== null) this.#select(next, cteScope)
  }

  /** Opens the CTE scope of a statement and walks each CTE body. */
  #with(ast: AstNode, parent: MssqlScope | null): MssqlScope {
    const scope = new MssqlScope(parent)

    for (const cte of childList(ast, 'with')) {
      if (!isNode(cte)) unsupported('common table expression')
      const nameNode = childNode(cte, 'name')
      const name = nameNode === null ? null : nameNode['value']
      if (typeof name !== 'string') unsupported('common table expression without a name')
      scope.addCte(fold(name))

      const body = childNode(cte, 'stmt')
      const bodyAst = body === null ? null : isNode(body['ast']) ? body['ast'] : body
      if (bodyAst === null) unsupported('common table expression without a body')
      this.statement(bodyAst, scope)
    }

    return scope
  }

  #into(ast: AstNode): void {
    const into = childNode(ast, 'into')
    if (into === null || into['expr'] === null || into['expr'] === undefined) return

    const target = into['expr']
    this.#facts.addKind('create')
    if (typeof target === 'string') {
      this.#createTarget(null, target)
      return
    }
    if (isNode(target) && typeof target['table'] === 'string') {
      const schema = childString(target, 'db')
      this.#createTarget(schema === null ? null : fold(schema), target['table'])
      return
    }
    unsupported('SELECT INTO target of unknown shape')
  }

  #createTarget(schema: string | null, name: string): void {
    if (name.startsWith('#')) {
      this.#facts.addFloor('session-state', 'SELECT INTO a temporary table')
      return
    }
    if (name.startsWith('@')) unsupported('SELECT INTO a table variable')
    this.#facts.addTable(schema, fold(name), 'create')
  }

  #star(expr: AstNode, scope: MssqlScope): void {
    const qualifier = childString(expr, 'table')
    if (qualifier === null) {
      for (const table of scope.ownTables()) {
        this.#facts.addColumn(table.schema, table.name, '*', 'select')
      }
      return
    }

    const source = scope.resolve(fold(qualifier))
    if (source === undefined) unsupported('star qualifier that names no table in scope')
    if (source.kind === 'table') this.#facts.addColumn(source.schema, source.name, '*', 'select')
  }

  #top(ast: AstNode, scope: MssqlScope): void {
    const top = childNode(ast, 'top')
    if (top !== null && isNode(top['value'])) this.#expressions.walk(top['value'], scope)
  }

  #limit(ast: AstNode, scope: MssqlScope): void {
    const limit = childNode(ast, 'limit')
    if (limit === null) return

    for (const key of ['offset', 'fetch']) {
      const part = childNode(limit, key)
      if (part !== null) this.#expressions.walk(part['value'], scope)
    }
    this.#expressions.walk(limit['value'], scope)
  }

  #forClause(ast: AstNode): void {
    const forClause = childNode(ast, 'for')
    if (forClause === null) return

    const type = childString(forClause, 'type')
    if (type !== 'for json' && type !== 'for xml') unsupported(`FOR clause ${String(type)}`)
  }

  /**
   * Registers one FROM item. `targets` lists the DML targets of an UPDATE or DELETE, whose FROM
   * entries get the statement's action instead of `select`.
   */
  #source(
    item: unknown,
    scope: MssqlScope,
    targets: { readonly keys: ReadonlySet<string>; readonly action: TableAction } | null,
  ): void {
    if (!isNode(item)) unsupported('FROM item')
    expectKeys(item, SOURCE_KEYS, 'FROM item')

    const alias = childString(item, 'as')
    const expr = childNode(item, 'expr')

    if (typeof item['table'] === 'string') {
      this.#tableSource(item, scope, targets)
    } else if (expr !== null && isNode(expr['ast'])) {
      this.statement(expr['ast'], scope)
      if (alias !== null) scope.add(fold(alias), { kind: 'other' })
    } else if (expr !== null && expr['type'] === 'function') {
      const { schema, name } = functionName(expr)
      const hinted = legacyHintTable(expr, schema, name, alias)
      if (hinted !== null) {
        this.#tableSource(hinted, scope, targets)
        this.#pivotOperator(item, scope)
        this.#expressions.walk(item['on'], scope)
        return
      }
      this.#expressions.walk(expr, scope)
      this.#remoteFunction(functionName(expr).name)
      if (alias !== null) scope.add(fold(alias), { kind: 'other' })
    } else {
      unsupported('FROM item of unknown shape')
    }

    this.#pivotOperator(item, scope)
    this.#expressions.walk(item['on'], scope)
  }

  /**
   * Records the source columns of a PIVOT (the aggregate and the pivot column) or an UNPIVOT
   * (the IN list). The other names in these clauses are new output columns, not references.
   */
  #pivotOperator(item: AstNode, scope: MssqlScope): void {
    const operator = childNode(item, 'operator')
    if (operator === null) return

    if (operator['type'] === 'pivot') {
      this.#expressions.walk(operator['expr'], scope)
      this.#expressions.walk(operator['column'], scope)
    } else if (operator['type'] === 'unpivot') {
      const list = childNode(operator, 'in_expr')
      this.#expressions.walk(list === null ? null : list['right'], scope)
    } else {
      unsupported('FROM item operator other than PIVOT or UNPIVOT')
    }
  }

  #remoteFunction(name: string): void {
    if (['openquery', 'openrowset', 'opendatasource'].includes(name)) {
      this.#facts.addFloor('remote-access', name.toUpperCase())
    }
  }

  #tableSource(
    item: AstNode,
    scope: MssqlScope,
    targets: { readonly keys: ReadonlySet<string>; readonly action: TableAction } | null,
  ): void {
    if (item['temporal_table'] !== null && item['temporal_table'] !== undefined) {
      unsupported('FOR SYSTEM_TIME')
    }
    const alias = childString(item, 'as')
    const key = fold(alias ?? (item['table'] as string))
    if (item['server'] !== null && item['server'] !== undefined) {
      this.#facts.addFloor('remote-access', 'four-part name on a linked server')
      this.visitedNames.add(fold(item['table'] as string))
      scope.add(key, { kind: 'other' })
      return
    }

    const { schema, name } = this.#tableName(item)
    if (schema === null && scope.hasCte(name)) {
      scope.add(key, { kind: 'other' })
      return
    }
    if (name.startsWith('#')) {
      this.#facts.addFloor('session-state', 'temporary table')
      scope.add(key, { kind: 'other' })
      return
    }
    if (name.startsWith('@')) unsupported('table variable')

    const action = targets !== null && targets.keys.has(key) ? targets.action : 'select'
    this.#facts.addTable(schema, name, action)
    for (const hint of tableHints(item)) {
      if (TSQL_LOCK_HINTS.has(hint)) this.#facts.addTable(schema, name, 'lock')
      else if (!TSQL_READ_HINTS.has(hint)) unsupported(`table hint ${hint}`)
    }
    scope.add(key, { kind: 'table', schema, name })
  }

  /** The folded schema and name of a table item; three- and four-part names are denied. */
  #tableName(item: AstNode): { schema: string | null; name: string } {
    if (item['server'] !== null && item['server'] !== undefined) {
      unsupported('four-part name on a linked server')
    }
    if (item['schema'] !== null && item['schema'] !== undefined) {
      unsupported('three-part name in another database')
    }
    const table = childString(item, 'table')
    if (table === null) unsupported('table without a name')
    const schema = childString(item, 'db')
    this.visitedNames.add(fold(table))

    return { schema: schema === null ? null : fold(schema), name: fold(table) }
  }

  #insert(ast: AstNode, parent: MssqlScope | null): void {
    expectKeys(ast, INSERT_KEYS, 'INSERT')
    const scope = new MssqlScope(parent)
    const [targetItem, ...rest] = childList(ast, 'table')
    if (!isNode(targetItem) || rest.length > 0) unsupported('INSERT target of unknown shape')

    const { schema, name } = this.#tableName(targetItem)
    if (name.startsWith('#')) this.#facts.addFloor('session-state', 'temporary table')
    else if (name.startsWith('@')) unsupported('INSERT into a table variable')
    else this.#facts.addTable(schema, name, 'insert')

    const columns = childList(ast, 'columns')
    if (columns.length === 0) this.#facts.addColumn(schema, name, '*', 'insert')
    for (const column of columns) {
      const columnText = isNode(column) ? columnName(column) : column
      if (typeof columnText !== 'string') unsupported('INSERT column of unknown shape')
      this.#facts.addColumn(schema, name, fold(columnText), 'insert')
    }

    const values = childNode(ast, 'values')
    if (values === null) return
    if (values['type'] === 'values') {
      for (const row of childList(values, 'values')) this.#expressions.walk(row, scope)
    } else {
      this.statement(values, scope)
    }
  }

  /** UPDATE and DELETE, including the T-SQL `UPDATE alias ... FROM` join form. */
  #modify(ast: AstNode, parent: MssqlScope | null, action: 'update' | 'delete'): void {
    expectKeys(ast, action === 'update' ? UPDATE_KEYS : DELETE_KEYS, action.toUpperCase())
    const cteScope = this.#with(ast, parent)
    const scope = new MssqlScope(cteScope)

    const targets = childList(ast, 'table').map((item) => this.#target(item))
    const keys = new Set(targets.map((target) => target.key))
    const from = childList(ast, 'from')
    for (const item of from) this.#source(item, scope, { keys, action })

    for (const target of targets) {
      if (target.name.startsWith('#')) {
        this.#facts.addFloor('session-state', 'temporary table')
        continue
      }
      const source = scope.resolve(target.key)
      if (source === undefined) {
        if (target.schema === null && scope.hasCte(target.name)) {
          unsupported(`${action.toUpperCase()} through a common table expression`)
        }
        this.#facts.addTable(target.schema, target.name, action)
        scope.add(target.key, { kind: 'table', schema: target.schema, name: target.name })
      } else if (source.kind !== 'table') {
        unsupported(`${action.toUpperCase()} of a derived table`)
      }
    }

    if (action === 'update') this.#set(ast, scope, targets)
    this.#expressions.walk(ast['where'], scope)
  }

  #target(item: unknown): Target {
    if (!isNode(item) || typeof item['table'] !== 'string') {
      unsupported('UPDATE or DELETE target of unknown shape')
    }
    if (item['table_hint'] !== null && item['table_hint'] !== undefined) {
      for (const hint of tableHints(item)) {
        if (!TSQL_READ_HINTS.has(hint) && !TSQL_LOCK_HINTS.has(hint)) {
          unsupported(`table hint ${hint}`)
        }
      }
    }
    const { schema, name } = this.#tableName(item)
    const alias = childString(item, 'as')

    return { schema, name, key: fold(alias ?? (item['table'] as string)) }
  }

  #set(ast: AstNode, scope: MssqlScope, targets: readonly Target[]): void {
    const [target] = targets
    if (target === undefined) unsupported('UPDATE without a target')
    const source = scope.resolve(target.key)

    for (const assignment of childList(ast, 'set')) {
      if (!isNode(assignment)) unsupported('SET item')
      const column = childString(assignment, 'column')
      if (column === null) unsupported('SET item without a column')
      if (source?.kind === 'table' && !column.startsWith('@')) {
        this.#facts.addColumn(source.schema, source.name, fold(column), 'update')
      } else if (column.startsWith('@')) {
        unsupported('variable assignment in UPDATE')
      }
      this.#expressions.walk(assignment['value'], scope)
    }
  }

  #tableDdl(ast: AstNode, action: TableAction, key: string): void {
    const keyword = childString(ast, 'keyword')
    if (keyword === null || fold(keyword) !== 'table') {
      unsupported(`${action.toUpperCase()} ${keyword ?? 'object'}`)
    }
    for (const item of childList(ast, key)) {
      if (!isNode(item)) unsupported(`${action.toUpperCase()} TABLE target`)
      const { schema, name } = this.#tableName(item)
      if (name.startsWith('#')) this.#facts.addFloor('session-state', 'temporary table')
      else this.#facts.addTable(schema, name, action)
    }
  }
}

function isUnqualifiedColumn(node: AstNode): boolean {
  return node['type'] === 'column_ref' && (node['table'] === null || node['table'] === undefined)
}

/** Tells whether a select-list item is `name = expression`, the T-SQL form of an alias. */
function isAliasAssignment(node: AstNode): boolean {
  const left = node['left']
  return (
    node['type'] === 'binary_expr' &&
    node['operator'] === '=' &&
    isNode(left) &&
    isUnqualifiedColumn(left) &&
    typeof left['column'] === 'string' &&
    !left['column'].startsWith('@')
  )
}

/** Upper-case names of the table hints on a FROM item, for example `NOLOCK` or `INDEX`. */
function tableHints(item: AstNode): string[] {
  const hint = childNode(item, 'table_hint')
  if (hint === null) return []

  return childList(hint, 'expr').map((entry) => {
    if (!isNode(entry)) unsupported('table hint')
    const keyword = childString(entry, 'keyword')
    if (keyword === 'literal_string') {
      const expr = childNode(entry, 'expr')
      const value = expr === null ? null : expr['value']
      if (typeof value !== 'string') unsupported('table hint of unknown shape')
      return value.toUpperCase()
    }
    if (keyword === null) unsupported('table hint of unknown shape')
    return keyword.toUpperCase()
  })
}
