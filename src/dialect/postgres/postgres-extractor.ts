/**
 * Extracts facts from one statement of PostgreSQL's own parse tree (libpg-query's JSON form).
 *
 * Every node is visited. Nodes that name tables, functions, columns or nested statements have
 * handlers, and nodes that only contain other nodes are listed in PASSTHROUGH_NODES. Any other
 * node type raises `SqlUnsupported`, so a construct added to the grammar later is denied until
 * it is known.
 */

import { SqlUnsupported } from '../../errors.js'
import { FactBuilder } from '../../extract/fact-builder.js'
import type { StatementFacts, StatementKind, TableAction } from '../../extract/statement-facts.js'
import { floorRuleOfFunction, IDENTITY_SETTINGS, isModifyingFunction } from './postgres-functions.js'
import { PASSTHROUGH_NODES } from './postgres-node-types.js'
import { Scope, tablesOf } from './postgres-scope.js'
import { UTILITY_STATEMENTS } from './postgres-utility-statements.js'

/** A parse tree node body: the object under the node's type name. */
type Body = Record<string, unknown>

const FRONT_END = 'libpg-query'

/** Statement kinds of the data statements, by node type. */
const DATA_KINDS: Readonly<Record<string, StatementKind>> = {
  SelectStmt: 'select',
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
}

/** Object types of DROP, GRANT and similar statements that name relations. */
const RELATION_OBJECT_TYPES = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_SEQUENCE',
  'OBJECT_INDEX',
])

/** Fields of utility statements that name the relation the statement acts on. */
const RELATION_FIELDS = new Set(['relation', 'view', 'sequence'])

/** Statements that store a function reference, which runs whenever the object is used. */
const STORED_CALLERS = new Set([
  'DefineStmt',
  'CreateCastStmt',
  'CreateTrigStmt',
  'CreateEventTrigStmt',
  'CreateOpClassStmt',
  'CreateTransformStmt',
  'CreateConversionStmt',
  'CreatePLangStmt',
  'CreateAmStmt',
  'CreateRangeStmt',
  'AlterOperatorStmt',
  'AlterTypeStmt',
])

/** Options of CREATE OPERATOR, AGGREGATE, TYPE and similar whose value names a function. */
const FUNCTION_OPTIONS = new Set([
  'function',
  'procedure',
  'restrict',
  'join',
  'sfunc',
  'finalfunc',
  'combinefunc',
  'serialfunc',
  'deserialfunc',
  'msfunc',
  'minvfunc',
  'mfinalfunc',
  'input',
  'output',
  'receive',
  'send',
  'typmod_in',
  'typmod_out',
  'analyze',
  'subscript',
  'canonical',
  'subtype_diff',
  'start',
  'gettoken',
  'end',
  'headline',
  'lextypes',
  'init',
  'lexize',
])

/** Fields that hold a function's qualified name as a `String` list. */
const FUNCTION_NAME_FIELDS = new Set([
  'funcname',
  'handler_name',
  'plhandler',
  'plinline',
  'plvalidator',
])

/** Fields that hold an ObjectWithArgs naming a function, as in CREATE CAST ... WITH FUNCTION. */
const OBJECT_WITH_ARGS_FIELDS = new Set(['func', 'fromsql', 'tosql'])

/** Reads the single `{ TypeName: body }` of a wrapped node, or `null` for anything else. */
export function unwrap(value: unknown): [string, Body] | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  // One pass over the own keys without building an array: a node has exactly one.
  let type: string | undefined
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue
    if (type !== undefined) return null
    type = key
  }
  // Node type names start with an ASCII capital letter, code units 65 (A) to 90 (Z).
  const first = type === undefined ? 0 : type.charCodeAt(0)
  if (type === undefined || first < 65 || first > 90) return null
  const body = (value as Record<string, unknown>)[type]
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null
  return [type, body as Body]
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function asBody(value: unknown): Body | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Body)
    : null
}

function stringOf(value: unknown): string | null {
  const node = unwrap(value)
  if (node === null || node[0] !== 'String') return null
  const text = node[1]['sval']
  return typeof text === 'string' ? text : null
}

/** Reads the names of a `String` list such as `funcname` or DROP's object names. */
function namesOf(list: unknown): string[] | null {
  const names: string[] = []
  for (const item of asArray(list)) {
    const name = stringOf(item)
    if (name === null) return null
    names.push(name)
  }
  return names
}

export class PostgresExtractor {
  #facts: FactBuilder = new FactBuilder('other')
  /** Inside a plain EXPLAIN: nothing runs, so kinds are not added and tables are only read. */
  #planOnly = false

