/**
 * Facts sqlgate keeps about PostgreSQL built-in functions: which ones break the floor and which
 * ones change data. Names are matched without their schema, so `pg_catalog.pg_read_file` and a
 * look-alike in another schema are treated the same way, which can only deny more.
 */

import type { FloorRuleId } from '../../floor/floor-rules.js'

const FLOOR_FUNCTIONS: ReadonlyMap<string, FloorRuleId> = new Map([
  // Functions that run a query given as text: the query never appears in the parse tree.
  ...[
    'query_to_xml',
    'query_to_xmlschema',
    'query_to_xml_and_xmlschema',
    'table_to_xml',
    'table_to_xmlschema',
    'table_to_xml_and_xmlschema',
    'cursor_to_xml',
    'cursor_to_xmlschema',
    'schema_to_xml',
    'schema_to_xmlschema',
    'schema_to_xml_and_xmlschema',
    'database_to_xml',
    'database_to_xmlschema',
    'database_to_xml_and_xmlschema',
    'ts_stat',
    'ts_rewrite',
    // The tablefunc and xml2 extensions build or take whole queries as text.
    'connectby',
    'xpath_table',
  ].map((name): [string, FloorRuleId] => [name, 'dynamic-sql']),
  // Settings: set_config('role', ...) is SET ROLE, and any other setting outlives the request.
  ['set_config', 'session-state'],
  ['setseed', 'session-state'],
  // The functions behind pg_prepared_statements and pg_cursors list earlier requests' texts.
  ['pg_prepared_statement', 'session-state'],
  ['pg_cursor', 'session-state'],
  ['pg_advisory_lock', 'session-state'],
  ['pg_advisory_lock_shared', 'session-state'],
  ['pg_try_advisory_lock', 'session-state'],
  ['pg_try_advisory_lock_shared', 'session-state'],
  ['pg_advisory_unlock', 'session-state'],
  ['pg_advisory_unlock_shared', 'session-state'],
  ['pg_advisory_unlock_all', 'session-state'],
  // Sleeping keeps a pooled connection busy, and only statement_timeout would end it.
  ['pg_sleep', 'denial-of-service'],
  ['pg_sleep_for', 'denial-of-service'],
  ['pg_sleep_until', 'denial-of-service'],
  // Files on the database server.
  ...[
    'pg_read_file',
    'pg_read_file_old',
    'pg_read_binary_file',
    'pg_stat_file',
    'pg_ls_dir',
    'pg_ls_logdir',
    'pg_ls_waldir',
    'pg_ls_tmpdir',
    'pg_ls_archive_statusdir',
    'pg_ls_logicalmapdir',
    'pg_ls_logicalsnapdir',
    'pg_ls_replslotdir',
    'pg_file_write',
    'pg_file_rename',
    'pg_file_unlink',
    'pg_file_sync',
    'pg_logdir_ls',
    'lo_import',
    'lo_export',
  ].map((name): [string, FloorRuleId] => [name, 'server-files']),
  // Other sessions, the server process and replication.
  ...[
    'pg_terminate_backend',
    'pg_cancel_backend',
    'pg_reload_conf',
    'pg_rotate_logfile',
    'pg_promote',
    'pg_switch_wal',
    'pg_create_restore_point',
    'pg_log_backend_memory_contexts',
    'pg_backup_start',
    'pg_backup_stop',
    'pg_start_backup',
    'pg_stop_backup',
    'pg_wal_replay_pause',
    'pg_wal_replay_resume',
    'pg_create_physical_replication_slot',
    'pg_create_logical_replication_slot',
    'pg_drop_replication_slot',
    'pg_copy_physical_replication_slot',
    'pg_copy_logical_replication_slot',
    'pg_replication_slot_advance',
    'pg_stat_reset',
    'pg_stat_reset_shared',
    'pg_stat_reset_single_table_counters',
    'pg_stat_reset_single_function_counters',
    'pg_stat_reset_slru',
    'pg_stat_reset_replication_slot',
    'pg_stat_reset_subscription_stats',
  ].map((name): [string, FloorRuleId] => [name, 'server-processes']),
])

/** Prefixes of function families that break the floor, checked after the exact names. */
const FLOOR_PREFIXES: readonly (readonly [string, FloorRuleId])[] = [
  // crosstab, crosstab2 to crosstab4 and wrappers over crosstab_hash (tablefunc) run query text.
  ['crosstab', 'dynamic-sql'],
  ['dblink', 'remote-access'],
  ['postgres_fdw_', 'remote-access'],
  ['pg_replication_origin_', 'server-processes'],
  ['pg_logical_slot_', 'server-processes'],
  ['pg_stat_reset', 'server-processes'],
  ['pg_stat_statements_reset', 'server-processes'],
]

/** Built-ins that change data or server state. Calls to them have the action `modify`. */
const MODIFYING_FUNCTIONS: ReadonlySet<string> = new Set([
  'nextval',
  'setval',
  'lo_create',
  'lo_creat',
  'lo_unlink',
  'lo_from_bytea',
  'lo_put',
  'lo_truncate',
  'lo_truncate64',
  'lowrite',
  'lo_open',
  'pg_advisory_xact_lock',
  'pg_advisory_xact_lock_shared',
  'pg_try_advisory_xact_lock',
  'pg_try_advisory_xact_lock_shared',
  'pg_notify',
  'pg_logical_emit_message',
  'txid_current',
  'pg_current_xact_id',
])

/** The floor rule a function call breaks, or `null`. `name` is the lower-case bare name. */
export function floorRuleOfFunction(name: string): FloorRuleId | null {
  const exact = FLOOR_FUNCTIONS.get(name)
  if (exact !== undefined) return exact
  for (const [prefix, rule] of FLOOR_PREFIXES) if (name.startsWith(prefix)) return rule
  return null
}

/** Tells whether a built-in function changes data or state. */
export function isModifyingFunction(name: string): boolean {
  return MODIFYING_FUNCTIONS.has(name)
}

/** Settings whose change is a change of identity. */
export const IDENTITY_SETTINGS: ReadonlySet<string> = new Set([
  'role',
  'session_authorization',
  'session authorization',
])
