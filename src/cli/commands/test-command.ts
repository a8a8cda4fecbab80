/**
 * `sqlgate test [DIR]`: run the policy test files in `DIR/tests/` against the policy in DIR.
 * Exit code 0 when every case passes, 1 when any fails or a test file is invalid, 2 when the
 * policy itself cannot be loaded.
 */

import type { Command } from 'commander'

import { createPolicyEngine, DEFAULT_POLICY_DIRECTORY } from '../../engine/create-policy-engine.js'
import { formatTestResults } from '../../policy/policy-tests/format-test-results.js'
import { readPolicyTests } from '../../policy/policy-tests/policy-test-file.js'
import { runPolicyTests } from '../../policy/policy-tests/run-policy-tests.js'
import type { CommandIo } from '../command-io.js'

/** Adds `sqlgate test` to the program. */
export function registerTestCommand(
  program: Command,
  io: CommandIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command('test')
    .description('run the policy tests in DIR/tests/ (YAML or JSON); exit 1 on any failure')
    .argument('[dir]', 'policy directory with model.conf, policy.csv and tests/ (default: shipped)')
    .action(async (given: string | undefined) => {
      const directory = given ?? DEFAULT_POLICY_DIRECTORY
      let engine
      try {
        engine = await createPolicyEngine({ policyDirectory: directory, cache: false })
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        io.stderr.write(`sqlgate test: loading the policy in ${directory} failed: ${message}\n`)
        setExitCode(2)
        return
      }

      const { cases, problems } = await readPolicyTests(directory)
      if (cases.length === 0 && problems.length === 0) {
        io.stderr.write(`sqlgate test: no test cases in ${directory}/tests/\n`)
        setExitCode(1)
        return
      }
      const results = runPolicyTests(engine, cases)
      io.stdout.write(formatTestResults(results, problems))
      const failed = problems.length > 0 || results.some((result) => result.mismatches.length > 0)
      setExitCode(failed ? 1 : 0)
    })
}
