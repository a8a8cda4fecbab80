/**
 * Casbin behind a typed facade. This is the only file that imports `casbin`.
 *
 * A subject holding several roles is decided per fact: the fact is denied when any role's
 * lines deny it, allowed when at least one role's lines allow it and none deny it, and denied
 * when no line matches.
 *
 * Answers are memoized twice: per role (role, domain, object, action), so Casbin runs once per
 * role and fact, and per role set (the exact role list, domain, object, action), so a warm
 * request costs one map lookup per fact whatever the policy size. Both memos belong to one
 * loaded policy, so a new policy version never sees an old answer, and both are bounded by
 * entries and by key characters.
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

/** Bounds of the two answer memos. Each memo has its own budget of this size. */
export interface AnswerMemoOptions {
  /** Maximum memoized answers per memo. Default 100,000. */
  readonly maxEntries?: number
  /**
   * Maximum total key length per memo, in UTF-16 code units. Role names and object names are
   * part of the keys, so this bounds memory when tokens carry many or long roles. Default 8 Mi.
   */
  readonly maxKeyChars?: number
}

/** Memoized answers for one role list in one domain. Get one from `CasbinAuthorizer.forRoles`. */
export interface RoleSetDecider {
  /** Decides one fact: any deny wins, then any allow, else no match. */
  decide(object: string, action: string): FactAnswer
  /**
   * Decides one fact whose key the caller already built with `factKey`, so that a caller that
   * also keys its own bookkeeping by fact builds the string once.
   */
  decideKeyed(key: string, object: string, action: string): FactAnswer
}

