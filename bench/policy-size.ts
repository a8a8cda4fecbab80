/**
 * Authorization cost against policy size. Casbin's `enforceSync` matches a request against every
 * `p` line, so its cost grows with the policy; sqlgate memoizes answers per role set, domain,
 * object and action, so a warm check should cost the same whatever the size. Policies of each
 * size are the shipped ladder plus generated lines for other roles, so every size gives the
 * same decisions for the measured roles.
 */

import { readFileSync } from 'node:fs'

import { newEnforcer, newModelFromString, StringAdapter, Util } from 'casbin'

import { CasbinAuthorizer } from '../src/authorize/casbin-authorizer.js'
import { createLibpgQueryFrontEnd } from '../src/dialect/postgres/libpg-query-front-end.js'
import { decideFacts } from '../src/engine/decide-facts.js'
import type { RequestFacts } from '../src/extract/statement-facts.js'
import { createPolicySource, type PolicySource } from '../src/policy/policy-source.js'
import { sampleEvenly, type Corpus } from './corpora.js'
import { interleaveRounds, sampleRate, summarize, type Budget, type Rate } from './harness.js'
import { CHECK_ROLES } from './engine-check.js'

/** Policy sizes measured, in `p` lines. */
export const POLICY_SIZES: readonly number[] = [100, 500, 2000]

export interface PolicySizeResult {
  readonly lines: number
  /** Casbin `enforceSync` without any memo, calls per second. */
  readonly enforce: Rate
  /** Statements of the corpus authorized per second with the memo warm (facts already known). */
  readonly warm: Rate
  /** `warm` of this size divided by `warm` of the smallest size, per round. */
  readonly warmRatio: Rate
  /** Statements authorized per second with a new, empty memo for each pass over a sample. */
  readonly cold: Rate
}

/**
 * Builds a policy with `lines` `p` lines: the shipped ladder first, then lines for generated
 * team roles that the measured roles neither hold nor inherit.
 */
export function generatePolicy(model: string, ladder: string, lines: number): PolicySource {
  const ladderLines = ladder.split('\n').filter((line) => line.trim().startsWith('p,')).length
  const generated: string[] = []
  const actions = ['select', 'insert', 'update', 'delete']
  for (let index = 0; generated.length < lines - ladderLines; index += 1) {
    const team = `team-${index % 40}`
    const action = actions[index % actions.length] as string
    const effect = index % 10 === 9 ? 'deny' : 'allow'
    generated.push(`p, ${team}, *, table:app_${index % 97}.t${index}, ${action}, ${effect}`)
  }
  return createPolicySource(model, `${ladder}\n${generated.join('\n')}\n`, `generated-${lines}`)
}

/** Requests for raw Casbin calls: distinct table, statement and function facts, at most `limit`. */
function requestsOf(facts: readonly RequestFacts[], limit: number): string[][] {
  const requests = new Map<string, string[]>()
  for (const request of facts) {
    for (const statement of request.statements) {
      for (const kind of statement.kinds) requests.set(`s${kind}`, ['statement', kind])
      for (const table of statement.tables) {
        const object = `table:${table.schema ?? 'public'}.${table.name}`
        requests.set(`t${object}${table.action}`, [object, table.action])
      }
      for (const fn of statement.functions) requests.set(`f${fn.name}`, [`function:${fn.name}`, fn.action])
    }
  }
  return sampleEvenly([...requests.values()], limit)
}

export async function measurePolicySizes(
  corpus: Corpus,
  budget: Budget,
  log: (line: string) => void,
): Promise<PolicySizeResult[]> {
  const model = readFileSync(new URL('../policies/model.conf', import.meta.url), 'utf8')
  const ladder = readFileSync(new URL('../policies/policy.csv', import.meta.url), 'utf8')
  const frontEnd = await createLibpgQueryFrontEnd()
  // Warming the memo of every size runs Casbin once per distinct fact, which takes seconds on
  // the largest policy, so a quick run uses fewer statements.
  const statements = budget.quick ? sampleEvenly(corpus.statements, 15) : corpus.statements
  const facts = statements.map((sql) => frontEnd.analyze(sql))
  // Casbin without a memo takes milliseconds per call on large policies. The raw calls and the
  // empty-memo passes therefore use a sample, and the warm passes use the whole corpus.
  const requests = requestsOf(facts, budget.quick ? 5 : 20)
  const coldFacts = sampleEvenly(facts, budget.quick ? 5 : 30)
  const role = CHECK_ROLES[0] as string

  const sources = POLICY_SIZES.map((lines) => generatePolicy(model, ladder, lines))
  const authorizers = await Promise.all(sources.map((source) => CasbinAuthorizer.create(source)))
  const authorizeAll = (authorizer: CasbinAuthorizer): void => {
    for (const request of facts) decideFacts(authorizer, CHECK_ROLES, 'default', request, 'public')
  }
  for (const authorizer of authorizers) authorizeAll(authorizer)

  const variants = Object.fromEntries(
    authorizers.map((authorizer, index) => [String(POLICY_SIZES[index]), () => authorizeAll(authorizer)]),
  )
  const warm = await interleaveRounds(
    variants,
    facts.length,
    budget.quick ? { rounds: 2, warmup: 1 } : { rounds: 21, warmup: 3 },
  )
  const smallest = String(POLICY_SIZES[0])

  const results: PolicySizeResult[] = []
  for (const [index, lines] of POLICY_SIZES.entries()) {
    const source = sources[index] as PolicySource
    const enforcer = await newEnforcer(newModelFromString(model), new StringAdapter(source.policy))
    enforcer.addNamedDomainMatchingFunc('g', Util.globMatch)
    await enforcer.buildRoleLinks()
    const enforce = await sampleRate(
      () => {
        for (const [object, action] of requests) enforcer.enforceSync(role, 'default', object, action)
      },
      requests.length,
      budget,
    )

    const coldRates: number[] = []
    for (let pass = 0; pass < (budget.quick ? 1 : 3); pass += 1) {
      const fresh = await CasbinAuthorizer.create(source)
      const start = performance.now()
      for (const request of coldFacts) decideFacts(fresh, CHECK_ROLES, 'default', request, 'public')
      coldRates.push(coldFacts.length / ((performance.now() - start) / 1000))
    }

    const result: PolicySizeResult = {
      lines,
      enforce,
      warm: warm.rates[String(lines)] as Rate,
      warmRatio: warm.ratio(String(lines), smallest),
      cold: summarize(coldRates),
    }
    log(
      `  ${lines} lines: enforceSync ${Math.round(enforce.median)}/s, warm ${Math.round(result.warm.median)} statements/s ` +
        `(${result.warmRatio.median.toFixed(2)}x of ${smallest} lines), cold ${Math.round(result.cold.median)}/s`,
    )
    results.push(result)
  }
  return results
}
