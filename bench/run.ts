/**
 * Runs the benchmark suite: parsers, engine checks, authorization against policy size, delegated
 * queries and memory on large statements. A full run writes BENCHMARKS.md and the charts in
 * docs/, with the raw results in docs/bench-results.json; a quick run (`--quick`) only checks
 * that everything runs and writes nothing unless `--write` is given. `--render` rewrites the
 * report and charts from docs/bench-results.json without measuring.
 *
 * Usage: npm run bench [-- --quick] [--write | --no-write] [--render]
 *   [--only=parsers,engine,policy,delegation,memory]
 */

import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem, type } from 'node:os'
import { join } from 'node:path'

import { readCorpora, REPOSITORY_ROOT } from './corpora.js'
import { measureDelegation } from './delegation.js'
import { measureEngineChecks } from './engine-check.js'
import type { Budget } from './harness.js'
import { measureMemory } from './memory.js'
import { measureParsers } from './parser-throughput.js'
import { loadParsers, packageVersion } from './parsers.js'
import { measurePolicySizes } from './policy-size.js'
import { renderReport, type BenchReport } from './report.js'
import { renderBarChart, type Bar } from './svg-chart.js'

const SECTIONS = ['parsers', 'engine', 'policy', 'delegation', 'memory'] as const
type Section = (typeof SECTIONS)[number]

interface Options {
  readonly quick: boolean
  readonly write: boolean
  readonly render: boolean
  readonly only: ReadonlySet<Section>
}

function parseOptions(args: readonly string[]): Options {
  let quick = false
  let render = false
  let write: boolean | undefined
  let only = new Set<Section>(SECTIONS)
  for (const arg of args) {
    if (arg === '--quick') quick = true
    else if (arg === '--write') write = true
    else if (arg === '--no-write') write = false
    else if (arg === '--render') render = true
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',').filter((name) => name !== '')
      const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name))
      if (unknown.length > 0) {
        throw new TypeError(`unknown section ${unknown.join(', ')}; expected ${SECTIONS.join(', ')}`)
      }
      only = new Set(names as Section[])
    } else {
      throw new TypeError(
        `unknown option ${arg}; expected --quick, --write, --no-write, --render or --only=...`,
      )
    }
  }
  return { quick, write: write ?? !quick, render, only }
}

function log(line: string): void {
  process.stdout.write(`${line}\n`)
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPOSITORY_ROOT })
      .toString()
      .trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: REPOSITORY_ROOT,
    })
      .toString()
      .trim()
    return dirty === '' ? commit : `${commit} with uncommitted changes`
  } catch {
    return 'unknown'
  }
}

const RESULTS_PATH = join(REPOSITORY_ROOT, 'docs', 'bench-results.json')

