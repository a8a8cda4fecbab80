/**
 * The SQL each PostgreSQL action runs. `query` runs the caller's text; `schema` and
 * `table-details` run fixed information_schema queries whose names are bound as parameters, so
 * they see only what the impersonated role may see.
 */

import type { DelegationAction, DelegationParams } from '../../execute/delegation-module.js'
import { isValidIdentifier } from './postgres-identifiers.js'

const LIST_TABLES =
  'SELECT table_name, table_type FROM information_schema.tables ' +
  'WHERE table_schema = $1 ORDER BY table_name'

const LIST_COLUMNS =
  'SELECT column_name, data_type, is_nullable, column_default, ordinal_position ' +
  'FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ' +
  'ORDER BY ordinal_position'

/**
 * Returns the text and values for an action.
 * @throws TypeError when the parameters do not fit the action.
 */
export function catalogQuery(
  action: DelegationAction,
  params: DelegationParams,
): { text: string; values: readonly unknown[] } {
  const fields = params as unknown as Partial<Record<string, unknown>>
  switch (action) {
    case 'query': {
      if (typeof fields['sql'] !== 'string') throw new TypeError('"sql" must be a string')
      const values = fields['params'] ?? []
      if (!Array.isArray(values)) {
        throw new TypeError('"params" must be an array of positional values for PostgreSQL')
      }
      return { text: fields['sql'], values }
    }
    case 'schema':
      return { text: LIST_TABLES, values: [identifier(fields['schemaName'], 'schemaName')] }
    case 'table-details':
      return {
        text: LIST_COLUMNS,
        values: [
          identifier(fields['schemaName'], 'schemaName'),
          identifier(fields['tableName'], 'tableName'),
        ],
      }
    default:
      throw new TypeError(`unknown action "${String(action)}"`)
  }
}

function identifier(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isValidIdentifier(value)) {
    throw new TypeError(`"${field}" must be 1 to 63 bytes without control characters`)
  }
  return value
}
