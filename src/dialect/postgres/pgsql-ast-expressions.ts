/**
 * Walks pgsql-ast-parser expressions: column references resolved against the scope, function
 * calls with their floor and modify facts, and sub-queries. The rules mirror the expression walk
 * of the libpg-query extractor, including the SQL syntax that PostgreSQL's grammar rewrites into
 * calls of `pg_catalog` functions and the calls that it turns into plain expressions.
 */

import { SqlUnsupported } from '../../errors.js'
import type { FactBuilder } from '../../extract/fact-builder.js'
import {
  PGSQL_AST_FRONT_END,
  QUERY_TYPES,
  asList,
  asNode,
  identifier,
  qualifiedName,
  type AstNode,
} from './pgsql-ast-nodes.js'
import {
  floorRuleOfFunction,
  IDENTITY_SETTINGS,
  isModifyingFunction,
} from './postgres-functions.js'
import { tablesOf, type Scope } from './postgres-scope.js'

/**
 * Names that pgsql-ast-parser parses as calls but PostgreSQL's grammar turns into expressions
 * (`COALESCE`, `NULLIF`, `ROW(...)`, `EXISTS`, `x = ANY (...)`, `GROUPING(...)`, the XML and
 * SQL/JSON constructors, `CURRENT_TIMESTAMP(p)` and the like): they call no function.
 */
const SYNTAX_CALLS: ReadonlySet<string> = new Set([
  'coalesce',
  'greatest',
  'least',
  'nullif',
  'row',
  'exists',
  'any',
  'some',
  'all',
  'grouping',
  'xmlconcat',
  'xmlelement',
  'xmlforest',
  'xmlparse',
  'xmlpi',
  'xmlroot',
  'xmlserialize',
  'json',
  'json_scalar',
  'json_serialize',
  'json_array',
  'json_arrayagg',
  'json_objectagg',
  'json_exists',
  'json_value',
  'json_query',
  'current_time',
  'current_timestamp',
  'localtime',
  'localtimestamp',
])

/** Names whose call syntax PostgreSQL's grammar turns into a call of a `pg_catalog` function. */
const CATALOG_CALLS: ReadonlyMap<string, string> = new Map([
  ['position', 'position'],
  ['normalize', 'normalize'],
  ['xmlexists', 'xmlexists'],
  ['trim', 'btrim'],
])

/** Grouping-set constructs, which the parser reads as calls at the top of a GROUP BY item. */
const GROUPING_SET_CALLS: ReadonlySet<string> = new Set(['rollup', 'cube'])

/** Literal and keyword nodes: they carry no fact. */
const LEAF_TYPES: ReadonlySet<string> = new Set([
  'parameter',
  'string',
  'integer',
  'numeric',
  'boolean',
  'null',
  'default',
  'keyword',
  'constant',
])

export interface ExpressionContext {
  /** The SQL text, to tell a quoted function name from the keyword it spells. */
  readonly sql: string
  /** The facts of the statement being extracted. */
  readonly facts: () => FactBuilder
  /** Walks a nested query in the scope given. */
  readonly statement: (node: unknown, scope: Scope) => void
}

export class PgsqlAstExpressions {
  readonly #context: ExpressionContext

  constructor(context: ExpressionContext) {
    this.#context = context
  }

  /** Walks any expression, list of expressions or `null`. */
  walk(value: unknown, scope: Scope): void {
    if (value === null || value === undefined) return
    if (Array.isArray(value)) {
      for (const item of value) this.walk(item, scope)
      return
    }

    const node = asNode(value, 'expression')
    if (LEAF_TYPES.has(node.type)) return
    if (QUERY_TYPES.has(node.type)) return this.#context.statement(node, scope.child())

    switch (node.type) {
      case 'ref':
        return this.#columnRef(node, scope)
      case 'call':
        return this.call(node, scope)
      case 'binary':
        // PostgreSQL's grammar turns `x AT TIME ZONE z` into a call of pg_catalog.timezone.
        if (node['op'] === 'AT TIME ZONE') this.#function('pg_catalog', 'timezone')
        return this.#walkFields(node, scope, ['left', 'right'])
      case 'unary':
        return this.walk(node['operand'], scope)
      case 'ternary':
        return this.#walkFields(node, scope, ['value', 'lo', 'hi'])
      case 'cast':
        return this.walk(node['operand'], scope)
      case 'case':
        this.walk(node['value'], scope)
        for (const item of asList(node['whens'])) {
          this.#walkFields(asNode(item, 'WHEN', false), scope, ['when', 'value'])
        }
        return this.walk(node['else'], scope)
      case 'list':
      case 'array':
        return this.walk(node['expressions'], scope)
      case 'array select':
        return this.#context.statement(node['select'], scope.child())
      case 'member':
        return this.walk(node['operand'], scope)
      case 'arrayIndex':
        return this.#walkFields(node, scope, ['array', 'index'])
      case 'extract':
        this.#function('pg_catalog', 'extract')
        return this.walk(node['from'], scope)
      case 'substring':
        this.#function('pg_catalog', 'substring')
        return this.#walkFields(node, scope, ['value', 'from', 'for'])
      case 'overlay':
        this.#function('pg_catalog', 'overlay')
        return this.#walkFields(node, scope, ['value', 'placing', 'from', 'for'])
      default:
        throw new SqlUnsupported(PGSQL_AST_FRONT_END, `expression ${node.type}`)
    }
  }