  /** Extracts the facts of one top-level statement node. */
  extract(statement: unknown): StatementFacts {
    const node = unwrap(statement)
    if (node === null) throw new SqlUnsupported(FRONT_END, 'statement without a node type')
    this.#facts = new FactBuilder(this.#topKind(node))
    this.#planOnly = false
    this.#statement(statement, new Scope(null))
    return this.#facts.build()
  }

  #topKind([type, body]: [string, Body]): StatementKind {
    const data = DATA_KINDS[type]
    if (data !== undefined) return data
    if (type === 'ExplainStmt') return 'explain'
    if (type === 'VariableSetStmt') return body['kind'] === 'VAR_RESET' || body['kind'] === 'VAR_RESET_ALL' ? 'reset' : 'set'
    if (type === 'CreateTableAsStmt') return 'create'
    if (type === 'CopyStmt') return 'copy'
    if (type === 'CallStmt') return 'call'
    if (type === 'DropStmt') return 'drop'
    if (type === 'TruncateStmt') return 'truncate'
    if (type === 'GrantStmt' || type === 'GrantRoleStmt') return body['is_grant'] === true ? 'grant' : 'revoke'
    if (type === 'VacuumStmt') return body['is_vacuumcmd'] === true ? 'vacuum' : 'analyze'
    const utility = UTILITY_STATEMENTS[type]
    if (utility !== undefined) return utility.kind
    throw new SqlUnsupported(FRONT_END, type)
  }

  #addKind(kind: StatementKind): void {
    if (!this.#planOnly) this.#facts.addKind(kind)
  }

  #addTable(schema: string | null, name: string, action: TableAction): void {
    const effective = this.#planOnly ? 'select' : action
    // An UPDATE of the pg_settings view runs set_config(name, value, false) through the view's
    // rule, so the setting outlives the transaction. An unqualified name always resolves to
    // pg_catalog.pg_settings, because pg_catalog is searched before the search_path.
    const settingsView = name === 'pg_settings' && (schema === null || schema === 'pg_catalog')
    if (settingsView && effective !== 'select') {
      this.#facts.addFloor('session-state', 'write to pg_settings')
    }
    if (effective === 'create' && isTemporarySchema(schema)) {
      this.#facts.addFloor('session-state', 'object in the temporary schema')
    }
    this.#facts.addTable(schema, name, effective)
  }

  // Statements -----------------------------------------------------------------------------

  #statement(value: unknown, scope: Scope): void {
    const node = unwrap(value)
    if (node === null) throw new SqlUnsupported(FRONT_END, 'statement without a node type')
    const [type, body] = node

    switch (type) {
      case 'SelectStmt':
        return this.#select(body, scope)
      case 'InsertStmt':
        return this.#insert(body, scope)
      case 'UpdateStmt':
        return this.#update(body, scope)
      case 'DeleteStmt':
        return this.#delete(body, scope)
      case 'MergeStmt':
        return this.#merge(body, scope)
      case 'ExplainStmt':
        return this.#explain(body, scope)
      case 'CreateTableAsStmt':
        return this.#createTableAs(body, scope)
      case 'VariableSetStmt':
        return this.#variableSet(body)
      case 'CopyStmt':
        return this.#copy(body, scope)
      case 'CallStmt':
        this.#addKind('call')
        // `funccall` is a FuncCall body without its node type, so wrap it to check the name.
        return this.#walk({ FuncCall: body['funccall'] }, scope)
      case 'DropStmt':
        return this.#drop(body)
      case 'TruncateStmt':
        this.#addKind('truncate')
        for (const relation of asArray(body['relations'])) this.#relation(relation, 'truncate')
        return
      case 'GrantStmt':
        return this.#grant(body)
      case 'GrantRoleStmt':
        this.#addKind(body['is_grant'] === true ? 'grant' : 'revoke')
        return
      case 'VacuumStmt':
        return this.#vacuum(body)
      default:
        return this.#utility(type, body, scope)
    }
  }

  #utility(type: string, body: Body, scope: Scope): void {
    const utility = UTILITY_STATEMENTS[type]
    if (utility === undefined) throw new SqlUnsupported(FRONT_END, type)

    this.#addKind(utility.kind)
    if (utility.floor !== undefined) this.#facts.addFloor(utility.floor, utility.construct)
    // `CREATE FUNCTION pg_temp.f`, `CREATE VIEW pg_temp.v` and the like create session objects
    // without the TEMPORARY keyword; a temporary table also shadows a table of the same name.
    if (utility.kind === 'create' && namesTemporarySchema(body)) {
      this.#facts.addFloor('session-state', 'object in the temporary schema')
    }
    if (type === 'CreateStmt' || type === 'CreateTableAsStmt') this.#temporaryTable(body)
    // Temporary views and sequences have no ON COMMIT DROP, so they always outlive the request,
    // and a temporary view shadows a table of the same name for later users of the connection.
    const createdRelation = asBody(body['view']) ?? asBody(body['sequence'])
    if (utility.kind === 'create' && createdRelation?.['relpersistence'] === 't') {
      this.#facts.addFloor('session-state', 'temporary view or sequence')
    }
    if (STORED_CALLERS.has(type)) this.#storedCallees(body, null)

    for (const [field, child] of Object.entries(body)) {
      if (RELATION_FIELDS.has(field) && child !== undefined) {
        this.#relation(child, utility.relationAction ?? (utility.kind === 'alter' ? 'alter' : 'create'))
      } else if (type === 'LockStmt' && field === 'relations') {
        for (const relation of asArray(child)) this.#relation(relation, 'lock')
      } else if (type === 'ViewStmt' && field === 'query') {
        this.#statement(child, scope.child())
      } else if (type === 'RuleStmt' && field === 'actions') {
        for (const action of asArray(child)) this.#statement(action, scope.child())
      } else if (field === 'setstmt' || (type === 'AlterFunctionStmt' && field === 'actions')) {
        // A setting default (ALTER DATABASE, ALTER ROLE or ALTER FUNCTION ... SET) applies to
        // later sessions or calls. The statement type is already on the floor, so the setting
        // itself needs no walk.
        if (utility.floor === undefined) throw new SqlUnsupported(FRONT_END, `${type} setting`)
      } else {
        this.#walk(child, scope)
      }
    }
  }

  /**
   * Adds the functions that an operator, aggregate, cast, trigger or similar object calls when
   * it is used, so the floor and function lines apply when the object is created. Otherwise an
   * operator over pg_advisory_lock would let any later caller take a session lock.
   */
  #storedCallees(value: unknown, field: string | null): void {
    if (value === null || typeof value !== 'object') return
    if (Array.isArray(value)) {
      if (field !== null && FUNCTION_NAME_FIELDS.has(field)) {
        this.#function(value, 'function reference')
        return
      }
      for (const item of value) this.#storedCallees(item, null)
      return
    }

    const node = unwrap(value)
    if (node?.[0] === 'DefElem' && FUNCTION_OPTIONS.has(String(node[1]['defname']))) {
      const arg = unwrap(node[1]['arg'])
      if (arg?.[0] === 'TypeName') this.#function(arg[1]['names'], 'function reference')
      if (arg?.[0] === 'List') this.#function(arg[1]['items'], 'function reference')
      return
    }
    if (node?.[0] === 'CreateOpClassItem') {
      // Item type 2 is FUNCTION n name(...); type 1 names an operator, type 3 a storage type.
      const reference = asBody(node[1]['name'])
      if (node[1]['itemtype'] === 2) this.#function(reference?.['objname'], 'function reference')
      return
    }
    const body = node === null ? (value as Body) : node[1]
    if (field !== null && OBJECT_WITH_ARGS_FIELDS.has(field) && Array.isArray(body['objname'])) {
      this.#function(body['objname'], 'function reference')
      return
    }
    for (const [key, child] of Object.entries(body)) this.#storedCallees(child, key)
  }

  /** Temporary tables outlive the request on a pooled connection unless they drop at commit. */
  #temporaryTable(body: Body): void {
    const relation = asBody(body['relation']) ?? asBody(asBody(body['into'])?.['rel'])
    const onCommit = body['oncommit'] ?? asBody(body['into'])?.['onCommit']
    if (relation?.['relpersistence'] === 't' && onCommit !== 'ONCOMMIT_DROP') {
      this.#facts.addFloor('session-state', 'temporary table')
    }
  }

  #with(body: Body, scope: Scope): void {
    const withClause = asBody(body['withClause'])
    if (withClause === null) return
    const recursive = withClause['recursive'] === true
    const ctes = asArray(withClause['ctes']).map((cte) => {
      const node = unwrap(cte)
      if (node === null || node[0] !== 'CommonTableExpr') {
        throw new SqlUnsupported(FRONT_END, node?.[0] ?? 'WITH item')
      }
      return node[1]
    })

    // WITH RECURSIVE makes every name visible in every query. Otherwise a CTE can refer only to
    // the ones before it, and an earlier query naming a later CTE refers to a real table.
    if (recursive) for (const cte of ctes) scope.addCte(String(cte['ctename']))
    for (const cte of ctes) {
      this.#statement(cte['ctequery'], scope.child())
      this.#walk(cte['search_clause'], scope)
      this.#walk(cte['cycle_clause'], scope)
      scope.addCte(String(cte['ctename']))
    }
  }

  #select(body: Body, scope: Scope): void {
    this.#with(body, scope)
    // A bare VALUES list (as in INSERT ... VALUES) reads nothing; its sub-queries add their own kind.
    if (asArray(body['valuesLists']).length === 0) this.#addKind('select')

    if (body['op'] !== undefined && body['op'] !== 'SETOP_NONE') {
      this.#statement({ SelectStmt: body['larg'] }, scope.child())
      this.#statement({ SelectStmt: body['rarg'] }, scope.child())
      this.#walkFields(body, scope, ['sortClause', 'limitCount', 'limitOffset'])
      this.#locking(body, scope)
      return
    }

    for (const item of asArray(body['fromClause'])) this.#fromItem(item, scope)
    for (const list of asArray(body['valuesLists'])) this.#walk(list, scope)

    this.#walkFields(body, scope, [
      'distinctClause',
      'targetList',
      'whereClause',
      'groupClause',
      'havingClause',
      'windowClause',
      'sortClause',
      'limitCount',
      'limitOffset',
    ])
    this.#locking(body, scope)

    const into = asBody(body['intoClause'])
    if (into !== null) {
      this.#addKind('create')
      this.#relation(into['rel'], 'create')
      this.#temporaryTable({ into })
    }
  }

  /** FOR UPDATE / FOR SHARE lock rows, which is a write: the locked tables get `lock`. */
  #locking(body: Body, scope: Scope): void {
    for (const clause of asArray(body['lockingClause'])) {
      const node = unwrap(clause)
      if (node === null || node[0] !== 'LockingClause') {
        throw new SqlUnsupported(FRONT_END, node?.[0] ?? 'locking clause')
      }
      const named = asArray(node[1]['lockedRels'])
      if (named.length === 0) {
        for (const entry of scope.entries) {
          if (entry.table !== null) this.#addTable(entry.table.schema, entry.table.name, 'lock')
        }
        // PostgreSQL pushes the lock down into every sub-query of the FROM list.
        this.#lockFromItems(body['fromClause'], scope, null)
        continue
      }
      for (const relation of named) {
        const target = unwrap(relation)?.[1]
        const name = typeof target?.['relname'] === 'string' ? target['relname'] : null
        const entry = name === null ? undefined : scope.findByAlias(name)
        if (entry?.table != null) this.#addTable(entry.table.schema, entry.table.name, 'lock')
        else if (entry === undefined) this.#relation(relation, 'lock')
        else if (name !== null) this.#lockFromItems(body['fromClause'], scope, name)
      }
    }
  }

  /**
   * Adds `lock` for the base tables that a row lock reaches through a FROM list: every table of
   * the items, and of their sub-queries' FROM lists, or only of the item named `alias`.
   */
  #lockFromItems(items: unknown, scope: Scope, alias: string | null): void {
    for (const item of asArray(items)) {
      const node = unwrap(item)
      if (node === null) continue
      const [type, body] = node
      const aliasName = asBody(body['alias'])?.['aliasname']
      if (type === 'RangeVar') {
        const name = String(body['relname'])
        const own = typeof aliasName === 'string' ? aliasName : name
        const isCte = body['schemaname'] === undefined && scope.isCte(name)
        if ((alias === null || alias === own) && !isCte) this.#relation(item, 'lock')
      } else if (type === 'RangeSubselect') {
        if (alias !== null && alias !== aliasName) continue
        const subquery = unwrap(body['subquery'])?.[1] ?? {}
        for (const select of [subquery, asBody(subquery['larg']), asBody(subquery['rarg'])]) {
          if (select !== null) this.#lockFromItems(select['fromClause'], scope, null)
        }
      } else if (type === 'JoinExpr') {
        this.#lockFromItems([body['larg'], body['rarg']], scope, alias)
      } else if (type === 'RangeTableSample') {
        this.#lockFromItems([body['relation']], scope, alias)
      }
    }
  }

  #insert(body: Body, scope: Scope): void {
    this.#with(body, scope)
    this.#addKind('insert')
    const target = this.#relation(body['relation'], 'insert')

    for (const column of asArray(body['cols'])) {
      const name = unwrap(column)?.[1]['name']
      if (target !== null && typeof name === 'string') {
        this.#facts.addColumn(target.schema, target.name, name, 'insert')
      }
      this.#walk(unwrap(column)?.[1]['indirection'], scope)
    }
    // Without a column list the values fill the table's columns in order (DEFAULT VALUES fills
    // none), so a column rule on any of them applies.
    const listed = asArray(body['cols']).length > 0
    if (target !== null && !listed && body['selectStmt'] !== undefined) {
      this.#facts.addColumn(target.schema, target.name, '*', 'insert')
    }
    if (body['selectStmt'] !== undefined) this.#statement(body['selectStmt'], scope.child())

    const targetScope = scope.child()
    if (target !== null) targetScope.entries.push({ alias: target.alias, table: target })
    targetScope.entries.push({ alias: 'excluded', table: null })

    const conflict = asBody(body['onConflictClause'])
    if (conflict !== null) {
      if (conflict['action'] === 'ONCONFLICT_UPDATE' && target !== null) {
        this.#addTable(target.schema, target.name, 'update')
        this.#updateTargets(conflict['targetList'], target, targetScope)
      }
      this.#walk(conflict['infer'], targetScope)
      this.#walk(conflict['whereClause'], targetScope)
    }
    this.#returning(body, target, targetScope)
  }

  #update(body: Body, scope: Scope): void {
    this.#with(body, scope)
    this.#addKind('update')
    const target = this.#relation(body['relation'], 'update')
    const inner = scope.child()
    if (target !== null) inner.entries.push({ alias: target.alias, table: target })
    for (const item of asArray(body['fromClause'])) this.#fromItem(item, inner)

    this.#updateTargets(body['targetList'], target, inner)
    this.#walk(body['whereClause'], inner)
    if (target !== null && body['whereClause'] !== undefined) {
      this.#addTable(target.schema, target.name, 'select')
    }
    this.#returning(body, target, inner)
  }

  #updateTargets(list: unknown, target: TargetTable | null, scope: Scope): void {
    for (const item of asArray(list)) {
      const node = unwrap(item)
      if (node === null || node[0] !== 'ResTarget') {
        throw new SqlUnsupported(FRONT_END, node?.[0] ?? 'SET item')
      }
      const name = node[1]['name']
      if (target !== null && typeof name === 'string') {
        this.#facts.addColumn(target.schema, target.name, name, 'update')
      }
      this.#walk(node[1]['indirection'], scope)
      this.#walk(node[1]['val'], scope)
    }
  }

  #delete(body: Body, scope: Scope): void {
    this.#with(body, scope)
    this.#addKind('delete')
    const target = this.#relation(body['relation'], 'delete')
    const inner = scope.child()
    if (target !== null) inner.entries.push({ alias: target.alias, table: target })
    for (const item of asArray(body['usingClause'])) this.#fromItem(item, inner)

    this.#walk(body['whereClause'], inner)
    if (target !== null && body['whereClause'] !== undefined) {
      this.#addTable(target.schema, target.name, 'select')
    }
    this.#returning(body, target, inner)
  }

  #merge(body: Body, scope: Scope): void {
    this.#with(body, scope)
    this.#addKind('merge')
    const target = this.#relation(body['relation'], 'select')
    const inner = scope.child()
    this.#fromItem(body['sourceRelation'], inner)
    if (target !== null) inner.entries.push({ alias: target.alias, table: target })
    this.#walk(body['joinCondition'], inner)

    for (const clause of asArray(body['mergeWhenClauses'])) {
      const node = unwrap(clause)
      if (node === null || node[0] !== 'MergeWhenClause') {
        throw new SqlUnsupported(FRONT_END, node?.[0] ?? 'MERGE WHEN clause')
      }
      const when = node[1]
      const command = when['commandType']
      if (target !== null) {
        if (command === 'CMD_UPDATE') {
          this.#addTable(target.schema, target.name, 'update')
          this.#updateTargets(when['targetList'], target, inner)
        } else if (command === 'CMD_INSERT') {
          this.#addTable(target.schema, target.name, 'insert')
          for (const column of asArray(when['targetList'])) {
            const name = unwrap(column)?.[1]['name']
            if (typeof name === 'string') {
              this.#facts.addColumn(target.schema, target.name, name, 'insert')
            }
          }
          if (asArray(when['targetList']).length === 0 && asArray(when['values']).length > 0) {
            this.#facts.addColumn(target.schema, target.name, '*', 'insert')
          }
        } else if (command === 'CMD_DELETE') {
          this.#addTable(target.schema, target.name, 'delete')
        } else if (command !== 'CMD_NOTHING') {
          throw new SqlUnsupported(FRONT_END, `MERGE action ${String(command)}`)
        }
      }
      this.#walk(when['condition'], inner)
      this.#walk(when['values'], inner)
    }
    this.#returning(body, target, inner)
  }

  /** RETURNING reads the target table's columns. */
  #returning(body: Body, target: TargetTable | null, scope: Scope): void {
    const returning = body['returningClause'] ?? body['returningList']
    const items = Array.isArray(returning) ? returning : asArray(asBody(returning)?.['exprs'])
    if (items.length === 0) return
    if (target !== null) this.#addTable(target.schema, target.name, 'select')
    this.#walk(items, scope)
  }

  #explain(body: Body, scope: Scope): void {
    let analyze = false
    for (const option of asArray(body['options'])) {
      const element = unwrap(option)?.[1]
      if (element?.['defname'] === 'analyze') analyze = !isFalse(element['arg'])
    }
    const outer = this.#planOnly
    this.#planOnly = outer || !analyze
    try {
      this.#statement(body['query'], scope)
    } finally {
      this.#planOnly = outer
    }
  }

  #createTableAs(body: Body, scope: Scope): void {
    this.#addKind('create')
    const into = asBody(body['into'])
    this.#relation(into?.['rel'], 'create')
    this.#temporaryTable(body)
    this.#walk(into?.['options'], scope)
    this.#statement(body['query'], scope.child())
  }

  #variableSet(body: Body): void {
    const name = String(body['name'] ?? '').toLowerCase()
    const reset = body['kind'] === 'VAR_RESET' || body['kind'] === 'VAR_RESET_ALL'
    this.#addKind(reset ? 'reset' : 'set')
    const verb = reset ? 'RESET' : 'SET'

    if (IDENTITY_SETTINGS.has(name)) {
      this.#facts.addFloor('identity-change', `${verb} ${name.toUpperCase().replace('_', ' ')}`)
    } else if (name === 'transaction' || name === 'session characteristics' || name.startsWith('transaction_')) {
      this.#facts.addFloor('transaction-control', `${verb} ${name}`)
    } else if (body['kind'] === 'VAR_RESET_ALL') {
      this.#facts.addFloor('identity-change', 'RESET ALL')
    } else {
      this.#facts.addFloor('session-state', `${verb} ${name}`)
    }
  }

  #copy(body: Body, scope: Scope): void {
    this.#addKind('copy')
    if (body['is_program'] === true) {
      this.#facts.addFloor('server-programs', 'COPY with PROGRAM')
    } else if (typeof body['filename'] === 'string') {
      this.#facts.addFloor('server-files', 'COPY with a server file')
    }
    if (body['relation'] !== undefined) {
      const action = body['is_from'] === true ? 'insert' : 'select'
      const target = this.#relation(body['relation'], action)
      const columns = namesOf(body['attlist']) ?? []
      for (const column of columns.length === 0 ? ['*'] : columns) {
        if (target !== null) this.#facts.addColumn(target.schema, target.name, column, action)
      }
    }
    if (body['query'] !== undefined) this.#statement(body['query'], scope.child())
    this.#walk(body['whereClause'], scope)
    this.#walk(body['options'], scope)
  }

  #drop(body: Body): void {
    this.#addKind('drop')
    if (!RELATION_OBJECT_TYPES.has(String(body['removeType']))) return
    for (const object of asArray(body['objects'])) {
      const names = namesOf(unwrap(object)?.[1]['items'])
      if (names === null || names.length === 0) {
        throw new SqlUnsupported(FRONT_END, 'DROP object name')
      }
      const name = names[names.length - 1] as string
      this.#addTable(names.length > 1 ? (names[names.length - 2] as string) : null, name, 'drop')
    }
  }

  #grant(body: Body): void {
    const action: TableAction = body['is_grant'] === true ? 'grant' : 'revoke'
    this.#addKind(action)
    if (body['targtype'] !== 'ACL_TARGET_OBJECT' || body['objtype'] !== 'OBJECT_TABLE') return
    for (const relation of asArray(body['objects'])) this.#relation(relation, action)
  }

  #vacuum(body: Body): void {
    this.#addKind(body['is_vacuumcmd'] === true ? 'vacuum' : 'analyze')
    for (const item of asArray(body['rels'])) {
      const relation = unwrap(item)?.[1]['relation']
      if (relation !== undefined) this.#relation(relation, 'maintain')
    }
  }

  // FROM items and relations -------------------------------------------------------------

  /** Records a relation and returns its name and alias, or `null` when it is a CTE. */
  #relation(value: unknown, action: TableAction): TargetTable | null {
    const body = unwrap(value)?.[1] ?? asBody(value)
    const name = body?.['relname']
    if (body === null || typeof name !== 'string') {
      throw new SqlUnsupported(FRONT_END, 'relation without a name')
    }
    const schema = typeof body['schemaname'] === 'string' ? body['schemaname'] : null
    const alias = asBody(body['alias'])?.['aliasname']
    this.#addTable(schema, name, action)
    return { schema, name, alias: typeof alias === 'string' ? alias : name }
  }

  #fromItem(value: unknown, scope: Scope): void {
    const node = unwrap(value)
    if (node === null) throw new SqlUnsupported(FRONT_END, 'FROM item without a node type')
    const [type, body] = node
    const aliasName = asBody(body['alias'])?.['aliasname']
    const alias = typeof aliasName === 'string' ? aliasName : ''

    switch (type) {
      case 'RangeVar': {
        const name = String(body['relname'])
        if (body['schemaname'] === undefined && body['catalogname'] === undefined && scope.isCte(name)) {
          scope.entries.push({ alias: alias || name, table: null })
          return
        }
        const target = this.#relation(value, 'select')
        if (target === null) return
        scope.entries.push({ alias: target.alias, table: target })
        // `users AS x(a, b, c)` renames the columns by position, so a name read through the
        // alias may be any column of the table.
        if (renamesColumns(body)) this.#column(target, '*')
        return
      }
      case 'RangeSubselect':
        this.#statement(body['subquery'], scope.child())
        scope.entries.push({ alias, table: null })
        return
      case 'RangeFunction':
        this.#walk(body['functions'], scope)
        this.#walk(body['coldeflist'], scope)
        scope.entries.push({ alias, table: null })
        return
      case 'JoinExpr': {
        const first = scope.entries.length
        this.#fromItem(body['larg'], scope)
        const middle = scope.entries.length
        this.#fromItem(body['rarg'], scope)
        const left = scope.entries.slice(first, middle)
        const right = scope.entries.slice(middle)
        this.#walk(body['quals'], scope)
        // USING and NATURAL compare columns that the SQL names without a table, or not at all.
        const using = namesOf(body['usingClause']) ?? []
        const compared = body['isNatural'] === true ? ['*'] : using
        for (const entry of [...left, ...right]) {
          for (const table of tablesOf(entry)) {
            for (const column of compared) this.#column(table, column)
          }
        }
        if (alias !== '') scope.entries.push({ alias, table: null, members: [...left, ...right] })
        if (renamesColumns(body)) {
          for (const entry of [...left, ...right]) {
            for (const table of tablesOf(entry)) this.#column(table, '*')
          }
        }
        return
      }
      case 'RangeTableSample':
        this.#fromItem(body['relation'], scope)
        this.#function(body['method'], 'TABLESAMPLE method')
        this.#walk(body['args'], scope)
        this.#walk(body['repeatable'], scope)
        return
      case 'RangeTableFunc':
      case 'JsonTable':
        this.#walkFields(body, scope, Object.keys(body).filter((field) => field !== 'alias'))
        scope.entries.push({ alias, table: null })
        return
      default:
        throw new SqlUnsupported(FRONT_END, type)
    }
  }

  // Expressions ----------------------------------------------------------------------------

  #walkFields(body: Body, scope: Scope, fields: readonly string[]): void {
    for (const field of fields) this.#walk(body[field], scope)
  }

  /** Walks any value: arrays, wrapped nodes, and the plain structs some fields hold. */
  #walk(value: unknown, scope: Scope): void {
    if (value === null || typeof value !== 'object') return
    if (Array.isArray(value)) {
      for (const item of value) this.#walk(item, scope)
      return
    }

    const node = unwrap(value)
    if (node === null) {
      const body = value as Body
      if (typeof body['relname'] === 'string') {
        this.#relation(body, 'select')
        return
      }
      this.#walkChildren(body, scope)
      return
    }

    const [type, body] = node
    switch (type) {
      case 'ColumnRef':
        return this.#columnRef(body, scope)
      case 'FuncCall':
        this.#function(body['funcname'], 'function')
        this.#setConfig(body)
        return this.#walkFields(
          body,
          scope,
          Object.keys(body).filter((field) => field !== 'funcname'),
        )
      case 'SubLink':
        this.#walk(body['testexpr'], scope)
        return this.#statement(body['subselect'], scope.child())
      case 'RangeVar':
        this.#relation(value, 'select')
        return
      case 'Constraint':
        if (body['pktable'] !== undefined) this.#relation(body['pktable'], 'references')
        return this.#walkFields(
          body,
          scope,
          Object.keys(body).filter((field) => field !== 'pktable'),
        )
      case 'ResTarget':
        return this.#walkFields(body, scope, ['val', 'indirection'])
      case 'A_Star':
        return
      default:
        if (DATA_KINDS[type] !== undefined) return this.#statement(value, scope.child())
        if (!PASSTHROUGH_NODES.has(type)) throw new SqlUnsupported(FRONT_END, type)
        this.#walkChildren(body, scope)
    }
  }

  /**
   * Walks the own fields of a body that hold objects or arrays, in property order as
   * `Object.values` would, without building the array; other values hold no node.
   */
  #walkChildren(body: Body, scope: Scope): void {
    for (const field in body) {
      const child = body[field]
      if (child !== null && typeof child === 'object' && Object.hasOwn(body, field)) {
        this.#walk(child, scope)
      }
    }
  }

  #function(funcname: unknown, what: string): void {
    const names = namesOf(funcname)
    if (names === null || names.length === 0) {
      throw new SqlUnsupported(FRONT_END, `${what} without a name`)
    }
    const name = names[names.length - 1] as string
    const schema = names.length > 1 ? (names[names.length - 2] as string) : null

    const floor = floorRuleOfFunction(name)
    if (floor !== null) this.#facts.addFloor(floor, `function ${name}`)
    this.#facts.addFunction(schema, name, isModifyingFunction(name) ? 'modify' : 'execute')
  }

  /** `set_config('role', ...)` is SET ROLE; a setting name that is not a literal may be too. */
  #setConfig(body: Body): void {
    const names = namesOf(body['funcname'])
    if (names?.[names.length - 1] !== 'set_config') return
    const first = unwrap(asArray(body['args'])[0])
    const literal = first?.[0] === 'A_Const' ? asBody(first[1]['sval'])?.['sval'] : undefined
    if (typeof literal !== 'string' || IDENTITY_SETTINGS.has(literal.trim().toLowerCase())) {
      this.#facts.addFloor('identity-change', 'set_config of the role or session authorization')
    }
  }

  #columnRef(body: Body, scope: Scope): void {
    const fields = asArray(body['fields'])
    const last = fields[fields.length - 1]
    const star = unwrap(last)?.[0] === 'A_Star'
    const names = namesOf(star ? fields.slice(0, -1) : fields)
    if (names === null) throw new SqlUnsupported(FRONT_END, 'column reference')

    const column = star ? '*' : (names[names.length - 1] as string)
    const qualifier = star ? names : names.slice(0, -1)

    if (qualifier.length === 0) {
      for (const entry of scope.candidatesForColumn()) {
        if (entry.table !== null) this.#column(entry.table, column)
      }
      // A bare name that matches a range entry may be a whole-row reference to it.
      const whole = star ? undefined : scope.findByAlias(column)
      for (const base of whole === undefined ? [] : tablesOf(whole)) this.#column(base, '*')
      return
    }

    const table = qualifier[qualifier.length - 1] as string
    if (qualifier.length === 1) {
      const entry = scope.findByAlias(table)
      for (const base of entry === undefined ? [] : tablesOf(entry)) this.#column(base, column)
      return
    }
    // `schema.table.column` (or `db.schema.table.column`): the table is named outright, so it is
    // attributed even when the FROM clause spelled it differently.
    const schema = qualifier[qualifier.length - 2] as string
    const entry = scope.findByTable(schema, table)
    this.#column(entry?.table ?? { schema, name: table }, column)
  }

  #column(table: { schema: string | null; name: string }, column: string): void {
    this.#facts.addColumn(table.schema, table.name, column, 'select')
  }
}

