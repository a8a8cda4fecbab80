import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { readCatalogDump } from '../../src/catalog/catalog-source.js'
import { DEFAULT_POLICY_DIRECTORY } from '../../src/engine/create-policy-engine.js'
import type { LintFinding } from '../../src/policy/lint/lint-finding.js'
import { lintPolicyDirectory } from '../../src/policy/lint/lint-policy-directory.js'

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'policies')

type Expected = readonly [LintFinding['severity'], LintFinding['check'], string, number]

/** Every finding each fixture must produce, as severity, check, file and line. */
const CASES: Readonly<Record<string, readonly Expected[]>> = {
  'malformed-line': [
    ['error', 'malformed-line', 'policy.csv', 2],
    ['error', 'malformed-line', 'policy.csv', 3],
    ['error', 'malformed-line', 'policy.csv', 4],
    ['error', 'malformed-line', 'policy.csv', 5],
  ],
  'unknown-object': [
    ['error', 'unknown-object', 'policy.csv', 2],
    ['error', 'unknown-object', 'policy.csv', 3],
  ],
  'unknown-action': [
    ['error', 'unknown-action', 'policy.csv', 2],
    ['error', 'unknown-action', 'policy.csv', 3],
  ],
  'unknown-role': [
    ['error', 'unknown-role', 'policy.csv', 3],
    ['warning', 'unknown-role', 'tests/cases.yaml', 6],
  ],
  'role-cycle': [['error', 'role-cycle', 'policy.csv', 3]],
  'duplicate-line': [['warning', 'duplicate-line', 'policy.csv', 3]],
  'shadowed-line': [
    ['warning', 'shadowed-line', 'policy.csv', 3],
    ['warning', 'shadowed-line', 'policy.csv', 6],
  ],
  'floor-lift': [
    ['warning', 'floor-lift', 'policy.csv', 2],
    ['error', 'floor-lift', 'policy.csv', 3],
    ['error', 'floor-lift', 'policy.csv', 4],
  ],
  'malformed-limit': [
    ['error', 'malformed-limit', 'limits.csv', 3],
    ['error', 'malformed-limit', 'limits.csv', 4],
  ],
  'load-failed': [['error', 'load-failed', 'policy.csv', 1]],
}

function summarize(findings: readonly LintFinding[]): Expected[] {
  return findings.map((finding) => [finding.severity, finding.check, finding.file, finding.line])
}

describe('policy lint', () => {
  for (const [fixture, expected] of Object.entries(CASES)) {
    it(`reports ${fixture} with its line`, async () => {
      const findings = await lintPolicyDirectory(join(FIXTURES, fixture))
      const checks = new Set(expected.map(([, check]) => check))
      const relevant = findings.filter((finding) => checks.has(finding.check))
      assert.deepEqual(summarize(relevant), expected, JSON.stringify(findings, null, 2))
    })
  }

  it('reports patterns missing from the catalog', async () => {
    const directory = join(FIXTURES, 'no-catalog-match')
    const catalog = await readCatalogDump(join(directory, 'catalog.json'))
    const findings = await lintPolicyDirectory(directory, { catalog })
    const misses = findings.filter((finding) => finding.check === 'no-catalog-match')
    assert.deepEqual(summarize(misses), [
      ['warning', 'no-catalog-match', 'policy.csv', 3],
      ['warning', 'no-catalog-match', 'policy.csv', 5],
    ])
    assert.match(misses[0]?.message ?? '', /table:public\.acounts/)
  })

  it('skips the catalog check without a catalog', async () => {
    const findings = await lintPolicyDirectory(join(FIXTURES, 'no-catalog-match'))
    assert.equal(findings.filter((finding) => finding.check === 'no-catalog-match').length, 0)
  })

  it('finds no errors in the shipped policy', async () => {
    const findings = await lintPolicyDirectory(DEFAULT_POLICY_DIRECTORY)
    const errors = findings.filter((finding) => finding.severity === 'error')
    assert.deepEqual(errors, [])
  })

  it('names both lines of a shadowed allow', async () => {
    const findings = await lintPolicyDirectory(join(FIXTURES, 'shadowed-line'))
    const shadowed = findings.find((finding) => finding.line === 6)
    assert.match(shadowed?.message ?? '', /denied by line 4 \(inherited from sql-read\)/)
  })

  it('names the roles of a cycle', async () => {
    const findings = await lintPolicyDirectory(join(FIXTURES, 'role-cycle'))
    assert.match(findings[0]?.message ?? '', /sql-write -> sql-read -> sql-admin -> sql-write/)
  })
})
