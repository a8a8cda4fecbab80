/**
 * Facts of the pgsql-ast-parser statements that are not queries or data changes, with the kinds,
 * floor rules and table actions that the libpg-query extractor gives the same statements.
 * Statements whose facts the two front ends could not yet be shown to agree on (table and index
 * definitions, ALTER, CREATE FUNCTION, PL/pgSQL RAISE) are unsupported and denied.
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

/** Walks a data statement in the scope given. */
export type StatementWalker = (node: unknown, scope: Scope) => void

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
export function extractUtility(
  node: AstNode,
  facts: FactBuilder,
  statement: StatementWalker,
): void {
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
