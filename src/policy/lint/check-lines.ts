/**
 * Checks each line of policy.csv on its own: shape, object, action, and lines that touch the
 * built-in floor.
 */

import { policyGlobMatch } from '../../authorize/casbin-authorizer.js'
import type { PolicyCsvLine } from '../../authorize/policy-csv.js'
import { FLOOR_RULES, type FloorRuleId } from '../../floor/floor-rules.js'
import type { LintFinding } from './lint-finding.js'
import { ACTIONS, FLOOR_RULE_IDS, objectKindOf } from './policy-vocabulary.js'

const ALL_ACTIONS = [...new Set(Object.values(ACTIONS).flat())]

/** Returns the findings of every line, and the lines well-formed enough for further checks. */
export function checkLines(
  file: string,
  lines: readonly PolicyCsvLine[],
): { findings: LintFinding[]; policyLines: PolicyCsvLine[]; roleLines: PolicyCsvLine[] } {
  const findings: LintFinding[] = []
  const policyLines: PolicyCsvLine[] = []
  const roleLines: PolicyCsvLine[] = []
  const report = (
    line: PolicyCsvLine,
    severity: LintFinding['severity'],
    check: LintFinding['check'],
    message: string,
  ): void => {
    findings.push({ severity, check, file, line: line.line, message })
  }

  for (const line of lines) {
    if (line.type !== 'p' && line.type !== 'g') {
      report(line, 'error', 'malformed-line', `unknown line type "${line.type}": use p or g`)
      continue
    }
    const expected = line.type === 'p' ? 5 : 3
    if (line.fields.length !== expected) {
      const shape =
        line.type === 'p'
          ? 'p, role, database, object, action, effect'
          : 'g, role, inherited-role, database (use * for every database)'
      const found = `found ${line.fields.length} fields after ${line.type}`
      report(line, 'error', 'malformed-line', `expected "${shape}", ${found}`)
      continue
    }
    if (line.fields.some((field) => field === '')) {
      report(line, 'error', 'malformed-line', 'a field is empty')
      continue
    }
    if (line.type === 'g') {
      roleLines.push(line)
      continue
    }

    const [, , object = '', action = '', effect = ''] = line.fields
    if (effect !== 'allow' && effect !== 'deny') {
      report(line, 'error', 'malformed-line', `the effect must be allow or deny, found "${effect}"`)
      continue
    }
    const kind = objectKindOf(object)
    if (kind === null) {
      const message =
        `unknown object "${object}": use statement, table:<schema>.<table>, ` +
        'column:<schema>.<table>.<column>, function:<name> or floor:<rule>'
      report(line, 'error', 'unknown-object', message)
      continue
    }
    const known = kind === 'any' ? ALL_ACTIONS : ACTIONS[kind]
    if (!known.some((candidate) => policyGlobMatch(candidate, action))) {
      const list = kind === 'any' ? 'any known action' : known.join(', ')
      report(line, 'error', 'unknown-action', `action "${action}" matches none of ${list}`)
      continue
    }
    if (kind === 'floor') {
      const floor = checkFloorLine(line, object, effect)
      if (floor !== null) findings.push({ ...floor, file })
      if (floor?.check === 'unknown-object') continue
    }
    policyLines.push(line)
  }
  return { findings, policyLines, roleLines }
}

function checkFloorLine(
  line: PolicyCsvLine,
  object: string,
  effect: string,
): Omit<LintFinding, 'file'> | null {
  const rule = object.slice('floor:'.length)
  const role = line.fields[0] ?? ''
  const at = { line: line.line }
  if (/[*?[{]/.test(rule)) {
    return {
      ...at,
      severity: 'error',
      check: 'floor-lift',
      message:
        `"${object}" is a pattern over floor rules: a floor rule is lifted only by a line ` +
        'naming one liftable rule exactly, and the pattern also names rules that are never lifted',
    }
  }
  if (!FLOOR_RULE_IDS.includes(rule)) {
    const message = `unknown floor rule "${rule}": the rules are ${FLOOR_RULE_IDS.join(', ')}`
    return { ...at, severity: 'error', check: 'unknown-object', message }
  }
  const floorRule = FLOOR_RULES[rule as FloorRuleId]
  if (!floorRule.liftable) {
    return {
      ...at,
      severity: 'error',
      check: 'floor-lift',
      message: `floor rule ${rule} can never be lifted (${floorRule.reason}); remove this line`,
    }
  }
  if (effect !== 'allow') return null
  return {
    ...at,
    severity: 'warning',
    check: 'floor-lift',
    message: `role ${role} may lift floor rule ${rule}: ${floorRule.reason}`,
  }
}
