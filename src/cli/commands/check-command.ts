/**
 * `sqlgate check`: decide one statement, or one case per line from standard input with
 * `--jsonl`. Exit code 0 when allowed, 1 when denied, 2 on a usage or setup error.
 */

import { createInterface } from 'node:readline'

import type { Command } from 'commander'

import type { Decision } from '../../authorize/decision.js'
import { createPolicyEngine } from '../../engine/create-policy-engine.js'
import type { PolicyEngine } from '../../engine/policy-engine.js'
import type { Dialect } from '../../parse/front-end.js'
import type { CommandIo } from '../command-io.js'
import { formatDecision } from '../format-decision.js'

interface CheckOptions {
  readonly dialect: string
  readonly roles?: string
  readonly policy?: string
  readonly domain: string
  readonly json?: boolean
  readonly jsonl?: boolean
}

const DIALECTS: Readonly<Record<string, Dialect>> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mssql: 'mssql',
  transactsql: 'mssql',
  tsql: 'mssql',
}

export function registerCheckCommand(
  program: Command,
  io: CommandIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command('check')
    .description('decide whether roles may run SQL; exit 0 allow, 1 deny, 2 error')
    .argument('[sql]', 'the SQL text (omit with --jsonl)')
    .option('--dialect <dialect>', 'postgres or mssql', 'postgres')
    .option('--roles <roles>', 'comma-separated roles, for example sql-read')
    .option('--policy <dir>', 'directory with model.conf and policy.csv (default: shipped policy)')
    .option('--domain <name>', 'policy domain: the database module name', 'default')
    .option('--json', 'print the decision as JSON')
    .option('--jsonl', 'read {"dialect","roles" (or "role"),"sql"} lines from stdin, write one JSON line each')
    .action(async (sql: string | undefined, options: CheckOptions) => {
      const engine = await createPolicyEngine(
        options.policy === undefined ? {} : { policyDirectory: options.policy },
      )
      if (options.jsonl === true) {
        setExitCode(await checkLines(engine, options, io))
        return
      }

      const dialect = DIALECTS[options.dialect]
      if (dialect === undefined) return fail(io, setExitCode, `unknown dialect "${options.dialect}"`)
      if (sql === undefined) return fail(io, setExitCode, 'missing SQL argument (or use --jsonl)')
      if (options.roles === undefined) return fail(io, setExitCode, 'missing --roles')

      const decision = engine.check({
        dialect,
        roles: splitRoles(options.roles),
        sql,
        domain: options.domain,
      })
      io.stdout.write(
        options.json === true ? `${JSON.stringify(decisionJson(decision))}\n` : formatDecision(decision),
      )
      setExitCode(decision.allowed ? 0 : 1)
    })
}

function fail(io: CommandIo, setExitCode: (code: number) => void, message: string): void {
  io.stderr.write(`sqlgate check: ${message}\n`)
  setExitCode(2)
}

function splitRoles(roles: string | readonly unknown[]): string[] {
  const list = typeof roles === 'string' ? roles.split(',') : roles.map(String)
  return list.map((role) => role.trim()).filter((role) => role !== '')
}

/** Converts a decision to its JSON form: decision, reasons, and the facts behind them. */
export function decisionJson(decision: Decision): Record<string, unknown> {
  return {
    decision: decision.allowed ? 'allow' : 'deny',
    reasons: decision.denials.map((denial) => `${denial.action} on ${denial.object}: ${denial.reason}`),
    errorCode: decision.errorCode,
    denials: decision.denials,
    grants: decision.grants,
    facts: decision.facts,
    policyVersion: decision.policyVersion,
  }
}

/** Decides one JSON case per input line; a malformed line yields an error line. Returns 0 or 2. */
async function checkLines(engine: PolicyEngine, options: CheckOptions, io: CommandIo): Promise<number> {
  let exitCode = 0
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    if (line.trim() === '') continue
    let input: { dialect?: unknown; roles?: unknown; role?: unknown; sql?: unknown; domain?: unknown }
    try {
      input = JSON.parse(line) as typeof input
    } catch {
      io.stdout.write(`${JSON.stringify({ decision: 'error', reasons: ['line is not valid JSON'] })}\n`)
      exitCode = 2
      continue
    }
    const dialect = DIALECTS[String(input.dialect ?? options.dialect)]
    // `role` (one role) is accepted too, as in the attack case files.
    const roleField = input.roles ?? input.role
    const roles =
      typeof roleField === 'string' || Array.isArray(roleField) ? splitRoles(roleField) : null
    if (dialect === undefined || roles === null || typeof input.sql !== 'string') {
      const reason = 'each line needs "dialect" (postgres or mssql), "roles" and "sql"'
      io.stdout.write(`${JSON.stringify({ decision: 'error', reasons: [reason] })}\n`)
      exitCode = 2
      continue
    }
    const domain = typeof input.domain === 'string' ? input.domain : options.domain
    const decision = engine.check({ dialect, roles, sql: input.sql, domain })
    io.stdout.write(`${JSON.stringify(decisionJson(decision))}\n`)
  }
  return exitCode
}
