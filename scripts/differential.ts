/**
 * Differential test of the two PostgreSQL front ends over the statement corpora: where both
 * parse, their facts must agree, and each disagreement must be a known parser defect that the
 * cross-check denies. Prints the report and rewrites the measured part of docs/differential.md.
 *
 * Usage: npx tsx scripts/differential.ts
 * The regression corpus is read from ../shared/corpus/pg_regress_dml.sql relative to the
 * repository root and skipped with a message when it is absent.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

import {
  compareFacts,
  type FactDisagreement,
} from '../src/dialect/postgres/cross-check-front-end.js'
import { createLibpgQueryFrontEnd } from '../src/dialect/postgres/libpg-query-front-end.js'
import { createPgsqlAstFrontEnd } from '../src/dialect/postgres/pgsql-ast-front-end.js'
import { createPolicyEngine } from '../src/engine/create-policy-engine.js'
import { isSqlgateError } from '../src/errors.js'
import type { RequestFacts } from '../src/extract/statement-facts.js'
import type { SqlFrontEnd } from '../src/parse/front-end.js'
import { parseCorpus, type CorpusStatement } from '../test/support/corpus.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
export const APP_CORPUS = `${ROOT}test/fixtures/pg_app.sql`
export const REGRESSION_CORPUS = `${ROOT}../shared/corpus/pg_regress_dml.sql`
const DOC = `${ROOT}docs/differential.md`

/** A parser defect that makes the facts differ, recognized by a pattern over the SQL text. */
interface KnownDefect {
  readonly name: string
  readonly aspect: FactDisagreement['aspect']
  readonly pattern: RegExp
}

/**
 * Disagreements caused by pgsql-ast-parser defects that the extractor cannot correct. Each one
 * makes the two front ends report different facts, so the cross-check denies the statement. The
 * defects the extractor corrects are listed in docs/differential.md. The list is empty while
 * every measured disagreement is corrected; a new entry needs a test of its own.
 */
export const KNOWN_DEFECTS: readonly KnownDefect[] = []

export interface Outcome {
  readonly statement: CorpusStatement
  readonly libpgQuery: RequestFacts | Error
  readonly pgsqlAst: RequestFacts | Error
  /** The first difference when both analyzed the text. */
  readonly disagreement: FactDisagreement | null
  /** The known defect that explains the difference, if any. */
  readonly defect: KnownDefect | null
}

/** Runs both front ends on every statement. */
export function compareCorpus(
  statements: readonly CorpusStatement[],
  libpgQuery: SqlFrontEnd,
  pgsqlAst: SqlFrontEnd,
): Outcome[] {
  const run = (frontEnd: SqlFrontEnd, sql: string): RequestFacts | Error => {
    try {
      return frontEnd.analyze(sql)
    } catch (error) {
      if (!isSqlgateError(error)) throw error
      return error
    }
  }
  return statements.map((statement) => {
    const first = run(libpgQuery, statement.sql)
    const second = run(pgsqlAst, statement.sql)
    const disagreement =
      first instanceof Error || second instanceof Error ? null : compareFacts(first, second)
    const defect =
      disagreement === null
        ? null
        : (KNOWN_DEFECTS.find(
            (known) => known.aspect === disagreement.aspect && known.pattern.test(statement.sql),
          ) ?? null)
    return { statement, libpgQuery: first, pgsqlAst: second, disagreement, defect }
  })
}

/** Returns the construct or error code that explains why a front end failed on a statement. */
export function failureClass(error: Error): string {
  const { construct, code } = error as Error & { construct?: unknown; code?: unknown }
  if (typeof construct === 'string') return construct
  if (code === 'ERR_SQL_PARSE_FAILED') return 'syntax the parser rejects'
  return String(code ?? error.name)
}

interface CorpusReport {
  readonly name: string
  readonly total: number
  readonly agree: number
  readonly disagree: number
  readonly unsupportedLibpgQuery: number
  readonly unsupportedPgsqlAst: number
  readonly defects: ReadonlyMap<string, number[]>
  readonly unexplained: readonly number[]
  readonly libpgQueryClasses: ReadonlyMap<string, number>
  readonly pgsqlAstClasses: ReadonlyMap<string, number>
}

function summarize(name: string, outcomes: readonly Outcome[]): CorpusReport {
  const defects = new Map<string, number[]>()
  const unexplained: number[] = []
  const libpgQueryClasses = new Map<string, number>()
  const pgsqlAstClasses = new Map<string, number>()
  const count = (map: Map<string, number>, key: string): void => {
    map.set(key, (map.get(key) ?? 0) + 1)
  }

  let agree = 0
  for (const outcome of outcomes) {
    const { libpgQuery, pgsqlAst } = outcome
    if (libpgQuery instanceof Error) count(libpgQueryClasses, failureClass(libpgQuery))
    if (pgsqlAst instanceof Error) count(pgsqlAstClasses, failureClass(pgsqlAst))
    if (outcome.libpgQuery instanceof Error || outcome.pgsqlAst instanceof Error) continue
    if (outcome.disagreement === null) {
      agree += 1
    } else if (outcome.defect !== null) {
      const ids = defects.get(outcome.defect.name) ?? []
      defects.set(outcome.defect.name, [...ids, outcome.statement.id])
    } else {
      unexplained.push(outcome.statement.id)
    }
  }
  return {
    name,
    total: outcomes.length,
    agree,
    disagree: [...defects.values()].reduce((sum, ids) => sum + ids.length, 0) + unexplained.length,
    unsupportedLibpgQuery: outcomes.filter((outcome) => outcome.libpgQuery instanceof Error).length,
    unsupportedPgsqlAst: outcomes.filter((outcome) => outcome.pgsqlAst instanceof Error).length,
    defects,
    unexplained,
    libpgQueryClasses,
    pgsqlAstClasses,
  }
}

