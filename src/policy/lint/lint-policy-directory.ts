/**
 * `sqlgate lint`: reads a policy directory (model.conf, policy.csv, and when present limits.csv
 * and tests/) and reports problems with the file and line that has them.
 */

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { CasbinAuthorizer } from '../../authorize/casbin-authorizer.js'
import { parsePolicyCsv } from '../../authorize/policy-csv.js'
import type { ColumnCatalog } from '../../catalog/column-catalog.js'
import { createPolicySource } from '../policy-source.js'
import { readPolicyTests } from '../policy-tests/policy-test-file.js'
import { parseRowLimits, ROW_LIMITS_FILE } from '../row-limits.js'
import { checkCatalog } from './check-catalog.js'
import { checkLines } from './check-lines.js'
import { checkOverlaps } from './check-overlaps.js'
import { checkRoles, type TestRoleReference } from './check-roles.js'
import type { LintFinding } from './lint-finding.js'
import { sortFindings } from './lint-finding.js'

const POLICY_FILE = 'policy.csv'
const MODEL_FILE = 'model.conf'

/** Options of `lintPolicyDirectory`. */
export interface LintOptions {
  /** Tables and columns that table and column patterns should match. Default: not checked. */
  readonly catalog?: ColumnCatalog
}

/** Lints a policy directory and returns its findings, sorted by file and line. */
export async function lintPolicyDirectory(
  directory: string,
  options: LintOptions = {},
): Promise<LintFinding[]> {
  const model = await readOptional(join(directory, MODEL_FILE))
  const policy = await readOptional(join(directory, POLICY_FILE))
  if (model === null || policy === null) {
    const file = model === null ? MODEL_FILE : POLICY_FILE
    return [loadFailed(file, `${file} not found in ${directory}`)]
  }

  const findings: LintFinding[] = []
  try {
    await CasbinAuthorizer.create(createPolicySource(model, policy, directory))
  } catch (error) {
    const problems = (error as { problems?: readonly string[] }).problems ?? []
    const detail = problems.length > 0 ? `: ${problems.join('; ')}` : ''
    findings.push(loadFailed(POLICY_FILE, `Casbin failed to load the policy${detail}`))
  }

  const { findings: lineFindings, policyLines, roleLines } = checkLines(
    POLICY_FILE,
    parsePolicyCsv(policy),
  )
  findings.push(...lineFindings)

  const tests = await readPolicyTests(directory)
  const testRoles: TestRoleReference[] = tests.cases.flatMap((testCase) =>
    testCase.roles.map((role) => ({ role, file: testCase.file, line: testCase.line })),
  )
  findings.push(...checkRoles(POLICY_FILE, policyLines, roleLines, testRoles))
  findings.push(...checkOverlaps(POLICY_FILE, policyLines, roleLines))
  if (options.catalog !== undefined) {
    findings.push(...checkCatalog(POLICY_FILE, policyLines, options.catalog))
  }

  const limits = await readOptional(join(directory, ROW_LIMITS_FILE))
  for (const problem of limits === null ? [] : parseRowLimits(limits).problems) {
    findings.push({
      severity: 'error',
      check: 'malformed-limit',
      file: ROW_LIMITS_FILE,
      line: problem.line,
      message: problem.message,
    })
  }
  return sortFindings(findings)
}

function loadFailed(file: string, message: string): LintFinding {
  return { severity: 'error', check: 'load-failed', file, line: 1, message }
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}