interface TargetTable {
  readonly schema: string | null
  readonly name: string
  readonly alias: string
}

/** `pg_temp`, or the `pg_temp_<n>` name of a session's own temporary schema. */
function isTemporarySchema(schema: string | null): boolean {
  return schema !== null && /^pg_temp(_\d+)?$/.test(schema)
}

/**
 * Tells whether a utility statement body names anything in a temporary schema: a relation with
 * that `schemaname`, or a qualified name list such as `funcname` or `defnames` starting with it.
 */
function namesTemporarySchema(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false
  if (Array.isArray(value)) {
    const first = value.length > 1 ? stringOf(value[0]) : null
    return isTemporarySchema(first) || value.some(namesTemporarySchema)
  }
  const body = value as Body
  if (typeof body['schemaname'] === 'string' && isTemporarySchema(body['schemaname'])) return true
  return Object.values(body).some(namesTemporarySchema)
}

/** Tells whether a FROM item's alias carries a column list, as in `AS x(a, b)`. */
function renamesColumns(body: Body): boolean {
  return asArray(asBody(body['alias'])?.['colnames']).length > 0
}

/** EXPLAIN option values that turn an option off; anything else counts as on. */
function isFalse(value: unknown): boolean {
  const node = unwrap(value)
  if (node === null) return false
  const [type, body] = node
  if (type === 'String') return ['false', 'off', '0', 'no'].includes(String(body['sval']).toLowerCase())
  if (type === 'Integer') return body['ival'] === undefined || body['ival'] === 0
  if (type === 'Boolean') return body['boolval'] !== true
  if (type === 'A_Const') {
    if (body['boolval'] !== undefined) return asBody(body['boolval'])?.['boolval'] !== true
    if (body['ival'] !== undefined) return asBody(body['ival'])?.['ival'] === undefined
    if (body['sval'] !== undefined) return isFalse({ String: body['sval'] })
  }
  return false
}
