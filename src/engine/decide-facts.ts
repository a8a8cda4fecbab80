/**
 * Turns extracted facts into policy questions and collects the answers. The floor comes first
 * and is decided without the policy, except for a liftable rule that a policy line names exactly.
 */

import {
  factKey,
  type CasbinAuthorizer,
  type FactAnswer,
  type RoleSetDecider,
} from '../authorize/casbin-authorizer.js'
import type { Decision, Grant } from '../authorize/decision.js'
import { columnObject, functionObject, tableObject } from '../authorize/policy-objects.js'
import { columnRulesOf } from '../authorize/column-rule-index.js'
import type { CatalogTable, ColumnCatalog } from '../catalog/column-catalog.js'
import { CatalogUnavailable, type Denial } from '../errors.js'
import type { ColumnFact, FloorFact, RequestFacts, TableFact } from '../extract/statement-facts.js'
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
  'stored-code',
  'server-processes',
  'denial-of-service',
  'multiple-statements',
]

/** PostgreSQL catalog relations that show column values as planner statistics. */
const STATISTICS_RELATIONS = new Set([
  'pg_stats',
  'pg_stats_ext',
  'pg_stats_ext_exprs',
  'pg_statistic',
  'pg_statistic_ext',
  'pg_statistic_ext_data',
])

/**
 * Schema an unqualified table resolves to. PostgreSQL searches pg_catalog before the
 * search_path, and every catalog relation is named pg_*, so such a name is checked there.
 */
function schemaOf(table: TableFact, dialect: string, defaultSchema: string): string {
  if (table.schema !== null) return table.schema
  return dialect === 'postgres' && table.name.startsWith('pg_') ? 'pg_catalog' : defaultSchema
}

/**
 * Every schema an unqualified table may resolve to, each of which must allow the access: the
 * search_path schemas, and pg_catalog first for a pg_* name, which may also be a user table.
 */
function schemasOf(
  table: TableFact,
  dialect: string,
  defaultSchema: string,
  otherSchemas: readonly string[],
): readonly string[] {
  if (table.schema !== null) return [table.schema]
  const searched = otherSchemas.length === 0 ? [defaultSchema] : [defaultSchema, ...otherSchemas]
  return dialect === 'postgres' && table.name.startsWith('pg_') ? ['pg_catalog', ...searched] : searched
}

/**
 * PostgreSQL views of the connection's own session objects. Prepared statements and cursors
 * stay on a pooled connection, so these views would show earlier users' SQL texts.
 */
const SESSION_VIEWS = new Set(['pg_prepared_statements', 'pg_cursors'])

function isSessionInspection(table: TableFact, dialect: string): boolean {
  return (
    dialect === 'postgres' &&
    (table.schema === null || table.schema === 'pg_catalog') &&
    SESSION_VIEWS.has(table.name)
  )
}

function isStatisticsRelation(table: TableFact, dialect: string): boolean {
  return (
    dialect === 'postgres' &&
    (table.schema === null || table.schema === 'pg_catalog') &&
    STATISTICS_RELATIONS.has(table.name)
  )
}

/** Policy action that lifts a liftable floor rule. */
export const LIFT_ACTION = 'lift'

