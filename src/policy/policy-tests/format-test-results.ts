/**
 * Renders policy test results like a test runner: one line per case, a diff of expected and
 * actual under each failure, and a summary line `N passed, N failed`.
 */

import type { PolicyTestFileProblem } from './policy-test-file.js'
import { describeDenial, type PolicyTestResult } from './run-policy-tests.js'

/** Maximum denials and grants listed under a failed case. */
const LISTED_FACTS = 8

/** Formats results and file problems; every problem counts as a failure in the summary. */
export function formatTestResults(
  results: readonly PolicyTestResult[],
  problems: readonly PolicyTestFileProblem[],
): string {
  const lines: string[] = []
  for (const problem of problems) {
    lines.push(`FAIL  ${problem.file}:${problem.line}  ${problem.message}`)
  }
  for (const result of results) {
    const { testCase } = result
    const status = result.mismatches.length === 0 ? 'PASS' : 'FAIL'
    lines.push(`${status}  ${testCase.file}:${testCase.line}  ${testCase.name}`)
    if (result.mismatches.length === 0) continue
    for (const line of formatDiff(result)) lines.push(`      ${line}`)
  }

  const failed = results.filter((result) => result.mismatches.length > 0).length + problems.length
  const passed = results.length - (failed - problems.length)
  lines.push('', `${passed} passed, ${failed} failed`)
  return `${lines.join('\n')}\n`
}

/** Formats the expected and actual decision as `-` and `+` lines under a header of each. */
function formatDiff(result: PolicyTestResult): string[] {
  const { testCase, decision } = result
  const expected = [`decision: ${testCase.expect}`]
  if (testCase.expect === 'deny' && testCase.reason !== undefined) {
    expected.push(`denial containing: ${JSON.stringify(testCase.reason)}`)
  }
  if (testCase.expect === 'deny' && testCase.denied !== undefined) {
    expected.push(`denied: ${testCase.denied.action ?? '*'} on ${testCase.denied.object}`)
  }

  const actual = [`decision: ${decision.allowed ? 'allow' : 'deny'}`]
  for (const denial of decision.denials.slice(0, LISTED_FACTS)) {
    actual.push(`denied: ${describeDenial(denial)}`)
  }
  if (decision.allowed) {
    for (const grant of decision.grants.slice(0, LISTED_FACTS)) {
      actual.push(`allowed: ${grant.action} on ${grant.object} by ${grant.rule}`)
    }
  }
  const hidden = decision.allowed
    ? decision.grants.length - LISTED_FACTS
    : decision.denials.length - LISTED_FACTS
  if (hidden > 0) actual.push(`(${hidden} more)`)

  return [
    `roles ${testCase.roles.join(', ')}; database ${testCase.database}; ${testCase.dialect}`,
    `sql: ${testCase.sql.replace(/\s+/g, ' ').trim()}`,
    '--- expected',
    '+++ actual',
    ...expected.map((line) => `- ${line}`),
    ...actual.map((line) => `+ ${line}`),
  ]
}
