/**
 * Engine check throughput. "Cold" means the decision cache is off, so every check parses,
 * extracts and authorizes; it is measured with the Casbin answer memo warm (the steady state of
 * a running service) and with a fresh memo per pass (right after start or a policy reload).
 * "Warm" means the same SQL text, roles and policy version again, answered by the decision cache.
 * Cold checks are compared with the raw parser in interleaved rounds, so load changes on the
 * machine affect both sides of the ratio alike.
 */

import { CasbinAuthorizer } from '../src/authorize/casbin-authorizer.js'
import { createLibpgQueryFrontEnd } from '../src/dialect/postgres/libpg-query-front-end.js'
import { createPolicyEngine } from '../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../src/engine/policy-engine.js'
import type { Dialect, SqlFrontEnd } from '../src/parse/front-end.js'
import type { Corpus } from './corpora.js'
import { interleaveRounds, sampleRate, summarize, type Budget, type Rate } from './harness.js'
import { accepts, type ParserUnderTest } from './parsers.js'

/** Roles of the checks: a writer, so most of the corpus is allowed and every fact is asked. */
export const CHECK_ROLES: readonly string[] = ['sql-write']

export interface ColdCheckResult {
  readonly dialect: Dialect
  readonly frontEnd: string
  readonly corpus: string
  readonly statements: number
  readonly rawParser: string
  readonly raw: Rate
  /** Parse and extract only (`engine.analyze`), no authorization, for the cost breakdown. */
  readonly analyze: Rate
  /** `analyze / raw` per round. */
  readonly analyzeRatio: Rate
  /** Decision cache off, Casbin memo warm. */
  readonly memoWarm: Rate
  /** `memoWarm / raw` per round. */
  readonly memoWarmRatio: Rate
  /** Decision cache off, a new authorizer (empty memo) for every pass over the corpus. */
  readonly memoCold: Rate | null
  readonly denied: number
}

export interface WarmCheckResult {
  readonly label: string
  readonly rate: Rate
}

export interface EngineCheckResults {
  readonly cold: readonly ColdCheckResult[]
  readonly warm: readonly WarmCheckResult[]
  /** Reason the T-SQL cold check was not measured, or `null` when it was. */
  readonly mssqlSkipped: string | null
}

function checkAll(engine: PolicyEngine, dialect: Dialect, statements: readonly string[]): number {
  let denied = 0
  for (const sql of statements) {
    if (!engine.check({ dialect, roles: CHECK_ROLES, sql }).allowed) denied += 1
  }
  return denied
}

function analyzeAll(engine: PolicyEngine, dialect: Dialect, statements: readonly string[]): void {
  for (const sql of statements) {
    try {
      engine.analyze(dialect, sql)
    } catch {
      // A statement the front end rejects is denied by a check; its cost counts here too.
    }
  }
}

function parseAll(parser: ParserUnderTest, statements: readonly string[]): void {
  for (const sql of statements) {
    try {
      parser.parse(sql)
    } catch {
      // Rejected statements cost time too.
    }
  }
}

async function measureCold(
  engine: PolicyEngine,
  dialect: Dialect,
  parser: ParserUnderTest,
  corpus: Corpus,
  statements: readonly string[],
  budget: Budget,
): Promise<ColdCheckResult> {
  const denied = checkAll(engine, dialect, statements)
  const rounds = await interleaveRounds(
    {
      raw: () => parseAll(parser, statements),
      analyze: () => analyzeAll(engine, dialect, statements),
      check: () => checkAll(engine, dialect, statements),
    },
    statements.length,
    budget.quick ? { rounds: 2, warmup: 1 } : { rounds: 41, warmup: 5 },
  )

  // A fresh authorizer per pass: the memo starts empty and Casbin decides every fact once.
  const coldRates: number[] = []
  const passes = budget.quick ? 1 : 5
  const source = engine.authorizer.source
  for (let pass = 0; pass < passes; pass += 1) {
    engine.setAuthorizer(await CasbinAuthorizer.create(source))
    const start = performance.now()
    checkAll(engine, dialect, statements)
    coldRates.push(statements.length / ((performance.now() - start) / 1000))
  }

  return {
    dialect,
    frontEnd: engine.frontEnd(dialect)?.name ?? 'none',
    corpus: corpus.name,
    statements: statements.length,
    rawParser: parser.name,
    raw: rounds.rates.raw,
    analyze: rounds.rates.analyze,
    analyzeRatio: rounds.ratio('analyze', 'raw'),
    memoWarm: rounds.rates.check,
    memoWarmRatio: rounds.ratio('check', 'raw'),
    memoCold: summarize(coldRates),
    denied,
  }
}

