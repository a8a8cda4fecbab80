/**
 * Facts of the pgsql-ast-parser statements that are not queries or data changes, with the kinds,
 * floor rules and table actions that the libpg-query extractor gives the same statements.
 * Statements whose facts the two front ends could not yet be shown to agree on (ALTER, CREATE
 * FUNCTION, sequences, types, PL/pgSQL RAISE) are unsupported and denied.
 */

import { SqlUnsupported } from '../../errors.js'
import type { FactBuilder } from '../../extract/fact-builder.js'
import type { StatementKind, TableAction } from '../../extract/statement-facts.js'
import {
  PGSQL_AST_FRONT_END,
  QUERY_TYPES,
  asList,
  asNode,
  nameOf,
  qualifiedName,
  type AstNode,
} from './pgsql-ast-nodes.js'
import { addTableFact, isTemporarySchema } from './pgsql-ast-table-facts.js'
import { IDENTITY_SETTINGS } from './postgres-functions.js'
import { Scope } from './postgres-scope.js'

/** Walks a data statement or an expression in the scope given. */
export type Walker = (node: unknown, scope: Scope) => void

export interface UtilityWalkers {
  readonly statement: Walker
  readonly expression: Walker
}

const KINDS: Readonly<Record<string, StatementKind>> = {
  show: 'show',
  set: 'set',
  'set timezone': 'set',
  'set names': 'set',
  begin: 'transaction',
  'start transaction': 'transaction',
  commit: 'transaction',
  rollback: 'transaction',
  prepare: 'prepare',
  deallocate: 'deallocate',
  do: 'do',
  'truncate table': 'truncate',
  'drop table': 'drop',
  'drop sequence': 'drop',
  'drop index': 'drop',
  'drop type': 'drop',
  'drop trigger': 'drop',
  'drop function': 'drop',
  'create table': 'create',
  'create index': 'create',
  'create schema': 'create',
  'create extension': 'create',
  'create view': 'create',
  'create materialized view': 'create',
  'refresh materialized view': 'refresh',
  comment: 'comment',
}

/** DROP statements whose names are relations, as PostgreSQL's relation object types are. */
const RELATION_DROPS: ReadonlySet<string> = new Set(['drop table', 'drop sequence', 'drop index'])

/** Returns the kind of a utility statement. @throws SqlUnsupported for a type not listed. */
export function utilityKindOf(node: AstNode): StatementKind {
  const kind = KINDS[node.type]
  if (kind === undefined) throw new SqlUnsupported(PGSQL_AST_FRONT_END, node.type.toUpperCase())
  return kind
}

/** Adds the facts of a utility statement to `facts`. */
export function extractUtility(node: AstNode, facts: FactBuilder, walkers: UtilityWalkers): void {
  const { statement } = walkers
  facts.addKind(utilityKindOf(node))
  const relation = (value: unknown, action: TableAction): void => {
    const name = qualifiedName(value, 'relation')
    addTableFact(facts, name.schema, name.name, action)
  }

  switch (node.type) {
    case 'set':
      return setting(facts, nameOf(node['variable'], 'setting'))
    case 'set timezone':
      return setting(facts, 'timezone')
    case 'set names':
      return setting(facts, 'client_encoding')
    case 'begin':
    case 'start transaction':
    case 'commit':
    case 'rollback':
      return facts.addFloor('transaction-control', 'transaction control')
    case 'prepare': {
      facts.addFloor('dynamic-sql', 'PREPARE')
      const query = asNode(node['statement'], 'PREPARE statement')
      if (!QUERY_TYPES.has(query.type) && !['insert', 'update', 'delete'].includes(query.type)) {
        throw new SqlUnsupported(PGSQL_AST_FRONT_END, `PREPARE of ${query.type}`)
      }
      return statement(query, new Scope(null).child())
    }
    case 'deallocate':
      return facts.addFloor('session-state', 'DEALLOCATE')
    case 'do':
      return facts.addFloor('dynamic-sql', 'DO block')
    case 'truncate table':
      for (const table of asList(node['tables'])) relation(table, 'truncate')
      return
    case 'create view':
    case 'create materialized view':
      // PostgreSQL rewrites a recursive view into WITH RECURSIVE; the parser keeps only a flag.
      if (node['recursive'] === true) {
        throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'CREATE RECURSIVE VIEW')
      }
      relation(node['name'], 'create')
      return statement(node['query'], new Scope(null).child())
    case 'create table':
      return createTable(node, facts, walkers)
    case 'create index':
      // The indexed table gets `create`, as PostgreSQL's IndexStmt names it as its relation.
      relation(node['table'], 'create')
      for (const item of asList(node['expressions'])) {
        walkers.expression(asNode(item, 'index expression', false)['expression'], new Scope(null))
      }
      return walkers.expression(node['where'], new Scope(null))
    case 'create schema':
      if (isTemporarySchema(nameOf(node['name'], 'schema'))) {
        facts.addFloor('session-state', 'object in the temporary schema')
      }
      return
    case 'refresh materialized view':
      return relation(node['name'], 'maintain')
    default:
      if (RELATION_DROPS.has(node.type)) {
        for (const name of asList(node['names'])) relation(name, 'drop')
      }
  }
}