/** Share of statements that the default engine decides instead of denying as unanalyzable. */
export async function decidedShare(statements: readonly CorpusStatement[]): Promise<number> {
  const engine = await createPolicyEngine({ cache: false })
  const decided = statements.filter((statement) => {
    const decision = engine.check({ dialect: 'postgres', roles: ['admin'], sql: statement.sql })
    return decision.error === null
  })
  return statements.length === 0 ? 1 : decided.length / statements.length
}

/** Ids of the statements that the default engine denies to the admin role. */
export async function adminDenials(statements: readonly CorpusStatement[]): Promise<number[]> {
  const engine = await createPolicyEngine({ cache: false })
  return statements
    .filter((statement) => {
      const decision = engine.check({ dialect: 'postgres', roles: ['admin'], sql: statement.sql })
      return !decision.allowed
    })
    .map((statement) => statement.id)
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`
}

function renderReport(reports: readonly CorpusReport[], extra: readonly string[]): string {
  const lines: string[] = []
  lines.push(
    '| corpus | statements | agree | disagree | unsupported by libpg-query | ' +
      'unsupported by pgsql-ast-parser |',
  )
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: |')
  for (const report of reports) {
    const libpgQuery = report.unsupportedLibpgQuery
    const pgsqlAst = report.unsupportedPgsqlAst
    lines.push(
      `| ${report.name} | ${report.total} | ${report.agree} | ${report.disagree} | ` +
        `${libpgQuery} (${percent(libpgQuery, report.total)}) | ` +
        `${pgsqlAst} (${percent(pgsqlAst, report.total)}) |`,
    )
  }
  lines.push('', ...extra)

  for (const report of reports) {
    lines.push('', `### ${report.name}`, '', 'Disagreement classes:', '')
    if (report.defects.size === 0 && report.unexplained.length === 0) lines.push('- none')
    for (const [name, ids] of report.defects) {
      lines.push(`- ${name}: ${ids.length} (statements ${ids.slice(0, 8).join(', ')})`)
    }
    if (report.unexplained.length > 0) {
      const ids = report.unexplained.slice(0, 20).join(', ')
      lines.push(`- unexplained: ${report.unexplained.length} (statements ${ids})`)
    }
    for (const [label, classes] of [
      ['libpg-query', report.libpgQueryClasses],
      ['pgsql-ast-parser', report.pgsqlAstClasses],
    ] as const) {
      lines.push('', `Unsupported by ${label}, by construct:`, '')
      if (classes.size === 0) lines.push('- none')
      const sorted = [...classes].sort((left, right) => right[1] - left[1])
      for (const [name, count] of sorted) lines.push(`- ${name}: ${count}`)
    }
  }
  return lines.join('\n')
}

const START = '<!-- differential:start -->'
const END = '<!-- differential:end -->'

async function main(): Promise<void> {
  const libpgQuery = await createLibpgQueryFrontEnd()
  const pgsqlAst = createPgsqlAstFrontEnd()
  const corpora: [string, CorpusStatement[]][] = [
    ['pg_app.sql', parseCorpus(readFileSync(APP_CORPUS, 'utf8'))],
  ]
  if (existsSync(REGRESSION_CORPUS)) {
    corpora.push(['pg_regress_dml.sql', parseCorpus(readFileSync(REGRESSION_CORPUS, 'utf8'))])
  } else {
    process.stdout.write(`skipping the regression corpus: ${REGRESSION_CORPUS} is absent\n`)
  }

  const reports = corpora.map(([name, statements]) =>
    summarize(name, compareCorpus(statements, libpgQuery, pgsqlAst)),
  )
  const extra: string[] = []
  for (const [name, statements] of corpora) {
    const share = await decidedShare(statements)
    const percentage = (100 * share).toFixed(2)
    extra.push(`- ${name}: ${percentage}% of the statements get a decision from the default front end.`)
  }
  const [, app] = corpora[0] as [string, CorpusStatement[]]
  const denied = await adminDenials(app)
  extra.push(
    `- pg_app.sql: ${denied.length} statements denied to the admin role ` +
      'with the default front end.',
  )

  const report = renderReport(reports, extra)
  process.stdout.write(`${report}\n`)

  // Only the part between the markers is measured; the rest of the page is written by hand.
  const text = existsSync(DOC)
    ? readFileSync(DOC, 'utf8')
    : `# Differential testing\n\n${START}\n${END}\n`
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start === -1 || end < start) throw new Error(`${DOC} lacks the ${START} and ${END} markers`)
  writeFileSync(DOC, `${text.slice(0, start + START.length)}\n${report}\n${text.slice(end)}`)
  process.stdout.write(`updated ${DOC}\n`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
