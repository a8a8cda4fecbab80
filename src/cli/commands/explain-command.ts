/**
 * `sqlgate explain`: show the facts extracted from one SQL text as a tree and, for each fact,
 * the policy.csv line or floor rule that decided it. Exit code 0 when allowed, 1 when denied,
 * 2 on a usage or setup error.
 */

import type { Command } from 'commander'

import { readCatalogSource } from '../../catalog/catalog-source.js'
import type { ColumnCatalog } from '../../catalog/column-catalog.js'
import { createPolicyEngine } from '../../engine/create-policy-engine.js'
import type { Dialect } from '../../parse/front-end.js'
import type { CommandIo } from '../command-io.js'
import { formatExplanation } from '../format-explanation.js'

interface ExplainOptions {
  readonly roles?: string
  readonly dialect: string
  readonly database: string
  readonly policy?: string
  readonly schema?: string
  readonly catalog?: string
}

const DIALECTS: Readonly<Record<string, Dialect>> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mssql: 'mssql',
  tsql: 'mssql',
  transactsql: 'mssql',
}

const DEFAULT_SCHEMAS: Readonly<Record<Dialect, string>> = { postgres: 'public', mssql: 'dbo' }

/** Adds `sqlgate explain` to the program. */
export function registerExplainCommand(
  program: Command,
  io: CommandIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command('explain')
    .description('show the facts of SQL as a tree and the policy line that decided each')
    .argument('<sql>', 'the SQL text')
    .option('--roles <roles>', 'comma-separated roles, for example sql-read')
    .option('--dialect <dialect>', 'postgres or mssql', 'postgres')
    .option('--database <name>', 'policy domain: the delegation module name', 'default')
    .option('--policy <dir>', 'directory with model.conf and policy.csv (default: shipped policy)')
    .option('--schema <name>', 'schema of unqualified names (default: public, or dbo for mssql)')
    .option('--catalog <source>', 'postgres:// URL or JSON dump used to expand * over tables')
    .action(async (sql: string, options: ExplainOptions) => {
      const fail = (message: string): void => {
        io.stderr.write(`sqlgate explain: ${message}\n`)
        setExitCode(2)
      }
      const dialect = DIALECTS[options.dialect.toLowerCase()]
      if (dialect === undefined) return fail(`unknown dialect "${options.dialect}"`)
      const roles = (options.roles ?? '').split(',').map((role) => role.trim()).filter(Boolean)
      if (roles.length === 0) return fail('missing --roles')

      let catalog: ColumnCatalog | undefined
      try {
        if (options.catalog !== undefined) catalog = await readCatalogSource(options.catalog)
      } catch (error) {
        return fail(`reading the catalog failed: ${error instanceof Error ? error.message : ''}`)
      }

      const engine = await createPolicyEngine({
        ...(options.policy === undefined ? {} : { policyDirectory: options.policy }),
        cache: false,
      })
      const defaultSchema = options.schema ?? DEFAULT_SCHEMAS[dialect]
      const decision = engine.check({
        dialect,
        roles,
        sql,
        domain: options.database,
        defaultSchema,
        ...(catalog === undefined ? {} : { catalog }),
      })
      const header =
        `roles ${roles.join(', ')}  database ${options.database}  dialect ${dialect}` +
        `  schema ${defaultSchema}`
      const authorizer = engine.authorizer
      io.stdout.write(formatExplanation(decision, { authorizer, defaultSchema, catalog, header }))
      setExitCode(decision.allowed ? 0 : 1)
    })
}
