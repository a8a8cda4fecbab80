/** Findings of `sqlgate lint`: one problem in one line of one policy file. */

/** The checks lint runs. Each has a fixture under test/fixtures/policies/<check>/. */
export type LintCheck =
  | 'load-failed'
  | 'malformed-line'
  | 'unknown-object'
  | 'unknown-action'
  | 'unknown-role'
  | 'role-cycle'
  | 'duplicate-line'
  | 'shadowed-line'
  | 'floor-lift'
  | 'no-catalog-match'
  | 'malformed-limit'

export interface LintFinding {
  /** An error makes `sqlgate lint` exit 1; a warning does not. */
  readonly severity: 'error' | 'warning'
  readonly check: LintCheck
  /** File name relative to the policy directory, for example `policy.csv`. */
  readonly file: string
  /** 1-based line number. */
  readonly line: number
  readonly message: string
}

/** Sorts findings by file, then line, then check, so output is stable. */
export function sortFindings(findings: readonly LintFinding[]): LintFinding[] {
  return [...findings].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || a.line - b.line || a.check.localeCompare(b.check),
  )
}

/** Formats findings as `file:line: severity [check] message` lines and a summary line. */
export function formatFindings(findings: readonly LintFinding[]): string {
  const lines = sortFindings(findings).map(
    (finding) =>
      `${finding.file}:${finding.line}: ${finding.severity} [${finding.check}] ${finding.message}`,
  )
  const errors = findings.filter((finding) => finding.severity === 'error').length
  const warnings = findings.length - errors
  lines.push(`${errors} error(s), ${warnings} warning(s)`)
  return `${lines.join('\n')}\n`
}