/** The memo key of one fact, as `RoleSetDecider.decideKeyed` expects it. */
export function factKey(object: string, action: string): string {
  return `${object}\0${action}`
}

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
  readonly #lineNumbers: ReadonlyMap<string, number>
  readonly #maxEntries: number
  readonly #maxKeyChars: number
  /** Per-role answers by `role\0domain\0object\0action`, oldest first. */
  readonly #roleMemo = new Map<string, FactAnswer>()
  #roleMemoChars = 0
  /** Per-role-set answers: role set key, then `object\0action`; least recently used set first. */
  readonly #setMemo = new Map<string, Map<string, FactAnswer>>()
  #setMemoEntries = 0
  #setMemoChars = 0
  /** The decider `forRoles` made last, with what it was made for. */
  #lastDecider: {
    readonly domain: string
    readonly roles: readonly string[]
    readonly setKey: string
    readonly state: { answers: Map<string, FactAnswer> }
    readonly decider: RoleSetDecider
  } | null = null
  readonly source: PolicySource

  private constructor(enforcer: Enforcer, source: PolicySource, memo: AnswerMemoOptions) {
    this.#enforcer = enforcer
    this.source = source
    this.#lineNumbers = indexLines(source.policy)
    this.#maxEntries = memo.maxEntries ?? 100_000
    this.#maxKeyChars = memo.maxKeyChars ?? 8 * 1024 * 1024
  }

  /** Loads a policy source into a new enforcer, with empty memos bounded by `memo`. */
  static async create(
    source: PolicySource,
    memo: AnswerMemoOptions = {},
  ): Promise<CasbinAuthorizer> {
    let enforcer: Enforcer
    try {
      const model = newModelFromString(source.model)
      enforcer = await newEnforcer(model, new StringAdapter(source.policy))
    } catch (error) {
      throw new PolicyInvalid(`policy in ${source.origin} failed to load`, [String(error)], {
        cause: error,
      })
    }
    // Casbin compiles the glob pattern again on every call and calls it for every line, so the
    // results are memoized; the function stays pure, so decisions are the same.
    const globMatch = memoizedGlobMatch()
    await enforcer.addFunction('globMatch', globMatch)
    // Domains in `g` lines may be patterns such as `*`, so role links apply across databases.
    enforcer.addNamedDomainMatchingFunc('g', globMatch)
    await enforcer.buildRoleLinks()
    return new CasbinAuthorizer(enforcer, source, memo)
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

  /** Sizes of both memos, for tests and monitoring. */
  get memoStats(): {
    readonly roleEntries: number
    readonly roleKeyChars: number
    readonly roleSets: number
    readonly setEntries: number
    readonly setKeyChars: number
  } {
    return {
      roleEntries: this.#roleMemo.size,
      roleKeyChars: this.#roleMemoChars,
      roleSets: this.#setMemo.size,
      setEntries: this.#setMemoEntries,
      setKeyChars: this.#setMemoChars,
    }
  }

  /** Decides one fact for one role, without the multi-role combination. */
  decideForRole(role: string, domain: string, object: string, action: string): FactAnswer {
    const key = `${role}\0${domain}\0${object}\0${action}`
    const known = this.#roleMemo.get(key)
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

    this.#roleMemo.set(key, answer)
    this.#roleMemoChars += key.length
    while (this.#roleMemo.size > this.#maxEntries || this.#roleMemoChars > this.#maxKeyChars) {
      const oldest = this.#roleMemo.keys().next()
      if (oldest.done === true) break
      this.#roleMemo.delete(oldest.value)
      this.#roleMemoChars -= oldest.value.length
    }
    return answer
  }

  /** Decides one fact for a set of roles: any deny wins, then any allow, else no match. */
  decide(roles: readonly string[], domain: string, object: string, action: string): FactAnswer {
    return this.forRoles(roles, domain).decide(object, action)
  }

  /**
   * Returns the memoized decider of a role list in a domain. The memo key is the list exactly
   * as given (order included, since the first allowing role names the rule), so callers should
   * pass a sorted, de-duplicated list to share entries.
   */
  forRoles(roles: readonly string[], domain: string): RoleSetDecider {
    // Requests mostly come in runs of one role set, so the last decider is reused while its
    // domain and roles are equal (compared by value with a private copy) and its set is live.
    const last = this.#lastDecider
    if (
      last !== null &&
      last.domain === domain &&
      sameRoles(last.roles, roles) &&
      this.#setMemo.get(last.setKey) === last.state.answers
    ) {
      this.#touchRoleSet(last.setKey)
      return last.decider
    }

    const setKey = JSON.stringify([domain, roles])
    const frozenRoles = Object.freeze([...roles])
    const state = { answers: this.#touchRoleSet(setKey) }
    const decideKeyed = (key: string, object: string, action: string): FactAnswer => {
      const known = state.answers.get(key)
      if (known !== undefined) return known

      const answer = this.#combine(frozenRoles, domain, object, action)
      // The set may have been evicted since this decider was made; store into a live one.
      if (this.#setMemo.get(setKey) !== state.answers) state.answers = this.#touchRoleSet(setKey)
      state.answers.set(key, answer)
      this.#setMemoEntries += 1
      this.#setMemoChars += key.length
      this.#evictRoleSets(setKey)
      return answer
    }
    const decider: RoleSetDecider = {
      decide: (object: string, action: string) => decideKeyed(factKey(object, action), object, action),
      decideKeyed,
    }
    this.#lastDecider = { domain, roles: frozenRoles, setKey, state, decider }
    return decider
  }

  /** Returns the answers of a role set, created if absent, as the most recently used set. */
  #touchRoleSet(setKey: string): Map<string, FactAnswer> {
    let answers = this.#setMemo.get(setKey)
    if (answers === undefined) {
      answers = new Map()
      this.#setMemoChars += setKey.length
    } else {
      this.#setMemo.delete(setKey)
    }
    this.#setMemo.set(setKey, answers)
    return answers
  }

  /** Drops least recently used role sets until both bounds hold; the current set goes last. */
  #evictRoleSets(currentKey: string): void {
    while (
      this.#setMemoEntries > this.#maxEntries ||
      this.#setMemoChars > this.#maxKeyChars
    ) {
      const oldest = this.#setMemo.entries().next()
      if (oldest.done === true) break
      const [setKey, answers] = oldest.value
      this.#setMemo.delete(setKey)
      this.#setMemoEntries -= answers.size
      this.#setMemoChars -= setKey.length
      for (const factKey of answers.keys()) this.#setMemoChars -= factKey.length
      if (setKey === currentKey) break
    }
  }

  #combine(roles: readonly string[], domain: string, object: string, action: string): FactAnswer {
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

  /** Returns every `p` line as fields, for lint and explain. */
  policyLines(): Promise<string[][]> {
    return this.#enforcer.getPolicy()
  }

  /** Returns every `g` line as fields. */
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

function sameRoles(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((role, index) => role === right[index])
}

/** Maximum memoized glob results per authorizer; the memo starts over when it is full. */
const GLOB_MEMO_LIMIT = 100_000

/** Casbin's `globMatch` with its results memoized per pattern and value, bounded in entries. */
function memoizedGlobMatch(): (value: string, pattern: string) => boolean {
  const byPattern = new Map<string, Map<string, boolean>>()
  let entries = 0
  return (value: string, pattern: string): boolean => {
    let results = byPattern.get(pattern)
    const known = results?.get(value)
    if (known !== undefined) return known

    const matched = Util.globMatch(value, pattern)
    if (entries >= GLOB_MEMO_LIMIT) {
      byPattern.clear()
      entries = 0
      results = undefined
    }
    if (results === undefined) {
      results = new Map()
      byPattern.set(pattern, results)
    }
    results.set(value, matched)
    entries += 1
    return matched
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

