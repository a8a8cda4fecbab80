/**
 * Casbin behind a typed facade. This is the only file that imports `casbin`.
 *
 * A subject holding several roles is decided per fact: the fact is denied when any role's
 * lines deny it, allowed when at least one role's lines allow it and none deny it, and denied
 * when no line matches. Answers are memoized per (role, domain, object, action) and the memo
 * belongs to one loaded policy, so a new policy version never sees an old answer.
 */

import {
  newEnforcer,
  newModelFromString,
  StringAdapter,
  Util,
  type Adapter,
  type Enforcer,
  type Model,
} from 'casbin'

import { PolicyInvalid } from '../errors.js'
import {
  createCanonicalPolicySource,
  type PolicyRule,
  type PolicySource,
} from '../policy/policy-source.js'

/** A Casbin storage adapter, such as casbin-pg-adapter's `PostgresAdapter`. */
export type CasbinAdapter = Adapter
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

  /**
   * Loads the lines an adapter stores and builds the authorizer from them. The version is the hash
   * of the model and the sorted, de-duplicated lines, so every instance that reads the same lines
   * with the same model computes the same version, whatever order the store returns them in.
   * @throws PolicyInvalid when the model or the lines fail to load; the adapter's own error when
   *   it cannot read its store.
   */
  static async fromAdapter(
    model: string,
    adapter: CasbinAdapter,
    origin: string,
  ): Promise<CasbinAuthorizer> {
    let casbinModel: Model
    try {
      casbinModel = newModelFromString(model)
    } catch (error) {
      throw new PolicyInvalid(`model for ${origin} failed to load`, [String(error)], { cause: error })
    }
    await adapter.loadPolicy(casbinModel)
    return CasbinAuthorizer.create(createCanonicalPolicySource(model, rulesOf(casbinModel), origin))
  }

  get version(): string {
    return this.source.version
  }

  /** Replaces every line that `adapter` stores with this policy's lines. */
  savePolicyTo(adapter: CasbinAdapter): Promise<boolean> {
    return adapter.savePolicy(this.#enforcer.getModel())
  }

  /** Returns every loaded `p` and `g` line, of every named type such as `g2`, with its type. */
  policyRules(): PolicyRule[] {
    return rulesOf(this.#enforcer.getModel())
  }

  /**
   * Field count of each policy type the model defines, for example `p` 5 and `g` 3. A line with
   * another count, or of a type not listed, is not what the model expects.
   */
  policyDefinitions(): Map<string, PolicyDefinition> {
    const definitions = new Map<string, PolicyDefinition>()
    const model = this.#enforcer.getModel().model
    for (const [ptype, assertion] of model.get('p') ?? []) {
      const effectIndex = effectIndexOf(assertion.tokens, ptype)
      definitions.set(ptype, { fieldCount: assertion.tokens.length, effectIndex })
    }
    for (const [ptype, assertion] of model.get('g') ?? []) {
      const fieldCount = assertion.value.split(',').filter((field) => field.trim() === '_').length
      definitions.set(ptype, { fieldCount, effectIndex: null })
    }
    return definitions
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

/** Shape of one policy type's lines, as the model defines it. */
export interface PolicyDefinition {
  readonly fieldCount: number
  /** Position of the `eft` field among the line's fields, or `null` when there is none. */
  readonly effectIndex: number | null
}

function effectIndexOf(tokens: readonly string[], ptype: string): number | null {
  const index = tokens.indexOf(`${ptype}_eft`)
  return index < 0 ? null : index
}

function rulesOf(model: Model): PolicyRule[] {
  const rules: PolicyRule[] = []
  for (const section of ['p', 'g']) {
    for (const [ptype, assertion] of model.model.get(section) ?? []) {
      for (const fields of assertion.policy) rules.push({ ptype, fields: [...fields] })
    }
  }
  return rules
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
