/**
 * Turns extracted facts into policy questions and collects the answers. The floor comes first
 * and is decided without the policy, except for a liftable rule that a policy line names exactly.
 */

import type { CasbinAuthorizer, FactAnswer } from '../authorize/casbin-authorizer.js'
import type { Decision, Grant } from '../authorize/decision.js'
import { columnObject, functionObject, tableObject } from '../authorize/policy-objects.js'
import type { Denial } from '../errors.js'
import type { FloorFact, RequestFacts } from '../extract/statement-facts.js'
import { FLOOR_RULES, floorObject, type FloorRuleId } from '../floor/floor-rules.js'

/** Floor rules by severity, so the first denial names the most serious construct. */
const FLOOR_ORDER: readonly FloorRuleId[] = [
  'identity-change',
  'transaction-control',
  'dynamic-sql',
  'server-programs',
  'server-files',
  'remote-access',
  'session-state',
  'server-processes',
  'denial-of-service',
  'multiple-statements',
]

/** Policy action that lifts a liftable floor rule. */
export const LIFT_ACTION = 'lift'

export function decideFacts(
  authorizer: CasbinAuthorizer,
  roles: readonly string[],
  domain: string,
  facts: RequestFacts,
  defaultSchema: string,
): Decision {
  const denials: Denial[] = []
  const grants: Grant[] = []
  const asked = new Set<string>()

  const floorFacts: FloorFact[] = []
  if (facts.statements.length > 1) {
    floorFacts.push({
      rule: 'multiple-statements',
      construct: `${facts.statements.length} statements`,
    })
  }
  if (facts.statements.length === 0) {
    denials.push({
      object: 'sql',
      action: 'analyze',
      rule: 'fail-closed',
      reason: 'the SQL text contains no statement',
    })
  }
  for (const statement of facts.statements) floorFacts.push(...statement.floor)
  floorFacts.sort((left, right) => FLOOR_ORDER.indexOf(left.rule) - FLOOR_ORDER.indexOf(right.rule))

  for (const fact of floorFacts) {
    const rule = FLOOR_RULES[fact.rule]
    const object = floorObject(fact.rule)
    const lift = rule.liftable ? findLift(authorizer, roles, domain, object) : null
    if (lift !== null) {
      grants.push({ object, action: LIFT_ACTION, rule: lift })
      continue
    }
    denials.push({
      object,
      action: LIFT_ACTION,
      rule: object,
      reason: `${fact.construct}: ${rule.reason}`,
    })
  }

  const ask = (object: string, action: string, denyOnly = false): void => {
    const key = `${object}\0${action}`
    if (asked.has(key)) return
    asked.add(key)

    const answer = authorizer.decide(roles, domain, object, action)
    if (answer.effect === 'allow' && answer.rule !== null) {
      grants.push({ object, action, rule: answer.rule })
    } else if (answer.effect === 'deny' || !denyOnly) {
      denials.push(denialOf(authorizer, answer, object, action, roles))
    }
  }

  for (const statement of facts.statements) {
    for (const kind of statement.kinds) ask('statement', kind)
    for (const table of statement.tables) ask(tableObject(table, defaultSchema), table.action)
    // Columns are governed by deny lines only: access to a table's columns comes with the table.
    for (const column of statement.columns) {
      ask(columnObject(column, defaultSchema), column.action, true)
    }
    for (const fn of statement.functions) ask(functionObject(fn), fn.action)
  }

  return Object.freeze({
    allowed: denials.length === 0,
    denials: Object.freeze(denials.map((denial) => Object.freeze(denial))),
    grants: Object.freeze(grants.map((grant) => Object.freeze(grant))),
    facts,
    errorCode: denials.length === 0 ? null : 'ERR_ACCESS_DENIED',
    error: null,
    policyVersion: authorizer.version,
  })
}

/**
 * Finds a line that lifts a floor rule. Only a line whose object is exactly `floor:<rule>` and
 * whose action is exactly `lift` counts, so `p, admin, *, *, *, allow` lifts nothing.
 */
function findLift(
  authorizer: CasbinAuthorizer,
  roles: readonly string[],
  domain: string,
  object: string,
): string | null {
  const answer = authorizer.decide(roles, domain, object, LIFT_ACTION)
  if (answer.effect !== 'allow' || answer.fields === null) return null
  const [, , lineObject, lineAction] = answer.fields
  if (lineObject !== object || lineAction !== LIFT_ACTION) return null
  return answer.rule
}

function denialOf(
  authorizer: CasbinAuthorizer,
  answer: FactAnswer,
  object: string,
  action: string,
  roles: readonly string[],
): Denial {
  if (answer.effect === 'deny' && answer.rule !== null) {
    const line = authorizer.lineOf(answer.rule)
    const where = line === undefined ? '' : ` (policy.csv line ${line})`
    return { object, action, rule: answer.rule, reason: `denied by a policy line${where}` }
  }
  return {
    object,
    action,
    rule: 'no matching allow',
    reason: `no policy line allows ${action} on ${object} for roles ${roles.join(', ')}`,
  }
}
