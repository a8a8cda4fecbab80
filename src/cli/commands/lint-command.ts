/**
 * `sqlgate lint [DIR]`: report malformed lines, unknown objects and actions, roles granted
 * nothing, inheritance cycles, duplicate and shadowed lines, floor lifts and, with `--catalog`,
 * patterns that match no table or column. Exit code 0 without errors (warnings allowed), 1 with
 * errors, 2 when the catalog cannot be read.
 */

import type { Command } from 'commander'

import type { ColumnCatalog } from '../../catalog/column-catalog.js'
import { readCatalogSource } from '../../catalog/catalog-source.js'
import { DEFAULT_POLICY_DIRECTORY } from '../../engine/create-policy-engine.js'
import { formatFindings } from '../../policy/lint/lint-finding.js'
import { lintPolicyDirectory } from '../../policy/lint/lint-policy-directory.js'
import type { CommandIo } from '../command-io.js'

interface LintCommandOptions {
  readonly catalog?: string
  readonly json?: boolean
}

/** Adds `sqlgate lint` to the program. */
export function registerLintCommand(
  program: Command,
  io: CommandIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command('lint')
    .description('check a policy directory for mistakes; exit 1 on errors')
    .argument('[dir]', 'directory with model.conf and policy.csv (default: the shipped policy)')
    .option(
      '--catalog <source>',
      'postgres:// URL or JSON dump of tables and columns that patterns should match',
    )
    .option('--json', 'print the findings as a JSON array')
    .action(async (given: string | undefined, options: LintCommandOptions) => {
      const directory = given ?? DEFAULT_POLICY_DIRECTORY
      let catalog: ColumnCatalog | undefined
      if (options.catalog !== undefined) {
        try {
          catalog = await readCatalogSource(options.catalog)
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          io.stderr.write(`sqlgate lint: reading the catalog failed: ${message}\n`)
          setExitCode(2)
          return
        }
      }

      const lintOptions = catalog === undefined ? {} : { catalog }
      const findings = await lintPolicyDirectory(directory, lintOptions)
      if (options.json === true) io.stdout.write(`${JSON.stringify(findings)}\n`)
      else io.stdout.write(formatFindings(findings))
      setExitCode(findings.some((finding) => finding.severity === 'error') ? 1 : 0)
    })
}
