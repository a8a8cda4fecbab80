/**
 * Finds out whether a table has column rules for a request, so that `*` over it is expanded from
 * the catalog only when a deny line could hide one of its columns. Read from the policy text, so
 * it always describes the policy the authorizer enforces.
 */

import type { CasbinAuthorizer } from './casbin-authorizer.js'
import { policyGlobMatch } from './casbin-authorizer.js'
import { parsePolicyCsv } from './policy-csv.js'
import { formatIdentifier } from './policy-objects.js'

/** Maximum memoized results before the memo is cleared. */
const MEMO_LIMIT = 10_000

/** Deny lines on columns and role links of one policy, indexed for `covers`. */
export class ColumnRuleIndex {
  /** Deny lines as subject, domain, object, action. */
  readonly #denials: readonly (readonly string[])[]
  /** Role links as member, parent, domain pattern. */
  readonly #links: readonly (readonly string[])[]
  readonly #memo = new Map<string, boolean>()

  constructor(policy: string) {
    const lines = parsePolicyCsv(policy)
    this.#denials = lines
      .filter((line) => line.type === 'p' && line.fields[4] === 'deny')
      .map((line) => line.fields)
    this.#links = lines.filter((line) => line.type === 'g').map((line) => line.fields)
  }

  /**
   * Tells whether a deny line that applies to one of `roles` in `domain` could match some column
   * of `schema.table` for `action`. The result errs towards `true`: a pattern that could match a
   * column of the table counts even when no actual column matches it, so an unneeded catalog
   * lookup can happen but a needed one is never skipped.
   */
  covers(
    roles: readonly string[],
    domain: string,
    schema: string,
    table: string,
    action: string,
  ): boolean {
    const key = JSON.stringify([roles, domain, schema, table, action])
    const known = this.#memo.get(key)
    if (known !== undefined) return known

    const subjects = this.#inheritedRoles(roles, domain)
    const probe = `column:${formatIdentifier(schema)}.${formatIdentifier(table)}.x`
    const answer = this.#denials.some(([subject = '', lineDomain = '', object = '', act = '']) => {
      if (!subjects.has(subject)) return false
      if (!policyGlobMatch(domain, lineDomain) || !policyGlobMatch(action, act)) return false
      const widened = widenColumnPattern(object)
      return widened !== null && policyGlobMatch(probe, widened)
    })

    if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear()
    this.#memo.set(key, answer)
    return answer
  }

  /** Tells whether any column deny line applies to one of `roles` in `domain`. */
  hasColumnDenials(roles: readonly string[], domain: string): boolean {
    const subjects = this.#inheritedRoles(roles, domain)
    return this.#denials.some(
      ([subject = '', lineDomain = '', object = '']) =>
        subjects.has(subject) && object.startsWith('column:') && policyGlobMatch(domain, lineDomain),
    )
  }

  /** The roles and every role they inherit in `domain`, through `g` lines whose domain matches. */
  #inheritedRoles(roles: readonly string[], domain: string): Set<string> {
    const found = new Set(roles)
    const pending = [...roles]
    for (let role = pending.pop(); role !== undefined; role = pending.pop()) {
      for (const [member, parent, linkDomain = '*'] of this.#links) {
        if (member !== role || parent === undefined || found.has(parent)) continue
        if (!policyGlobMatch(domain, linkDomain)) continue
        found.add(parent)
        pending.push(parent)
      }
    }
    return found
  }
}

const indexes = new WeakMap<CasbinAuthorizer, ColumnRuleIndex>()

/** Returns the column rule index of a loaded policy, built once per authorizer. */
export function columnRulesOf(authorizer: CasbinAuthorizer): ColumnRuleIndex {
  let index = indexes.get(authorizer)
  if (index === undefined) {
    index = new ColumnRuleIndex(authorizer.source.policy)
    indexes.set(authorizer, index)
  }
  return index
}

/**
 * Widens an object pattern so that it matches `column:<schema>.<table>.x` whenever the original
 * could match some column of that table: the part after the last dot outside quotes and braces
 * becomes `*`. A pattern without such a dot widens to `*` when it has glob characters, and to
 * `null` when it is a plain word, which can name no column.
 */
export function widenColumnPattern(pattern: string): string | null {
  let cut = -1
  let quoted = false
  let depth = 0
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index]
    if (char === '"') quoted = !quoted
    else if (!quoted && (char === '{' || char === '[')) depth += 1
    else if (!quoted && (char === '}' || char === ']')) depth -= 1
    else if (!quoted && depth === 0 && char === '.') cut = index
  }
  if (cut >= 0) return `${pattern.slice(0, cut)}.*`
  return /[*?[{]/.test(pattern) ? '*' : null
}
