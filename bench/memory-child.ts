/**
 * One memory measurement, run in its own process so that its peak resident set size is not mixed
 * with the suite's. Usage: `node --import tsx bench/memory-child.ts <case> <shape> <bytes>`.
 * Prints one JSON line: the case, the statement size, RSS after loading, peak RSS, duration and
 * outcome.
 */

import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { createLibpgQueryFrontEnd } from '../src/dialect/postgres/libpg-query-front-end.js'
import { createPolicyEngine } from '../src/engine/create-policy-engine.js'
import type { SqlFrontEnd } from '../src/parse/front-end.js'

/** Shapes of large statements: a long IN list, and a long chain of ORed conditions. */
export type StatementShape = 'in-list' | 'or-chain'

/** Builds a SELECT of about `bytes` bytes in the given shape, as generated application SQL is. */
export function largeStatement(shape: StatementShape, bytes: number): string {
  const head =
    shape === 'in-list'
      ? 'SELECT id, balance FROM accounts WHERE id IN ('
      : 'SELECT a.id, a.balance FROM accounts a WHERE '
  const separator = shape === 'in-list' ? ', ' : ' OR '
  const parts: string[] = []
  let length = head.length + 1
  for (let value = 1; length < bytes; value += 1) {
    const part = shape === 'in-list' ? String(value) : `(a.id = ${value} AND a.balance > ${value * 3})`
    parts.push(part)
    length += part.length + separator.length
  }
  return `${head}${parts.join(separator)}${shape === 'in-list' ? ')' : ''}`
}

/** Wraps a front end and counts the calls that reach its parser. */
function counting(frontEnd: SqlFrontEnd): { frontEnd: SqlFrontEnd; calls: () => number } {
  let calls = 0
  return {
    frontEnd: {
      name: frontEnd.name,
      dialect: frontEnd.dialect,
      analyze(sql: string) {
        calls += 1
        return frontEnd.analyze(sql)
      },
    },
    calls: () => calls,
  }
}

/**
 * Peak resident set size of this process in bytes. On Linux this is VmHWM, the high-water mark
 * of the process's own memory map: `getrusage` maxRSS would report the parent's size when the
 * parent was larger, because Linux keeps it across the fork and exec that start a child.
 */
function peakRss(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8')
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)
    if (match?.[1] !== undefined) return Number(match[1]) * 1024
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS * 1024
}

async function run(
  kind: string,
  shape: StatementShape,
  bytes: number,
): Promise<Record<string, unknown>> {
  const sql = largeStatement(shape, bytes)
  let work: () => unknown
  let parserCalls: () => number = () => 0

  if (kind === 'engine-idle' || kind === 'engine-check') {
    const counted = counting(await createLibpgQueryFrontEnd())
    parserCalls = counted.calls
    // The parent starts the child in the repository root; a bundled child cannot find the
    // shipped policy from its own location.
    const engine = await createPolicyEngine({
      cache: false,
      frontEnds: { postgres: counted.frontEnd },
      policyDirectory: join(process.cwd(), 'policies'),
    })
    work =
      kind === 'engine-idle'
        ? () => ({ outcome: 'loaded' })
        : () => {
            const decision = engine.check({ dialect: 'postgres', roles: ['sql-read'], sql })
            return { outcome: decision.allowed ? 'allowed' : (decision.errorCode ?? 'denied') }
          }
  } else if (kind === 'libpg-query') {
    const libpgQuery = await import('libpg-query')
    await libpgQuery.loadModule()
    work = () => libpgQuery.parseSync(sql)
  } else if (kind === 'pgsql-ast-parser') {
    const { parse } = await import('pgsql-ast-parser')
    work = () => parse(sql)
  } else if (kind === 'node-sql-parser') {
    const build = (await import('node-sql-parser/build/postgresql.js')).default
    const parser = new build.Parser()
    work = () => parser.astify(sql, { database: 'postgresql' })
  } else {
    throw new TypeError(`unknown memory case "${kind}"`)
  }

  const loadedRss = process.memoryUsage().rss
  const start = performance.now()
  let outcome = 'parsed'
  try {
    const result = work() as { outcome?: unknown } | undefined
    if (typeof result?.outcome === 'string') outcome = result.outcome
  } catch (error) {
    outcome = `threw ${error instanceof Error ? error.name : typeof error}`
  }
  const durationMs = performance.now() - start
  return {
    kind,
    shape,
    bytes: Buffer.byteLength(sql, 'utf8'),
    loadedRssBytes: loadedRss,
    peakRssBytes: peakRss(),
    durationMs,
    outcome,
    parserCalls: parserCalls(),
  }
}

if (process.argv[1] !== undefined && /memory-child\.(ts|mjs)$/.test(process.argv[1])) {
  const [kind = '', shape = 'in-list', bytes = '0'] = process.argv.slice(2)
  if (shape !== 'in-list' && shape !== 'or-chain') throw new TypeError(`unknown shape "${shape}"`)
  process.stdout.write(`${JSON.stringify(await run(kind, shape, Number(bytes)))}\n`)
}
