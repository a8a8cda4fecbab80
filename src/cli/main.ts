/**
 * The `sqlgate` command line. Each subcommand lives in its own file under commands/ and returns
 * the process exit code instead of calling `process.exit`, so tests can run it in-process.
 */

import { Command, CommanderError } from 'commander'

import { registerCheckCommand } from './commands/check-command.js'
import { registerExplainCommand } from './commands/explain-command.js'
import { registerLintCommand } from './commands/lint-command.js'
import { registerPolicyCommand } from './commands/policy-command.js'
import { registerTestCommand } from './commands/test-command.js'
import type { CommandIo } from './command-io.js'
import { processIo } from './command-io.js'

/** Builds the program; each command stores its exit code through `setExitCode`. */
export function createProgram(io: CommandIo, setExitCode: (code: number) => void): Command {
  const program = new Command('sqlgate')
    .description('Check SQL against per-role policies and run it under the end user identity')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
  registerCheckCommand(program, io, setExitCode)
  registerPolicyCommand(program, io, setExitCode)
  registerTestCommand(program, io, setExitCode)
  registerLintCommand(program, io, setExitCode)
  registerExplainCommand(program, io, setExitCode)
  return program
}

/** Runs the command line and returns the exit code. */
export async function main(argv: readonly string[], io: CommandIo = processIo()): Promise<number> {
  let exitCode = 0
  const program = createProgram(io, (code) => {
    exitCode = code
  })
  try {
    await program.parseAsync([...argv])
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2
    }
    io.stderr.write(`sqlgate: ${error instanceof Error ? error.message : String(error)}\n`)
    return 2
  }
  return exitCode
}
