/**
 * The SQL parsers the suite compares, each behind one `parse(sql)` call that throws when the
 * parser rejects the text. A parser that is not installed is listed as missing, not an error.
 */

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

export interface ParserUnderTest {
  /** Name in tables, for example `node-sql-parser (postgresql)`. */
  readonly name: string
  readonly dialect: 'postgres' | 'mssql'
  /** Installed package version. */
  readonly version: string
  parse(sql: string): unknown
}

export interface MissingParser {
  readonly name: string
  readonly reason: string
}

const require = createRequire(import.meta.url)

/** The version in a package's package.json, or `unknown`. */
export function packageVersion(name: string): string {
  try {
    const path = require.resolve(`${name}/package.json`)
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? 'unknown'
  } catch {
    try {
      // Packages whose exports hide package.json: walk up from the main entry.
      const main = require.resolve(name)
      const root = main.slice(0, main.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length)
      return (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version?: string }).version ?? 'unknown'
    } catch {
      return 'unknown'
    }
  }
}

/** Loads every parser that is installed. */
export async function loadParsers(): Promise<{
  readonly parsers: ParserUnderTest[]
  readonly missing: MissingParser[]
}> {
  const parsers: ParserUnderTest[] = []
  const missing: MissingParser[] = []

  const libpgQuery = await import('libpg-query')
  await libpgQuery.loadModule()
  parsers.push({
    name: 'libpg-query',
    dialect: 'postgres',
    version: packageVersion('libpg-query'),
    parse: (sql) => libpgQuery.parseSync(sql),
  })

  try {
    // Optional: not a dependency of sqlgate. The specifier is a variable so that TypeScript does
    // not require the package to be installed.
    const specifier = '@pgsql/parser'
    const module = (await import(specifier)) as {
      loadModule?: () => Promise<void>
      parseSync?: (sql: string) => unknown
    }
    await module.loadModule?.()
    const parseSync = module.parseSync
    if (typeof parseSync !== 'function') throw new Error('no parseSync export')
    parsers.push({
      name: '@pgsql/parser',
      dialect: 'postgres',
      version: packageVersion('@pgsql/parser'),
      parse: (sql) => parseSync(sql),
    })
  } catch {
    missing.push({ name: '@pgsql/parser', reason: 'not installed' })
  }

  const postgresBuild = (await import('node-sql-parser/build/postgresql.js')).default
  const postgresParser = new postgresBuild.Parser()
  parsers.push({
    name: 'node-sql-parser (postgresql)',
    dialect: 'postgres',
    version: packageVersion('node-sql-parser'),
    parse: (sql) => postgresParser.astify(sql, { database: 'postgresql' }),
  })

  const pgsqlAstParser = await import('pgsql-ast-parser')
  parsers.push({
    name: 'pgsql-ast-parser',
    dialect: 'postgres',
    version: packageVersion('pgsql-ast-parser'),
    parse: (sql) => pgsqlAstParser.parse(sql),
  })

  const transactsqlBuild = (await import('node-sql-parser/build/transactsql.js')).default
  const transactsqlParser = new transactsqlBuild.Parser()
  parsers.push({
    name: 'node-sql-parser (transactsql)',
    dialect: 'mssql',
    version: packageVersion('node-sql-parser'),
    parse: (sql) => transactsqlParser.astify(sql, { database: 'transactsql' }),
  })

  return { parsers, missing }
}

/** Tells whether a parser accepts a statement. */
export function accepts(parser: ParserUnderTest, sql: string): boolean {
  try {
    parser.parse(sql)
    return true
  } catch {
    return false
  }
}
