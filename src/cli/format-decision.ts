/** Human-readable rendering of a decision for the terminal. */

import type { Decision } from '../authorize/decision.js'

export function formatDecision(decision: Decision): string {
  const lines = [decision.allowed ? 'ALLOW' : 'DENY']
  for (const denial of decision.denials) {
    lines.push(`  denied  ${denial.action} on ${denial.object}`)
    lines.push(`          ${denial.reason}`)
    if (denial.rule !== 'no matching allow' && denial.rule !== denial.object) {
      lines.push(`          rule: ${denial.rule}`)
    }
  }
  for (const grant of decision.grants) {
    lines.push(`  allowed ${grant.action} on ${grant.object}  (${grant.rule})`)
  }
  lines.push(`  policy version ${decision.policyVersion}`)
  return `${lines.join('\n')}\n`
}