/**
 * CREATE TABLE: the table is created, referenced tables get `references`, tables copied by LIKE
 * or INHERITS are read, and defaults, checks and generated columns may call functions.
 */
function createTable(node: AstNode, facts: FactBuilder, walkers: UtilityWalkers): void {
  const name = qualifiedName(node['name'], 'table')
  addTableFact(facts, name.schema, name.name, 'create')
  // Without ON COMMIT DROP, which this parser does not read, a temporary table outlives the
  // request on a pooled connection.
  if (node['temporary'] === true) facts.addFloor('session-state', 'temporary table')

  const relation = (value: unknown, action: TableAction): void => {
    const table = qualifiedName(value, 'relation')
    addTableFact(facts, table.schema, table.name, action)
  }
  const constraint = (value: unknown): void => {
    const item = asNode(value, 'constraint')
    if (item.type === 'reference' || item.type === 'foreign key') {
      relation(item['foreignTable'], 'references')
    } else if (item.type === 'default') {
      walkers.expression(item['default'], new Scope(null))
    } else if (item.type === 'check') {
      walkers.expression(item['expr'], new Scope(null))
    } else if (item.type === 'add generated') {
      walkers.expression(item['expression'], new Scope(null))
    } else if (!['primary key', 'unique', 'not null', 'null'].includes(item.type)) {
      throw new SqlUnsupported(PGSQL_AST_FRONT_END, `column constraint ${item.type}`)
    }
  }

  for (const value of asList(node['columns'])) {
    const column = asNode(value, 'column', false)
    if (column['kind'] === 'like table') {
      relation(column['like'], 'select')
    } else if (column['kind'] === 'column') {
      for (const item of asList(column['constraints'])) constraint(item)
    } else {
      throw new SqlUnsupported(PGSQL_AST_FRONT_END, 'table element')
    }
  }
  for (const item of asList(node['constraints'])) constraint(item)
  for (const parent of asList(node['inherits'])) relation(parent, 'select')
}

/** SET of a run-time setting: a change of identity, of the transaction, or of the session. */
function setting(facts: FactBuilder, rawName: string): void {
  const name = rawName.toLowerCase()
  if (IDENTITY_SETTINGS.has(name)) {
    facts.addFloor('identity-change', `SET ${name.toUpperCase().replace('_', ' ')}`)
  } else if (
    name === 'transaction' ||
    name === 'session characteristics' ||
    name.startsWith('transaction_')
  ) {
    facts.addFloor('transaction-control', `SET ${name}`)
  } else {
    facts.addFloor('session-state', `SET ${name}`)
  }
}
