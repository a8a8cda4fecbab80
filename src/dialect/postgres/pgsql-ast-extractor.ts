/**
 * Extracts facts from one statement of pgsql-ast-parser's tree, with the same rules as the
 * libpg-query extractor. Kinds by effect, scopes for CTE and alias resolution, and the facts of
 * syntax that PostgreSQL's grammar turns into function calls (`EXTRACT`, `AT TIME ZONE`) are the
 * same. The two front ends are compared fact by fact, so every rule here mirrors one in
 * `postgres-extractor.ts`.
 *
 * Every node is matched by its `type`. A node type that is not handled raises `SqlUnsupported`,
 * so a construct that a later parser version adds is denied until it is known.
 */

import { SqlUnsupported } from '../../errors.js'
import { FactBuilder } from '../../extract/fact-builder.js'
import type { StatementFacts, StatementKind, TableAction } from '../../extract/statement-facts.js'
import { PgsqlAstExpressions } from './pgsql-ast-expressions.js'
import {
  PGSQL_AST_FRONT_END,
  QUERY_TYPES,
  asList,
  asNode,
  nameOf,
  qualifiedName,
  type AstNode,
} from './pgsql-ast-nodes.js'
import { addTableFact } from './pgsql-ast-table-facts.js'
import { extractUtility, utilityKindOf } from './pgsql-ast-utility-statements.js'
import { Scope, tablesOf, type RangeEntry } from './postgres-scope.js'

const DATA_TYPES: ReadonlySet<string> = new Set([...QUERY_TYPES, 'insert', 'update', 'delete'])

interface TargetTable {
  readonly schema: string | null
  readonly name: string
  readonly alias: string
}

export class PgsqlAstExtractor {
  #facts = new FactBuilder('other')
  readonly #sql: string
  readonly #expressions: PgsqlAstExpressions

