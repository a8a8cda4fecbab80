/**
 * Finds p lines that change nothing: exact duplicates, and lines whose every match another line
 * already decides the same way or overrides (an allow under a broader deny never takes effect).
 */

import { policyGlobMatch } from '../../authorize/casbin-authorizer.js'
import type { PolicyCsvLine } from '../../authorize/policy-csv.js'
import type { LintFinding } from './lint-finding.js'

const GLOB = /[*?[{]/

/** Returns duplicate-line and shadowed-line warnings. */
export function checkOverlaps(
  file: string,
  policyLines: readonly PolicyCsvLine[],
  roleLines: readonly PolicyCsvLine[],
): LintFinding[] {
  const findings: LintFinding[] = []
  const firstSeen = new Map<string, number>()

  for (const line of policyLines) {
    const key = line.fields.join('\0')
    const first = firstSeen.get(key)
    if (first !== undefined) {
      findings.push({
        severity: 'warning',
        check: 'duplicate-line',
        file,
        line: line.line,
        message: `same as line ${first}`,
      })
      continue
    }
    firstSeen.set(key, line.line)

    const shadow = policyLines.find(
      (other) =>
        other !== line && other.fields.join('\0') !== key && shadows(other, line, roleLines),
    )
    if (shadow === undefined) continue
    const [role = '', , , , effect = ''] = line.fields
    const [shadowRole = '', , , , shadowEffect = ''] = shadow.fields
    const through = shadowRole === role ? '' : ` (inherited from ${shadowRole})`
    const verb = shadowEffect === 'allow' ? 'allows' : 'denies'
    const message =
      effect === 'allow' && shadowEffect === 'deny'
        ? `never takes effect: everything it allows is denied by line ${shadow.line}${through}`
        : `redundant: line ${shadow.line}${through} already ${verb} everything it matches`
    findings.push({ severity: 'warning', check: 'shadowed-line', file, line: line.line, message })
  }
  return findings
}

/** Tells whether line `a` decides every request that line `b` matches, the same way or over it. */
function shadows(a: PolicyCsvLine, b: PolicyCsvLine, roleLines: readonly PolicyCsvLine[]): boolean {
  const [aRole = '', aDomain = '', aObject = '', aAction = '', aEffect = ''] = a.fields
  const [bRole = '', bDomain = '', bObject = '', bAction = '', bEffect = ''] = b.fields
  // An allow never overrides a deny, and a narrower allow adds nothing only beside a broader one.
  if (aEffect === 'allow' && bEffect === 'deny') return false
  // Only a line naming the floor rule and `lift` exactly lifts it, so patterns never cover one.
  if (bObject.startsWith('floor:') && (aObject !== bObject || aAction !== bAction)) return false
  if (!covers(aDomain, bDomain) || !covers(aObject, bObject) || !covers(aAction, bAction)) {
    return false
  }
  // When both are equally broad, report only the later line.
  if (covers(bDomain, aDomain) && covers(bObject, aObject) && covers(bAction, aAction)) {
    if (aRole === bRole && aEffect === bEffect && a.line > b.line) return false
  }
  return inherits(bRole, aRole, bDomain, roleLines)
}

/** Tells whether `role` is `ancestor` or inherits it in every database that `domain` matches. */
function inherits(
  role: string,
  ancestor: string,
  domain: string,
  roleLines: readonly PolicyCsvLine[],
): boolean {
  const seen = new Set<string>()
  const pending = [role]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next === ancestor) return true
    if (seen.has(next)) continue
    seen.add(next)
    for (const line of roleLines) {
      const [member = '', parent = '', linkDomain = ''] = line.fields
      if (member === next && covers(linkDomain, domain)) pending.push(parent)
    }
  }
  return false
}

/**
 * Tells whether every value that pattern `narrow` matches is also matched by `broad`. Errs
 * towards `false` for glob shapes it cannot compare, so a reported line is surely shadowed.
 */
export function covers(broad: string, narrow: string): boolean {
  if (broad === narrow || broad === '*' || broad === '**') return true
  if (!GLOB.test(narrow)) return policyGlobMatch(narrow, broad)
  // `prefix*` covers any pattern that starts with the same prefix and has no `/`.
  const star = broad.indexOf('*')
  if (star === broad.length - 1 && !GLOB.test(broad.slice(0, star))) {
    return narrow.startsWith(broad.slice(0, star)) && !narrow.includes('/')
  }
  return false
}
