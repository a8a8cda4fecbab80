/**
 * The objects and actions a policy line can name, by object kind. Lint uses them to catch typos
 * such as `selct` or `tabel:public.users`, which Casbin accepts and then never matches.
 */

import type { FunctionAction, StatementKind, TableAction } from '../../extract/statement-facts.js'
import { FLOOR_RULES } from '../../floor/floor-rules.js'

// Records keyed by the union types, so the compiler reports a kind or action added later.
const STATEMENT_KINDS: Readonly<Record<StatementKind, true>> = {
  select: true,
  insert: true,
  update: true,
  delete: true,
  merge: true,
  explain: true,
  create: true,
  alter: true,
  drop: true,
  truncate: true,
  grant: true,
  revoke: true,
  comment: true,
  copy: true,
  call: true,
  execute: true,
  do: true,
  prepare: true,
  deallocate: true,
  transaction: true,
  set: true,
  reset: true,
  discard: true,
  show: true,
  listen: true,
  notify: true,
  lock: true,
  vacuum: true,
  analyze: true,
  refresh: true,
  reindex: true,
  cluster: true,
  checkpoint: true,
  load: true,
  declare: true,
  fetch: true,
  'security-label': true,
  revert: true,
  use: true,
  waitfor: true,
  other: true,
}

const TABLE_ACTIONS: Readonly<Record<TableAction, true>> = {
  select: true,
  insert: true,
  update: true,
  delete: true,
  truncate: true,
  lock: true,
  create: true,
  alter: true,
  drop: true,
  grant: true,
  revoke: true,
  references: true,
  maintain: true,
}

const FUNCTION_ACTIONS: Readonly<Record<FunctionAction, true>> = { execute: true, modify: true }

/** Object kinds, by the prefix of the object (`statement` has no colon). */
export type ObjectKind = 'statement' | 'table' | 'column' | 'function' | 'floor'

/** Actions each object kind takes. */
export const ACTIONS: Readonly<Record<ObjectKind, readonly string[]>> = {
  statement: Object.keys(STATEMENT_KINDS),
  table: Object.keys(TABLE_ACTIONS),
  column: ['select', 'insert', 'update'],
  function: Object.keys(FUNCTION_ACTIONS),
  floor: ['lift'],
}

/** Every floor rule id. */
export const FLOOR_RULE_IDS: readonly string[] = Object.keys(FLOOR_RULES)

/**
 * Returns the kind an object pattern names, `any` for a pattern such as `*` that spans kinds,
 * or `null` for an object no fact ever has.
 */
export function objectKindOf(object: string): ObjectKind | 'any' | null {
  if (object === 'statement') return 'statement'
  const colon = object.indexOf(':')
  const prefix = colon < 0 ? object : object.slice(0, colon)
  if (/[*?[{]/.test(prefix)) return 'any'
  if (colon < 0) return null
  if (prefix === 'table' || prefix === 'column' || prefix === 'function' || prefix === 'floor') {
    return prefix
  }
  return null
}