  /** @param sql the text the tree was parsed from, with location tracking on. */
  constructor(sql: string) {
    this.#sql = sql
    this.#expressions = new PgsqlAstExpressions({
      sql,
      facts: () => this.#facts,
      statement: (node, scope) => this.#statement(node, scope),
    })
  }

  /** Extracts the facts of one top-level statement. */
  extract(statement: unknown): StatementFacts {
    const node = asNode(statement, 'statement')
    this.#facts = new FactBuilder(this.#topKind(node))
    if (DATA_TYPES.has(node.type)) this.#statement(node, new Scope(null))
    else {
      extractUtility(node, this.#facts, {
        statement: (query, scope) => this.#statement(query, scope),
        expression: (value, scope) => this.#expressions.walk(value, scope),
      })
    }
    return this.#facts.build()
  }

  #topKind(node: AstNode): StatementKind {
    if (QUERY_TYPES.has(node.type)) {
      if (node.type === 'with' || node.type === 'with recursive') {
        return this.#topKind(asNode(node['in'], 'WITH body'))
      }
      return 'select'
    }
    if (node.type === 'insert' || node.type === 'update' || node.type === 'delete') return node.type
    return utilityKindOf(node)
  }

  #addTable(schema: string | null, name: string, action: TableAction): void {
    addTableFact(this.#facts, schema, name, action)
  }

  // Statements -----------------------------------------------------------------------------

  /** Walks a data statement whose own names live in `scope`. */
  #statement(value: unknown, scope: Scope): void {
    const node = asNode(value, 'statement')
    switch (node.type) {
      case 'select':
        return this.#select(node, scope)
      case 'union':
      case 'union all':
        return this.#union(node, scope)
      case 'values':
        for (const row of asList(node['values'])) this.#expressions.walk(row, scope)
        return
      case 'with':
        return this.#with(node, scope)
      case 'with recursive':
        return this.#withRecursive(node, scope)
      case 'insert':
        return this.#insert(node, scope)
      case 'update':
        return this.#update(node, scope)
      case 'delete':
        return this.#delete(node, scope)
      default:
        throw new SqlUnsupported(PGSQL_AST_FRONT_END, `statement type ${node.type}`)
    }
  }

  /**
   * Walks a UNION. The parser attaches a trailing ORDER BY, LIMIT or FOR clause to the last
   * branch, but PostgreSQL applies it to the whole query. So the clauses of a last branch
   * without parentheses are moved back to the UNION before the walk.
   */
  #union(node: AstNode, scope: Scope): void {
    this.#facts.addKind('select')
    const { query, trailing } = this.#detachTrailing(node)
    this.#statement(query['left'], scope.child())
    this.#statement(query['right'], scope.child())
    this.#orderBy(trailing['orderBy'], scope)
    this.#limit(trailing['limit'], scope)
  }

  /** Returns `union` without the trailing clauses of its last branch, and those clauses. */
  #detachTrailing(union: AstNode): { query: AstNode; trailing: Record<string, unknown> } {
    const right = asNode(union['right'], 'UNION branch')
    if (this.#parenthesized(right)) return { query: union, trailing: {} }
    if (right.type === 'union' || right.type === 'union all') {
      const inner = this.#detachTrailing(right)
      return { query: { ...union, right: inner.query }, trailing: inner.trailing }
    }
    if (right.type !== 'select') return { query: union, trailing: {} }
    const { orderBy, limit, for: locking, ...rest } = right
    return { query: { ...union, right: rest }, trailing: { orderBy, limit, for: locking } }
  }

  /** Tells whether a node's text starts with a parenthesis. */
  #parenthesized(node: AstNode): boolean {
    const start = (node['_location'] as { start?: unknown } | undefined)?.start
    if (typeof start !== 'number') {
      throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'UNION branch without a position')
    }
    return this.#sql[start] === '('
  }

  /** Walks WITH. A CTE can name only the CTEs before it, and the main statement all of them. */
  #with(node: AstNode, scope: Scope): void {
    for (const item of asList(node['bind'])) {
      const binding = asNode(item, 'WITH item', false)
      this.#statement(binding['statement'], scope.child())
      scope.addCte(nameOf(binding['alias'], 'CTE name'))
    }
    this.#statement(node['in'], scope)
  }

  /** WITH RECURSIVE makes the CTE name visible in its own query. */
  #withRecursive(node: AstNode, scope: Scope): void {
    const name = nameOf(node['alias'], 'CTE name')
    scope.addCte(name)
    this.#statement(node['bind'], scope.child())
    scope.addCte(name)
    this.#statement(node['in'], scope)
  }

  #select(node: AstNode, scope: Scope): void {
    this.#facts.addKind('select')
    this.#fromList(asList(node['from']), scope)

    const distinct = node['distinct']
    if (Array.isArray(distinct)) this.#expressions.walk(distinct, scope)
    for (const column of asList(node['columns'])) {
      this.#expressions.walk(asNode(column, 'select item', false)['expr'], scope)
    }
    this.#expressions.walk(node['where'], scope)
    this.#expressions.walkGroupBy(node['groupBy'], scope)
    this.#expressions.walk(node['having'], scope)
    this.#orderBy(node['orderBy'], scope)
    this.#limit(node['limit'], scope)

    // FOR UPDATE and FOR SHARE lock rows, which is a write. The parser keeps no `OF` list, so
    // every table of this query level is locked, as PostgreSQL does without `OF`.
    if (node['for'] !== undefined && node['for'] !== null) {
      for (const entry of scope.entries) {
        if (entry.table !== null) this.#addTable(entry.table.schema, entry.table.name, 'lock')
      }
      // PostgreSQL pushes the lock down into every sub-query of the FROM list.
      this.#lockFromItems(asList(node['from']), scope)
    }
  }

  /**
   * Adds `lock` for the base tables of FROM items and of their sub-queries' FROM lists, the
   * way the libpg-query extractor does. A set operation of more than two branches is read as
   * PostgreSQL groups it, `(A UNION B) UNION C`, so only its last branch has a FROM list.
   */
  #lockFromItems(items: readonly unknown[], scope: Scope): void {
    for (const value of items) {
      const item = asNode(value, 'FROM item')
      if (item.type === 'table') {
        const name = qualifiedName(item['name'], 'table')
        if (name.schema !== null || !scope.isCte(name.name)) {
          this.#addTable(name.schema, name.name, 'lock')
        }
      } else if (item.type === 'statement') {
        for (const select of this.#lockedSelects(asNode(item['statement'], 'sub-query'))) {
          this.#lockFromItems(asList(select['from']), scope)
        }
      }
    }
  }

  /** The SELECTs of a sub-query whose FROM lists a row lock reaches. */
  #lockedSelects(query: AstNode): AstNode[] {
    const body = query.type === 'with' ? asNode(query['in'], 'WITH body') : query
    if (body.type === 'select') return [body]
    if (body.type !== 'union' && body.type !== 'union all') return []
    const branches: AstNode[] = []
    let current: AstNode = body
    while (current.type === 'union' || current.type === 'union all') {
      branches.push(asNode(current['left'], 'UNION branch'))
      const right = asNode(current['right'], 'UNION branch')
      if (this.#parenthesized(right)) {
        branches.push(right)
        break
      }
      current = right
    }
    if (current.type !== 'union' && current.type !== 'union all' && !branches.includes(current)) {
      branches.push(current)
    }
    const selects = branches.length === 2 ? branches : branches.slice(-1)
    return selects.filter((branch) => branch.type === 'select')
  }

  #limit(value: unknown, scope: Scope): void {
    if (value === null || value === undefined) return
    const clause = asNode(value, 'LIMIT', false)
    this.#expressions.walk(clause['limit'], scope)
    this.#expressions.walk(clause['offset'], scope)
  }

  #orderBy(list: unknown, scope: Scope): void {
    this.#expressions.walkOrderBy(list, scope)
  }

  #insert(node: AstNode, scope: Scope): void {
    this.#facts.addKind('insert')
    const target = this.#relation(node['into'], 'insert')
    const columns = asList(node['columns'])
    for (const column of columns) {
      this.#facts.addColumn(target.schema, target.name, nameOf(column, 'INSERT column'), 'insert')
    }
    // Without a column list the values fill the table's columns in order, so a column rule on
    // any of them applies.
    if (columns.length === 0) this.#facts.addColumn(target.schema, target.name, '*', 'insert')
    this.#statement(node['insert'], scope.child())

    const targetScope = scope.child()
    targetScope.entries.push({ alias: target.alias, table: target })
    targetScope.entries.push({ alias: 'excluded', table: null })

    const conflict = node['onConflict']
    if (conflict !== null && conflict !== undefined) {
      const clause = asNode(conflict, 'ON CONFLICT', false)
      const action = clause['do']
      if (action !== 'do nothing') {
        this.#addTable(target.schema, target.name, 'update')
        this.#setList(asNode(action, 'ON CONFLICT action', false)['sets'], target, targetScope)
      }
      this.#conflictTarget(clause['on'], targetScope)
      this.#expressions.walk(clause['where'], targetScope)
    }
    this.#returning(node, target, targetScope)
  }

  /** A bare column in the conflict target names an index column and reads nothing. */
  #conflictTarget(value: unknown, scope: Scope): void {
    if (value === null || value === undefined) return
    const target = asNode(value, 'ON CONFLICT target')
    if (target.type === 'on constraint') return
    if (target.type !== 'on expr') {
      throw new SqlUnsupported(PGSQL_AST_FRONT_END, `ON CONFLICT target ${target.type}`)
    }
    for (const expression of asList(target['exprs'])) {
      const item = asNode(expression, 'ON CONFLICT column')
      if (item.type === 'ref' && item['table'] === undefined) continue
      this.#expressions.walk(item, scope)
    }
  }

  #update(node: AstNode, scope: Scope): void {
    this.#facts.addKind('update')
    const target = this.#relation(node['table'], 'update')
    const inner = scope.child()
    inner.entries.push({ alias: target.alias, table: target })
    const from = node['from']
    if (from !== null && from !== undefined) {
      this.#fromList(Array.isArray(from) ? from : [from], inner)
    }

    this.#setList(node['sets'], target, inner)
    this.#whereOnTarget(node, target, inner)
    this.#returning(node, target, inner)
  }

  #setList(list: unknown, target: TargetTable, scope: Scope): void {
    for (const item of asList(list)) {
      const set = asNode(item, 'SET item', false)
      const column = nameOf(set['column'], 'SET column')
      this.#facts.addColumn(target.schema, target.name, column, 'update')
      this.#expressions.walk(set['value'], scope)
    }
  }

  #delete(node: AstNode, scope: Scope): void {
    this.#facts.addKind('delete')
    const target = this.#relation(node['from'], 'delete')
    const inner = scope.child()
    inner.entries.push({ alias: target.alias, table: target })
    this.#whereOnTarget(node, target, inner)
    this.#returning(node, target, inner)
  }

  /** A WHERE clause of UPDATE or DELETE reads the target table. */
  #whereOnTarget(node: AstNode, target: TargetTable, scope: Scope): void {
    const where = node['where']
    if (where === null || where === undefined) return
    this.#expressions.walk(where, scope)
    this.#addTable(target.schema, target.name, 'select')
  }

  /** RETURNING reads the target table's columns. */
  #returning(node: AstNode, target: TargetTable, scope: Scope): void {
    const items = asList(node['returning'])
    if (items.length === 0) return
    this.#addTable(target.schema, target.name, 'select')
    for (const item of items) {
      this.#expressions.walk(asNode(item, 'RETURNING item', false)['expr'], scope)
    }
  }

  // FROM items and relations -------------------------------------------------------------

  #relation(value: unknown, action: TableAction): TargetTable {
    const name = qualifiedName(value, 'relation')
    this.#addTable(name.schema, name.name, action)
    const alias = asNode(value, 'relation', false)['alias']
    return { ...name, alias: typeof alias === 'string' ? alias : name.name }
  }

  /**
   * Adds FROM items to `scope`. The parser lists a join as the item it brings in, with the join
   * condition on that item, so `a JOIN b USING (x), c` is `[a, b(USING x), c]`. A join chain
   * therefore starts at the last item without a join.
   */
  #fromList(items: readonly unknown[], scope: Scope): void {
    let chainStart = scope.entries.length
    for (const value of items) {
      const item = asNode(value, 'FROM item')
      const rawJoin = item['join']
      const join = rawJoin === null || rawJoin === undefined ? null : asNode(rawJoin, 'JOIN', false)
      if (join === null) chainStart = scope.entries.length
      const left = scope.entries.slice(chainStart)
      this.#fromItem(item, scope)
      if (join === null) continue

      const right = scope.entries.slice(chainStart + left.length)
      this.#expressions.walk(join['on'], scope)
      // USING compares columns that the SQL names without a table: each joined table is read.
      const using = asList(join['using']).map((name) => nameOf(name, 'USING column'))
      this.#usingColumns([...left, ...right], using)
    }
  }

  #usingColumns(entries: readonly RangeEntry[], columns: readonly string[]): void {
    for (const entry of entries) {
      for (const table of tablesOf(entry)) {
        for (const column of columns) {
          this.#facts.addColumn(table.schema, table.name, column, 'select')
        }
      }
    }
  }

  /** Adds one FROM item to `scope`. */
  #fromItem(item: AstNode, scope: Scope): void {
    switch (item.type) {
      case 'table': {
        const name = qualifiedName(item['name'], 'table')
        const alias = asNode(item['name'], 'table', false)['alias']
        if (name.schema === null && scope.isCte(name.name)) {
          scope.entries.push({ alias: typeof alias === 'string' ? alias : name.name, table: null })
        } else {
          const target = this.#relation(item['name'], 'select')
          scope.entries.push({ alias: target.alias, table: target })
          // `users AS x(a, b, c)` renames the columns by position, so a name read through the
          // alias may be any column of the table.
          const renamed = asList(asNode(item['name'], 'table', false)['columnNames'])
          if (renamed.length > 0) this.#facts.addColumn(target.schema, target.name, '*', 'select')
        }
        break
      }
      case 'statement': {
        this.#statement(item['statement'], scope.child())
        const alias = item['alias']
        scope.entries.push({ alias: typeof alias === 'string' ? alias : '', table: null })
        break
      }
      case 'call': {
        this.#expressions.call(item, scope)
        const alias = item['alias']
        const name = alias === undefined || alias === null ? '' : nameOf(alias, 'alias')
        scope.entries.push({ alias: name, table: null })
        break
      }
      default:
        throw new SqlUnsupported(PGSQL_AST_FRONT_END, `FROM item ${item.type}`)
    }
  }
}
