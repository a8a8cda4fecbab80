/**
 * Records a table fact with the floor rules that depend only on the table's name, as the
 * libpg-query extractor does: a write to the `pg_settings` view and an object created in the
 * temporary schema both change session state.
 */

import type { FactBuilder } from '../../extract/fact-builder.js'
import type { TableAction } from '../../extract/statement-facts.js'

/** `pg_temp`, or the `pg_temp_<n>` name of a session's own temporary schema. */
export function isTemporarySchema(schema: string | null): boolean {
  return schema !== null && /^pg_temp(_\d+)?$/.test(schema)
}

/** Adds a table fact and the floor facts its name and action imply. */
export function addTableFact(
  facts: FactBuilder,
  schema: string | null,
  name: string,
  action: TableAction,
): void {
  // An UPDATE of pg_settings runs set_config(name, value, false) through the view's rule, so
  // the setting outlives the transaction. An unqualified name always resolves to
  // pg_catalog.pg_settings, because pg_catalog is searched before the search_path.
  const settingsView = name === 'pg_settings' && (schema === null || schema === 'pg_catalog')
  if (settingsView && action !== 'select') facts.addFloor('session-state', 'write to pg_settings')
  if (action === 'create' && isTemporarySchema(schema)) {
    facts.addFloor('session-state', 'object in the temporary schema')
  }
  facts.addTable(schema, name, action)
}
