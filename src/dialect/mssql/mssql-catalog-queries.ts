/**
 * The SQL each SQL Server action runs. `query` runs the caller's text. `schema` and
 * `table-details` run fixed INFORMATION_SCHEMA queries with the names bound as parameters, and
 * because they run impersonated, they list only what the user may see.
 */

import type { DelegationAction, DelegationParams } from '../../execute/delegation-module.js'

const LIST_TABLES =
  'SELECT TABLE_NAME AS table_name, TABLE_TYPE AS table_type FROM INFORMATION_SCHEMA.TABLES ' +
  'WHERE TABLE_SCHEMA = @schemaName ORDER BY TABLE_NAME'

const LIST_COLUMNS =
  'SELECT COLUMN_NAME AS column_name, DATA_TYPE AS data_type, IS_NULLABLE AS is_nullable, ' +
  'COLUMN_DEFAULT AS column_default, ORDINAL_POSITION AS ordinal_position ' +
  'FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @schemaName AND TABLE_NAME = @tableName ' +
  'ORDER BY ORDINAL_POSITION'

/** Checks a `sysname` value: 1 to 128 characters without control characters. */
function sysname(value: unknown, field: string): string {
  const valid =
    typeof value === 'string' && value !== '' && [...value].length <= 128 && !/\p{Cc}/u.test(value)
  if (!valid) {
    throw new TypeError(`"${field}" must be 1 to 128 characters without control characters`)
  }
  return value as string
}

/**
 * Returns the text and named values for an action.
 * @throws TypeError when the parameters do not fit the action.
 */
export function mssqlCatalogQuery(
  action: DelegationAction,
  params: DelegationParams,
): { text: string; values: Readonly<Record<string, unknown>> } {
  const fields = params as unknown as Partial<Record<string, unknown>>
  switch (action) {
    case 'query': {
      if (typeof fields['sql'] !== 'string') throw new TypeError('"sql" must be a string')
      const values = fields['params'] ?? {}
      if (typeof values !== 'object' || values === null || Array.isArray(values)) {
        throw new TypeError('"params" must be an object of named values for SQL Server')
      }
      return { text: fields['sql'], values: values as Record<string, unknown> }
    }
    case 'schema':
      return {
        text: LIST_TABLES,
        values: { schemaName: sysname(fields['schemaName'], 'schemaName') },
      }
    case 'table-details':
      return {
        text: LIST_COLUMNS,
        values: {
          schemaName: sysname(fields['schemaName'], 'schemaName'),
          tableName: sysname(fields['tableName'], 'tableName'),
        },
      }
    default:
      throw new TypeError(`unknown action "${String(action)}"`)
  }
}