/** Writes the report, both charts and the raw results. */
function writeOutputs(report: BenchReport): void {
  writeFileSync(join(REPOSITORY_ROOT, 'BENCHMARKS.md'), renderReport(report))
  mkdirSync(join(REPOSITORY_ROOT, 'docs'), { recursive: true })
  writeFileSync(join(REPOSITORY_ROOT, 'docs', 'bench-parsers.svg'), parserChart(report))
  writeFileSync(join(REPOSITORY_ROOT, 'docs', 'bench-delegation.svg'), delegationChart(report))
  writeFileSync(RESULTS_PATH, `${JSON.stringify(report, null, 2)}\n`)
  log('wrote BENCHMARKS.md, docs/bench-parsers.svg, docs/bench-delegation.svg and docs/bench-results.json')
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2))
  if (options.render) {
    writeOutputs(JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as BenchReport)
    return 0
  }
  const budget: Budget = { quick: options.quick }
  const started = performance.now()
  const loadBefore = loadavg()[0] ?? 0
  const failures: { section: string; message: string }[] = []

  // Runs one section; a failure is reported and the other sections still run.
  const section = async <Result>(name: Section, run: () => Promise<Result>): Promise<Result | null> => {
    if (!options.only.has(name)) return null
    log(`${name}:`)
    try {
      return await run()
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      log(`  failed: ${message}`)
      failures.push({ section: name, message })
      return null
    }
  }

  // A quick run takes an even sample of each corpus, so that the slowest parser stays in budget.
  const { corpora, missing: missingCorpora } = options.quick
    ? readCorpora(30, 50)
    : readCorpora(Number.POSITIVE_INFINITY, 2000)
  for (const corpus of missingCorpora) log(`corpus ${corpus.name} skipped: ${corpus.reason}`)
  const { parsers, missing: missingParsers } = await loadParsers()
  for (const parser of missingParsers) log(`parser ${parser.name} skipped: ${parser.reason}`)

  const parserResults = await section('parsers', () => measureParsers(parsers, corpora, budget, log))
  const engine = await section('engine', () => measureEngineChecks(parsers, corpora, budget, log))
  const pgApp = corpora.find((corpus) => corpus.name === 'pg_app')
  const policy = await section('policy', async () => {
    if (pgApp === undefined) throw new Error('the pg_app corpus is missing')
    return measurePolicySizes(pgApp, budget, log)
  })
  const delegation = await section('delegation', () => measureDelegation(budget, log))
  const memory = await section('memory', () => measureMemory(budget, log))

  const cpuList = cpus()
  const report: BenchReport = {
    date: new Date().toISOString(),
    quick: options.quick,
    durationSeconds: (performance.now() - started) / 1000,
    commit: gitCommit(),
    machine: {
      cpu: cpuList[0]?.model.trim() ?? 'unknown',
      cores: cpuList.length,
      memoryGiB: totalmem() / 1024 ** 3,
      os: `${type()} ${release()}`,
      node: process.version,
      loadBefore,
      loadAfter: loadavg()[0] ?? 0,
    },
    versions: Object.fromEntries(
      ['libpg-query', 'node-sql-parser', 'pgsql-ast-parser', 'casbin', 'pg', '@electric-sql/pglite', 'mitata'].map(
        (name) => [name, packageVersion(name)],
      ),
    ),
    corpora: corpora.map((corpus) => ({
      name: corpus.name,
      source: corpus.source,
      statements: corpus.statements.length,
      total: corpus.totalStatements,
    })),
    missingCorpora,
    missingParsers,
    parsers: parserResults,
    engine,
    policy,
    delegation,
    memory,
    failures,
  }

  if (options.write) writeOutputs(report)
  log(`done in ${Math.round(report.durationSeconds)} s${failures.length === 0 ? '' : `, ${failures.length} section(s) failed`}`)
  return failures.length === 0 ? 0 : 1
}

/** Throughput per parser on the application corpora, with the engine's cold checks beside them. */
function parserChart(report: BenchReport): string {
  const bars: Bar[] = []
  for (const result of report.parsers ?? []) {
    if (result.corpus === 'pg_regress_dml') continue
    bars.push({
      label: `${result.parser}, ${result.corpus}`,
      value: result.rate.median,
      low: result.rate.low,
      high: result.rate.high,
      note: `, ${((100 * result.rejected) / Math.max(result.statements, 1)).toFixed(1)}% rejected`,
    })
  }
  for (const result of report.engine?.cold ?? []) {
    bars.push({
      label: `sqlgate check (${result.dialect}), ${result.corpus}`,
      value: result.memoWarm.median,
      low: result.memoWarm.low,
      high: result.memoWarm.high,
      note: `, ${result.memoWarmRatio.median.toFixed(2)}x raw`,
    })
  }
  return renderBarChart({
    title: 'Statements per second: parsers and cold engine checks',
    unit: 'statements/s',
    bars,
    logScale: true,
  })
}

/** Delegated point selects against plain queries. */
function delegationChart(report: BenchReport): string {
  const delegation = report.delegation
  const bars: Bar[] = (delegation?.variants ?? []).map((variant) => ({
    label: variant.name,
    value: variant.rate.median,
    low: variant.rate.low,
    high: variant.rate.high,
    note: `, ${variant.ratio.median.toFixed(2)}x plain`,
  }))
  const where = delegation?.server === 'embedded' ? ' (embedded PGlite)' : ''
  return renderBarChart({ title: `Point selects per second${where}`, unit: 'q/s', bars })
}

process.exitCode = await main()
