/**
 * Runs policy test cases against a policy engine and compares each decision with the case's
 * expectation. Nothing here reaches a database: column lists for `*` come from the test file.
 */

import type { Decision } from '../../authorize/decision.js'
import type { PolicyEngine } from '../../engine/policy-engine.js'
import type { Denial } from '../../errors.js'
import type { PolicyTestCase } from './policy-test-file.js'

/** One case with the decision the policy made and how it differs from the expectation. */
export interface PolicyTestResult {
  readonly testCase: PolicyTestCase
  readonly decision: Decision
  /** Each expectation the decision did not meet, in words. Empty when the case passed. */
  readonly mismatches: readonly string[]
}

/** Checks every case and returns one result per case, in order. */
export function runPolicyTests(
  engine: PolicyEngine,
  cases: readonly PolicyTestCase[],
): PolicyTestResult[] {
  return cases.map((testCase) => {
    const decision = engine.check({
      dialect: testCase.dialect,
      roles: testCase.roles,
      sql: testCase.sql,
      domain: testCase.database,
      ...(testCase.catalog === undefined ? {} : { catalog: testCase.catalog }),
    })
    return { testCase, decision, mismatches: compare(testCase, decision) }
  })
}

function compare(testCase: PolicyTestCase, decision: Decision): string[] {
  const actual = decision.allowed ? 'allow' : 'deny'
  if (actual !== testCase.expect) return [`expected ${testCase.expect}, got ${actual}`]
  if (testCase.expect === 'allow') return []

  const mismatches: string[] = []
  const reason = testCase.reason
  const texts = decision.denials.map(describeDenial)
  if (reason !== undefined && !texts.some((text) => text.includes(reason))) {
    mismatches.push(`no denial contains "${reason}"`)
  }
  const denied = testCase.denied
  if (
    denied !== undefined &&
    !decision.denials.some(
      (denial) =>
        denial.object === denied.object &&
        (denied.action === undefined || denial.action === denied.action),
    )
  ) {
    mismatches.push(`no denial of ${denied.action ?? 'any action'} on ${denied.object}`)
  }
  return mismatches
}

/** Describes a denial in one line (action, object, reason, rule); `reason` is matched in it. */
export function describeDenial(denial: Denial): string {
  return `${denial.action} on ${denial.object}: ${denial.reason} [${denial.rule}]`
}
