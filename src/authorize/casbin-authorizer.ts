/**
 * Casbin behind a typed facade. This is the only file that imports `casbin`.
 *
 * A subject holding several roles is decided per fact: the fact is denied when any role's
 * lines deny it, allowed when at least one role's lines allow it and none deny it, and denied
 * when no line matches. Answers are memoized per (role, domain, object, action) and the memo
 * belongs to one loaded policy, so a new policy version never sees an old answer.
 */

import { newEnforcer, newModelFromString, StringAdapter, Util, type Enforcer } from 'casbin'

import { PolicyInvalid } from '../errors.js'
import type { PolicySource } from '../policy/policy-source.js'
import { formatPolicyRule, parsePolicyCsv } from './policy-csv.js'

/** The answer for one fact. */
export interface FactAnswer {
  readonly effect: 'allow' | 'deny' | 'none'
  /** The deciding line as written in policy.csv, or `null` when no line matched. */
  readonly rule: string | null
  /** The deciding line's fields after `p`: subject, domain, object, action, effect. */
  readonly fields: readonly string[] | null
}

/** Maximum memoized answers before the memo is cleared, so memory stays bounded. */
const MEMO_LIMIT = 100_000

const NO_MATCH: FactAnswer = Object.freeze({ effect: 'none', rule: null, fields: null })

/**
 * Matches a value against a policy pattern the way the model's `globMatch` does (minimatch,
 * through Casbin): `*` spans any characters except `/`, and `{a,b}` lists alternatives.
 */
export function policyGlobMatch(value: string, pattern: string): boolean {
  return Util.globMatch(value, pattern)
}

export class CasbinAuthorizer {
  readonly #enforcer: Enforcer
  readonly #memo = new Map<string, FactAnswer>()
  readonly #lineNumbers: ReadonlyMap<string, number>
  readonly source: PolicySource

  private constructor(enforcer: Enforcer, source: PolicySource) {
    this.#enforcer = enforcer
    this.source = source
    this.#lineNumbers = indexLines(source.policy)
  }

  /** Loads a policy source into a new enforcer. */
  static async create(source: PolicySource): Promise<CasbinAuthorizer> {
    let enforcer: Enforcer
    try {
      const model = newModelFromString(source.model)
      enforcer = await newEnforcer(model, new StringAdapter(source.policy))
    } catch (error) {
      throw new PolicyInvalid(`policy in ${source.origin} failed to load`, [String(error)], {
        cause: error,
      })
    }
    // Domains in `g` lines may be patterns such as `*`, so role links apply across databases.
    enforcer.addNamedDomainMatchingFunc('g', Util.globMatch)
    await enforcer.buildRoleLinks()
    return new CasbinAuthorizer(enforcer, source)
  }

  get version(): string {
    return this.source.version
  }

  /** Decides one fact for one role, without the multi-role combination. */
  decideForRole(role: string, domain: string, object: string, action: string): FactAnswer {
    const key = `${role}\0${domain}\0${object}\0${action}`
    const known = this.#memo.get(key)
    if (known !== undefined) return known

    const [allowed, fields] = this.#enforcer.enforceExSync(role, domain, object, action)
    let answer = NO_MATCH
    if (fields.length > 0) {
      answer = Object.freeze({
        effect: allowed ? 'allow' : 'deny',
        rule: formatRule(fields),
        fields: Object.freeze([...fields]),
      })
    }

    if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear()
    this.#memo.set(key, answer)
    return answer
  }

  /** Decides one fact for a set of roles: any deny wins, then any allow, else no match. */
  decide(roles: readonly string[], domain: string, object: string, action: string): FactAnswer {
    let allow: FactAnswer | undefined
    for (const role of roles) {
      const answer = this.decideForRole(role, domain, object, action)
      if (answer.effect === 'deny') return answer
      if (answer.effect === 'allow' && allow === undefined) allow = answer
    }
    return allow ?? NO_MATCH
  }

  /** Line number (1-based) of a rule in policy.csv, when it was read from there. */
  lineOf(rule: string): number | undefined {
    return this.#lineNumbers.get(rule)
  }

  /** Every `p` line as fields, for lint and explain. */
  policyLines(): Promise<string[][]> {
    return this.#enforcer.getPolicy()
  }

  /** Every `g` line as fields. */
  roleLines(): Promise<string[][]> {
    return this.#enforcer.getGroupingPolicy()
  }
}

function formatRule(fields: readonly string[]): string {
  return formatPolicyRule(fields)
}

/** Maps each `p` line's canonical text to its first line number. */
function indexLines(policy: string): Map<string, number> {
  const lines = new Map<string, number>()
  for (const line of parsePolicyCsv(policy)) {
    const rule = formatPolicyRule(line.fields)
    if (line.type === 'p' && !lines.has(rule)) lines.set(rule, line.line)
  }
  return lines
}