/** Loads the T-SQL front end when the installed source tree has one. */
async function loadMssqlFrontEnd(): Promise<SqlFrontEnd | string> {
  try {
    const module = (await import('../src/dialect/mssql/mssql-front-end.js')) as {
      createMssqlFrontEnd?: () => SqlFrontEnd
    }
    if (typeof module.createMssqlFrontEnd !== 'function') return 'createMssqlFrontEnd does not exist'
    return module.createMssqlFrontEnd()
  } catch (error) {
    return `the T-SQL front end failed to load: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** Measures cold and warm checks on the application corpora. */
export async function measureEngineChecks(
  parsers: readonly ParserUnderTest[],
  corpora: readonly Corpus[],
  budget: Budget,
  log: (line: string) => void,
): Promise<EngineCheckResults> {
  const cold: ColdCheckResult[] = []
  const postgres = await createLibpgQueryFrontEnd()
  const mssql = await loadMssqlFrontEnd()
  const frontEnds = { postgres, ...(typeof mssql === 'string' ? {} : { mssql }) }
  const coldEngine = await createPolicyEngine({ cache: false, frontEnds })

  const pgApp = corpora.find((corpus) => corpus.name === 'pg_app')
  const libpgQuery = parsers.find((parser) => parser.name === 'libpg-query')
  if (pgApp !== undefined && libpgQuery !== undefined) {
    const result = await measureCold(coldEngine, 'postgres', libpgQuery, pgApp, pgApp.statements, budget)
    log(`  cold check postgres: ${Math.round(result.memoWarm.median)}/s, ${result.memoWarmRatio.median.toFixed(2)}x raw`)
    cold.push(result)
  }

  let mssqlSkipped: string | null = typeof mssql === 'string' ? mssql : null
  const tsqlApp = corpora.find((corpus) => corpus.name === 'tsql_app')
  const transactsql = parsers.find((parser) => parser.name === 'node-sql-parser (transactsql)')
  if (mssqlSkipped === null && tsqlApp !== undefined && transactsql !== undefined) {
    // Both sides run the statements the raw parser accepts, so the ratio compares like with like.
    const accepted = tsqlApp.statements.filter((sql) => accepts(transactsql, sql))
    const result = await measureCold(coldEngine, 'mssql', transactsql, tsqlApp, accepted, budget)
    log(`  cold check mssql: ${Math.round(result.memoWarm.median)}/s, ${result.memoWarmRatio.median.toFixed(2)}x raw`)
    cold.push(result)
  } else if (mssqlSkipped === null) {
    mssqlSkipped = 'the T-SQL corpus or node-sql-parser is missing'
  }

  const warm: WarmCheckResult[] = []
  const warmEngine = await createPolicyEngine({ frontEnds })
  const pointSelect = 'SELECT id, balance FROM accounts WHERE id = $1'
  const repeat = 10_000
  warmEngine.check({ dialect: 'postgres', roles: CHECK_ROLES, sql: pointSelect })
  warm.push({
    label: 'one point select, repeated',
    rate: await sampleRate(
      () => {
        for (let index = 0; index < repeat; index += 1) {
          warmEngine.check({ dialect: 'postgres', roles: CHECK_ROLES, sql: pointSelect })
        }
      },
      repeat,
      budget,
    ),
  })
  // A service decodes each request into a new string, whose hash V8 has not computed yet. The
  // JSON.parse that makes the new string is timed too, so this figure is a lower bound.
  const quoted = JSON.stringify(pointSelect)
  warm.push({
    label: 'one point select, a new string each check',
    rate: await sampleRate(
      () => {
        for (let index = 0; index < repeat; index += 1) {
          const sql = JSON.parse(quoted) as string
          warmEngine.check({ dialect: 'postgres', roles: CHECK_ROLES, sql })
        }
      },
      repeat,
      budget,
    ),
  })
  if (pgApp !== undefined) {
    checkAll(warmEngine, 'postgres', pgApp.statements)
    warm.push({
      label: `${pgApp.name}, every statement cached`,
      rate: await sampleRate(
        () => checkAll(warmEngine, 'postgres', pgApp.statements),
        pgApp.statements.length,
        budget,
      ),
    })
  }
  for (const result of warm) log(`  warm check (${result.label}): ${Math.round(result.rate.median)}/s`)

  return { cold, warm, mssqlSkipped }
}
