/**
 * Checks role inheritance: roles that a `g` line or a test names but that no `p` line grants
 * anything, and cycles in `g` lines.
 */

import type { PolicyCsvLine } from '../../authorize/policy-csv.js'
import type { LintFinding } from './lint-finding.js'

/** A role named by a policy test, with the place that names it. */
export interface TestRoleReference {
  readonly role: string
  readonly file: string
  readonly line: number
}

/** Returns unknown-role and role-cycle findings. */
export function checkRoles(
  file: string,
  policyLines: readonly PolicyCsvLine[],
  roleLines: readonly PolicyCsvLine[],
  testRoles: readonly TestRoleReference[],
): LintFinding[] {
  const findings: LintFinding[] = []
  const parents = new Map<string, string[]>()
  for (const line of roleLines) {
    const [member = '', parent = ''] = line.fields
    parents.set(member, [...(parents.get(member) ?? []), parent])
  }
  const withLines = new Set(policyLines.map((line) => line.fields[0] ?? ''))

  // A role is granted something when it, or a role it inherits, has a p line.
  const granted = (role: string): boolean => {
    const seen = new Set<string>()
    const pending = [role]
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (withLines.has(next)) return true
      if (seen.has(next)) continue
      seen.add(next)
      pending.push(...(parents.get(next) ?? []))
    }
    return false
  }

  for (const line of roleLines) {
    const [member = '', parent = ''] = line.fields
    if (!granted(parent)) {
      findings.push({
        severity: 'error',
        check: 'unknown-role',
        file,
        line: line.line,
        message: `${member} inherits ${parent}, but no p line grants ${parent} anything`,
      })
    }
  }
  for (const reference of testRoles) {
    if (granted(reference.role)) continue
    findings.push({
      severity: 'warning',
      check: 'unknown-role',
      file: reference.file,
      line: reference.line,
      message: `role ${reference.role} has no p line and inherits none, so every request is denied`,
    })
  }

  findings.push(...findCycles(file, roleLines))
  return findings
}

/** Reports each g line that closes a cycle, with the cycle it closes. */
function findCycles(file: string, roleLines: readonly PolicyCsvLine[]): LintFinding[] {
  const findings: LintFinding[] = []
  const edges = new Map<string, PolicyCsvLine[]>()
  for (const line of roleLines) {
    const member = line.fields[0] ?? ''
    edges.set(member, [...(edges.get(member) ?? []), line])
  }

  const reported = new Set<number>()
  const done = new Set<string>()
  const path: string[] = []
  const visit = (role: string): void => {
    if (done.has(role)) return
    path.push(role)
    for (const line of edges.get(role) ?? []) {
      const parent = line.fields[1] ?? ''
      const start = path.indexOf(parent)
      if (start >= 0) {
        if (!reported.has(line.line)) {
          reported.add(line.line)
          const cycle = [...path.slice(start), parent].join(' -> ')
          findings.push({
            severity: 'error',
            check: 'role-cycle',
            file,
            line: line.line,
            message: `role inheritance forms a cycle: ${cycle}`,
          })
        }
        continue
      }
      visit(parent)
    }
    path.pop()
    done.add(role)
  }
  for (const role of edges.keys()) visit(role)
  return findings
}
