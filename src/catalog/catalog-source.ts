/**
 * Catalogs for `sqlgate lint --catalog`: a JSON dump or a live PostgreSQL database. A dump is
 * either `{ "public.users": ["id", "name"] }` or
 * `{ "tables": [{ "schema": "public", "name": "users", "columns": ["id", "name"] }] }`.
 */

import { readFile } from 'node:fs/promises'

import pg from 'pg'

import { createColumnCatalog, type CatalogEntry, type ColumnCatalog } from './column-catalog.js'

const ALL_COLUMNS =
  'SELECT table_schema, table_name, column_name FROM information_schema.columns ' +
  'ORDER BY table_schema, table_name, ordinal_position'

/** Reads a catalog from a `postgres://` or `postgresql://` URL, else from a JSON dump file. */
export async function readCatalogSource(source: string): Promise<ColumnCatalog> {
  if (/^postgres(ql)?:\/\//.test(source)) return readLiveCatalog(source)
  return readCatalogDump(source)
}

/**
 * Reads every column visible to the URL's login from information_schema.columns.
 * @throws the driver error when the connection or the query fails.
 */
export async function readLiveCatalog(connectionString: string): Promise<ColumnCatalog> {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    const result = await client.query<Record<string, string>>(ALL_COLUMNS)
    return createColumnCatalog(
      result.rows.map((row) => ({
        schema: String(row['table_schema']),
        name: String(row['table_name']),
        columns: [String(row['column_name'])],
      })),
    )
  } finally {
    await client.end()
  }
}

/**
 * Reads a JSON dump.
 * @throws TypeError when the file is not one of the two dump shapes.
 */
export async function readCatalogDump(path: string): Promise<ColumnCatalog> {
  const data: unknown = JSON.parse(await readFile(path, 'utf8'))
  return createColumnCatalog(catalogEntriesOf(data))
}

/** Converts either dump shape into entries. */
export function catalogEntriesOf(data: unknown): CatalogEntry[] {
  const invalid = new TypeError(
    'a catalog dump must be { "schema.table": [columns] } or ' +
      '{ "tables": [{ schema, name, columns }] }',
  )
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw invalid
  const record = data as Record<string, unknown>

  if (Array.isArray(record['tables'])) {
    return record['tables'].map((item: unknown) => {
      const table = item as Partial<Record<string, unknown>> | null
      const columns = table?.['columns']
      if (
        typeof table?.['schema'] !== 'string' ||
        typeof table['name'] !== 'string' ||
        !isStringList(columns)
      ) {
        throw invalid
      }
      return { schema: table['schema'], name: table['name'], columns }
    })
  }

  return Object.entries(record).map(([key, columns]) => {
    const dot = key.indexOf('.')
    if (dot <= 0 || !isStringList(columns)) throw invalid
    return { schema: key.slice(0, dot), name: key.slice(dot + 1), columns }
  })
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}
