/**
 * N-version analysis: two PostgreSQL front ends with independent grammars read the same text and
 * the request is allowed only when their facts agree. A defect in one parser (a comment read as a
 * string start, a node the extractor skips) then shows up as a disagreement and a denial instead
 * of a bypass.
 *
 * The cross-check fails closed. When either front end cannot analyze the text (parse failure,
 * unsupported construct, input over its limit), the request is denied with that front end's
 * error, even when the other one could analyze it. The price is precision: the cross-check denies
 * everything the weaker parser does not cover.
 */

import { SqlUnsupported } from '../../errors.js'
import type { RequestFacts, StatementFacts } from '../../extract/statement-facts.js'
import type { SqlFrontEnd } from '../../parse/front-end.js'

/** A difference between the facts of two front ends. */
export interface FactDisagreement {
  /** The aspect that differs: the statement count, kinds, tables, columns, functions or floor. */
  readonly aspect: 'statement count' | 'kinds' | 'tables' | 'columns' | 'functions' | 'floor'
  /** Zero-based statement index, or `null` for the statement count. */
  readonly statement: number | null
  /** Items only the first front end reported. */
  readonly onlyFirst: readonly string[]
  /** Items only the second front end reported. */
  readonly onlySecond: readonly string[]
}

/** Compares two analyses of the same text and returns the first difference, or `null`. */
export function compareFacts(first: RequestFacts, second: RequestFacts): FactDisagreement | null {
  if (first.statements.length !== second.statements.length) {
    return {
      aspect: 'statement count',
      statement: null,
      onlyFirst: [String(first.statements.length)],
      onlySecond: [String(second.statements.length)],
    }
  }
  for (const [index, statement] of first.statements.entries()) {
    const other = second.statements[index] as StatementFacts
    for (const [aspect, describe] of ASPECTS) {
      const left = new Set(describe(statement))
      const right = new Set(describe(other))
      const onlyFirst = [...left].filter((item) => !right.has(item)).sort()
      const onlySecond = [...right].filter((item) => !left.has(item)).sort()
      if (onlyFirst.length > 0 || onlySecond.length > 0) {
        return { aspect, statement: index, onlyFirst, onlySecond }
      }
    }
  }
  return null
}

const qualified = (item: { schema: string | null; name: string }): string =>
  item.schema === null ? item.name : `${item.schema}.${item.name}`

const ASPECTS: readonly (readonly [
  FactDisagreement['aspect'],
  (statement: StatementFacts) => readonly string[],
])[] = [
  ['kinds', (statement) => [`top:${statement.kind}`, ...statement.kinds]],
  ['tables', (statement) => statement.tables.map((table) => `${qualified(table)}:${table.action}`)],
  [
    'columns',
    (statement) =>
      statement.columns.map(
        (column) =>
          `${qualified({ schema: column.schema, name: column.table })}.${column.column}` +
          `:${column.action}`,
      ),
  ],
  ['functions', (statement) => statement.functions.map((fn) => `${qualified(fn)}:${fn.action}`)],
  ['floor', (statement) => statement.floor.map((fact) => fact.rule)],
]

/** Describes a disagreement in words, naming both front ends: identifiers, never values. */
export function describeDisagreement(
  disagreement: FactDisagreement,
  firstName: string,
  secondName: string,
): string {
  const where = disagreement.statement === null ? '' : ` of statement ${disagreement.statement + 1}`
  const list = (items: readonly string[]): string =>
    items.length === 0 ? 'nothing' : items.join(', ')
  return (
    `${firstName} and ${secondName} disagree on the ${disagreement.aspect}${where}: ` +
    `${firstName} found ${list(disagreement.onlyFirst)}, ` +
    `${secondName} found ${list(disagreement.onlySecond)}`
  )
}

/** Name of the cross-check front end in facts and errors. */
export const CROSS_CHECK_FRONT_END = 'cross-check'

/**
 * Creates a front end that runs `primary` and `secondary` on every text and returns the primary's
 * facts when both agree. A disagreement raises `SqlUnsupported` whose construct starts with
 * `front-end disagreement`; a failure of either front end raises that front end's error.
 */
export function createCrossCheckFrontEnd(
  primary: SqlFrontEnd,
  secondary: SqlFrontEnd,
): SqlFrontEnd {
  if (primary.dialect !== secondary.dialect) {
    throw new TypeError('the cross-checked front ends must analyze the same dialect')
  }
  const name = `${CROSS_CHECK_FRONT_END}(${primary.name}, ${secondary.name})`
  const analyze = (sql: string): RequestFacts => {
    const first = primary.analyze(sql)
    const second = secondary.analyze(sql)
    const disagreement = compareFacts(first, second)
    if (disagreement !== null) {
      throw new SqlUnsupported(
        CROSS_CHECK_FRONT_END,
        `front-end disagreement on ${disagreement.aspect}`,
        describeDisagreement(disagreement, primary.name, secondary.name),
      )
    }
    return Object.freeze({ ...first, frontEnd: name })
  }

  const frontEnd: SqlFrontEnd = { name, dialect: primary.dialect, analyze }
  const fingerprint = primary.fingerprint
  return Object.freeze(fingerprint === undefined ? frontEnd : { ...frontEnd, fingerprint })
}
