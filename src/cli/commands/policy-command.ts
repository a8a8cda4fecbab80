/**
 * `sqlgate policy push DIR`: check a policy directory and store its lines in PostgreSQL for every
 * instance that shares the policy; running instances reload on the notification. Exit code 0
 * when stored, 1 when the policy was rejected (nothing changed), 2 on a usage or setup error.
 * Log lines (pino JSON) go to standard error; the result line goes to standard output.
 */

import type { Command } from 'commander'
import type { Logger } from 'pino'

import { isSqlgateError, PolicyInvalid } from '../../errors.js'
import { createLogger } from '../../logging/create-logger.js'
import { readPolicyDirectory, type PolicySource } from '../../policy/policy-source.js'
import { DEFAULT_POLICY_SCHEMA } from '../../policy/sync/postgres-policy-store.js'
import { pushPolicy } from '../../policy/sync/shared-policy.js'
import type { CommandIo } from '../command-io.js'

interface PushOptions {
  readonly databaseUrl?: string
  readonly schema: string
  readonly logLevel?: string
}

export function registerPolicyCommand(
  program: Command,
  io: CommandIo,
  setExitCode: (code: number) => void,
): void {
  const policy = program.command('policy').description('manage a policy shared through PostgreSQL')

  policy
    .command('push')
    .description('store a policy directory for all instances; exit 0 stored, 1 rejected, 2 error')
    .argument('<dir>', 'directory with model.conf and policy.csv')
    .option(
      '--database-url <url>',
      'PostgreSQL connection string of the service login (default: $SQLGATE_DATABASE_URL)',
    )
    .option('--schema <name>', 'schema of the shared policy table', DEFAULT_POLICY_SCHEMA)
    .option(
      '--log-level <level>',
      'trace, debug, info, warn, error, fatal or silent (default: $SQLGATE_LOG_LEVEL or info)',
    )
    .action(async (directory: string, options: PushOptions) => {
      setExitCode(await push(directory, options, io))
    })
}

async function push(directory: string, options: PushOptions, io: CommandIo): Promise<number> {
  const fail = (message: string): number => {
    io.stderr.write(`sqlgate policy push: ${message}\n`)
    return 2
  }

  let logger: Logger
  try {
    logger = createLogger({
      destination: io.stderr,
      ...(options.logLevel === undefined ? {} : { level: options.logLevel }),
    })
  } catch (error) {
    return fail((error as Error).message)
  }

  const databaseUrl = options.databaseUrl ?? process.env['SQLGATE_DATABASE_URL']
  if (databaseUrl === undefined || databaseUrl === '') {
    return fail('missing --database-url (or set SQLGATE_DATABASE_URL)')
  }

  let source: PolicySource
  try {
    source = await readPolicyDirectory(directory)
  } catch (error) {
    return fail(`failed to read the policy files: ${(error as Error).message}`)
  }

  const origin = `postgres:${options.schema}`
  try {
    const settings = { connectionString: databaseUrl, schema: options.schema }
    const version = await pushPolicy(source, settings)
    logger.info({ type: 'policy_push', directory, origin, version }, 'policy pushed')
    io.stdout.write(`pushed policy version ${version} to ${origin}\n`)
    return 0
  } catch (error) {
    if (error instanceof PolicyInvalid) {
      const fields = { type: 'policy_push', directory, origin, errors: error.problems }
      logger.error(fields, 'policy rejected')
      io.stderr.write(`sqlgate policy push: ${error.message}\n`)
      for (const problem of error.problems) io.stderr.write(`  ${problem}\n`)
      return 1
    }
    // node-postgres connection errors name the host and the login, not the password.
    const message = isSqlgateError(error) || error instanceof Error ? error.message : String(error)
    logger.error({ type: 'policy_push', directory, origin, error: message }, 'policy push failed')
    return fail(`the push failed: ${message}`)
  }
}