  /** Walks the expressions of ORDER BY items. */
  walkOrderBy(list: unknown, scope: Scope): void {
    for (const item of asList(list)) this.walk(asNode(item, 'ORDER BY item', false)['by'], scope)
  }

  /** Walks the items of a GROUP BY clause, where `ROLLUP (...)` and `CUBE (...)` call nothing. */
  walkGroupBy(list: unknown, scope: Scope): void {
    for (const item of asList(list)) {
      const node = asNode(item, 'GROUP BY item')
      const name = node.type === 'call' ? qualifiedName(node['function'], 'function') : null
      if (name !== null && name.schema === null && GROUPING_SET_CALLS.has(name.name)) {
        this.walk(node['args'], scope)
      } else {
        this.walk(node, scope)
      }
    }
  }

  /** Walks a function call, in an expression or in FROM. */
  call(node: AstNode, scope: Scope): void {
    const { schema, name } = qualifiedName(node['function'], 'function')
    const args = asList(node['args'])
    // The parser drops the quotes of a function name, but `"exists"(x)` calls a function
    // named exists while `EXISTS (...)` is syntax, so the first character decides.
    const syntax = schema === null && !this.#isQuoted(node['function'])
    const catalogName = syntax ? CATALOG_CALLS.get(name) : undefined
    if (catalogName !== undefined) {
      this.#function('pg_catalog', catalogName)
    } else if (syntax && name === 'json_object') {
      // JSON_OBJECT() builds an object; with ordinary arguments it calls pg_catalog.json_object.
      if (args.length > 0) this.#function('pg_catalog', name)
    } else if (!syntax || !SYNTAX_CALLS.has(name)) {
      this.#function(schema, name)
      if (name === 'set_config') this.#setConfig(node)
    }

    // `count(*)`: the star selects no column, as in PostgreSQL's own tree.
    const [first] = args
    const aggregateStar =
      args.length === 1 &&
      first !== null &&
      typeof first === 'object' &&
      isBareStar(first as AstNode)
    if (!aggregateStar) this.walk(args, scope)

    this.walkOrderBy(node['orderBy'], scope)
    this.walk(node['filter'], scope)
    const withinGroup = node['withinGroup']
    if (withinGroup !== null && withinGroup !== undefined) {
      this.walk(asNode(withinGroup, 'WITHIN GROUP', false)['by'], scope)
    }
    const over = node['over']
    if (over !== null && over !== undefined) {
      const window = asNode(over, 'OVER', false)
      this.walk(window['partitionBy'], scope)
      this.walkOrderBy(window['orderBy'], scope)
    }
  }

  /** Tells whether a name node starts with a double quote in the SQL text. */
  #isQuoted(value: unknown): boolean {
    const start = (value as { _location?: { start?: unknown } } | null)?._location?.start
    if (typeof start !== 'number') {
      throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'function name without a position')
    }
    return this.#context.sql[start] === '"'
  }

  #walkFields(node: AstNode, scope: Scope, fields: readonly string[]): void {
    for (const field of fields) this.walk(node[field], scope)
  }

  #function(schema: string | null, name: string): void {
    const facts = this.#context.facts()
    const floor = floorRuleOfFunction(name)
    if (floor !== null) facts.addFloor(floor, `function ${name}`)
    facts.addFunction(schema, name, isModifyingFunction(name) ? 'modify' : 'execute')
  }

  /** `set_config('role', ...)` is SET ROLE; a setting name that is not a literal may be too. */
  #setConfig(node: AstNode): void {
    const first = asList(node['args'])[0] as { type?: unknown; value?: unknown } | undefined
    const literal = first?.type === 'string' ? first.value : undefined
    if (typeof literal !== 'string' || IDENTITY_SETTINGS.has(literal.trim().toLowerCase())) {
      const construct = 'set_config of the role or session authorization'
      this.#context.facts().addFloor('identity-change', construct)
    }
  }

  #columnRef(node: AstNode, scope: Scope): void {
    const rawName = node['name']
    if (typeof rawName !== 'string') {
      throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'column reference')
    }
    const star = rawName === '*'
    const column = star ? '*' : identifier(rawName)
    const table = node['table']

    if (table === undefined || table === null) {
      for (const entry of scope.candidatesForColumn()) {
        if (entry.table !== null) this.#column(entry.table, column)
      }
      // A bare name that matches a range entry may be a whole-row reference to it.
      const whole = star ? undefined : scope.findByAlias(column)
      for (const base of whole === undefined ? [] : tablesOf(whole)) this.#column(base, '*')
      return
    }

    const qualifier = qualifiedName(table, 'column qualifier')
    if (qualifier.schema === null) {
      const entry = scope.findByAlias(qualifier.name)
      for (const base of entry === undefined ? [] : tablesOf(entry)) this.#column(base, column)
      return
    }
    // `schema.table.column` names the table outright, so it is attributed even when the FROM
    // clause spelled it differently.
    const entry = scope.findByTable(qualifier.schema, qualifier.name)
    this.#column(entry?.table ?? { schema: qualifier.schema, name: qualifier.name }, column)
  }

  #column(table: { readonly schema: string | null; readonly name: string }, column: string): void {
    this.#context.facts().addColumn(table.schema, table.name, column, 'select')
  }
}

function isBareStar(node: AstNode): boolean {
  const unqualified = node['table'] === undefined || node['table'] === null
  return node.type === 'ref' && node['name'] === '*' && unqualified
}