export function decideFacts(
  authorizer: CasbinAuthorizer,
  roles: readonly string[],
  domain: string,
  facts: RequestFacts,
  defaultSchema: string,
  catalog: ColumnCatalog | null = null,
  otherSchemas: readonly string[] = [],
): Decision {
  const denials: Denial[] = []
  const grants: Grant[] = []
  const decidedKeys = new Set<string>()
  const decider = authorizer.forRoles(roles, domain)
  const columnRules = columnRulesOf(authorizer)
  const needs = new Map<string, CatalogTable>()

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
  for (const statement of facts.statements) {
    floorFacts.push(...statement.floor)
    for (const table of statement.tables) {
      if (isSessionInspection(table, facts.dialect)) {
        floorFacts.push({ rule: 'session-state', construct: `read of ${table.name}` })
      }
    }
  }
  floorFacts.sort((left, right) => FLOOR_ORDER.indexOf(left.rule) - FLOOR_ORDER.indexOf(right.rule))

  for (const fact of floorFacts) {
    const rule = FLOOR_RULES[fact.rule]
    const object = floorObject(fact.rule)
    const lift = rule.liftable ? findLift(decider, object) : null
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
    const key = factKey(object, action)
    if (decidedKeys.has(key)) return
    decidedKeys.add(key)

    const answer = decider.decideKeyed(key, object, action)
    if (answer.effect === 'allow' && answer.rule !== null) {
      grants.push({ object, action, rule: answer.rule })
    } else if (answer.effect === 'deny' || !denyOnly) {
      denials.push(denialOf(authorizer, answer, object, action, roles))
    }
  }

  for (const statement of facts.statements) {
    for (const table of statement.tables) {
      if (!isStatisticsRelation(table, facts.dialect)) continue
      if (!columnRules.hasColumnDenials(roles, domain)) continue
      denials.push({
        object: tableObject(table, schemaOf(table, facts.dialect, defaultSchema)),
        action: table.action,
        rule: 'column rules',
        reason:
          'planner statistics show sample values of every column, and column deny lines apply ' +
          'to these roles',
      })
    }
  }

  for (const statement of facts.statements) {
    for (const kind of statement.kinds) ask('statement', kind)
    for (const table of statement.tables) {
      for (const schema of schemasOf(table, facts.dialect, defaultSchema, otherSchemas)) {
        ask(tableObject(table, schema), table.action)
      }
    }
    // Columns are governed by deny lines only: access to a table's columns comes with the table.
    for (const column of statement.columns) {
      ask(columnObject(column, defaultSchema), column.action, true)
      if (column.column !== '*') continue

      // `*` hides the column names, so a table with column rules is expanded from the catalog.
      const schema = column.schema ?? defaultSchema
      if (!columnRules.covers(roles, domain, schema, column.table, column.action)) continue
      const names = catalog?.columnsOf(schema, column.table)
      if (names === undefined) {
        needs.set(`${schema}\0${column.table}`, { schema, name: column.table })
        denials.push(catalogDenial(column, defaultSchema))
        continue
      }
      for (const name of names) {
        ask(columnObject({ ...column, column: name }, defaultSchema), column.action, true)
      }
    }
    for (const fn of statement.functions) ask(functionObject(fn), fn.action)
  }

  // When only the catalog is missing, the error is CatalogUnavailable, so a module that can read
  // the catalog can check again with it.
  const onlyCatalog = needs.size > 0 && denials.every((denial) => denial.rule === CATALOG_RULE)
  const error = onlyCatalog
    ? new CatalogUnavailable(
        `the column list of ${needs.size} table(s) with column rules is needed to check * ` +
          'and no catalog snapshot has it',
      )
    : null
  return Object.freeze({
    allowed: denials.length === 0,
    denials: Object.freeze(denials.map((denial) => Object.freeze(denial))),
    grants: Object.freeze(grants.map((grant) => Object.freeze(grant))),
    facts,
    errorCode: denials.length === 0 ? null : (error?.code ?? 'ERR_ACCESS_DENIED'),
    error,
    policyVersion: authorizer.version,
    catalogNeeds: Object.freeze([...needs.values()]),
  })
}

/** Rule named in the denial of `*` over a table whose columns the catalog did not supply. */
export const CATALOG_RULE = 'catalog-unavailable'

function catalogDenial(column: ColumnFact, defaultSchema: string): Denial {
  const table = tableObject({ ...column, name: column.table, action: 'select' }, defaultSchema)
  return {
    object: columnObject(column, defaultSchema),
    action: column.action,
    rule: CATALOG_RULE,
    reason: `${table} has column rules, so * needs its column list, and no catalog is available`,
  }
}

/**
 * Finds a line that lifts a floor rule. Only a line whose object is exactly `floor:<rule>` and
 * whose action is exactly `lift` counts, so `p, admin, *, *, *, allow` lifts nothing.
 */
function findLift(decider: RoleSetDecider, object: string): string | null {
  const answer = decider.decide(object, LIFT_ACTION)
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
