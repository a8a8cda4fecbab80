/**
 * Memory on large statements. Each measurement runs in a child process (memory-child.ts), so the
 * peak resident set size belongs to that one operation. The engine is measured on a 100 KB
 * statement, and on a 1 MiB one that the size limit must reject before any parser sees it. Raw
 * parsers are measured on the same text for comparison.
 *
 * The child is bundled to plain JavaScript with esbuild (installed with tsx) and run by plain
 * Node, because the tsx loader thread alone adds tens of megabytes to the RSS. When esbuild cannot
 * be loaded, the child runs through tsx and the report says so.
 */

import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import type { Budget } from './harness.js'
import type { StatementShape } from './memory-child.js'

export interface MemoryResult {
  readonly label: string
  readonly kind: string
  readonly shape: StatementShape
  readonly bytes: number
  readonly loadedRssBytes: number
  readonly peakRssBytes: number
  readonly durationMs: number
  readonly outcome: string
  readonly parserCalls: number
}

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url))
const CHILD_TIMEOUT_MS = 120_000

/** Runtime of the child processes: a bundled script under plain Node, or the source under tsx. */
export interface ChildRuntime {
  readonly label: 'node' | 'node with the tsx loader'
  readonly args: readonly string[]
  dispose(): void
}

/** Bundles the child with esbuild into a temporary directory, or falls back to tsx. */
export async function prepareChildRuntime(): Promise<ChildRuntime> {
  try {
    const esbuild = await import('esbuild')
    // Inside node_modules, so that the bundle's imports of packages resolve as the source's do.
    const cache = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url))
    mkdirSync(cache, { recursive: true })
    const directory = mkdtempSync(join(cache, 'sqlgate-bench-'))
    const outfile = join(directory, 'memory-child.mjs')
    await esbuild.build({
      entryPoints: [CHILD],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    })
    return {
      label: 'node',
      args: [outfile],
      dispose: () => rmSync(directory, { recursive: true, force: true }),
    }
  } catch {
    return { label: 'node with the tsx loader', args: ['--import', 'tsx', CHILD], dispose: () => {} }
  }
}

function runChild(
  runtime: ChildRuntime,
  kind: string,
  shape: StatementShape,
  bytes: number,
): Promise<Omit<MemoryResult, 'label'>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...runtime.args, kind, shape, String(bytes)], {
      cwd: fileURLToPath(new URL('../', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
    })
    let output = ''
    let errors = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8')
    })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const line = output.trim().split('\n').pop() ?? ''
      if (code !== 0 || line === '') {
        reject(new Error(`memory case ${kind} (${shape}) failed: exit ${code ?? signal}: ${errors.slice(-500)}`))
        return
      }
      resolve(JSON.parse(line) as Omit<MemoryResult, 'label'>)
    })
  })
}

/** Statement size of the large-statement target, in bytes. */
export const LARGE_STATEMENT_BYTES = 100 * 1024
/** A size over the engine's default limit of 256 KiB. */
export const OVERSIZED_STATEMENT_BYTES = 1024 * 1024

export async function measureMemory(
  budget: Budget,
  log: (line: string) => void,
): Promise<{ readonly runtime: ChildRuntime['label']; readonly results: MemoryResult[] }> {
  const cases: { label: string; kind: string; shape: StatementShape; bytes: number }[] = [
    { label: 'engine, loaded only', kind: 'engine-idle', shape: 'in-list', bytes: LARGE_STATEMENT_BYTES },
    { label: 'engine check', kind: 'engine-check', shape: 'in-list', bytes: LARGE_STATEMENT_BYTES },
    { label: 'engine check', kind: 'engine-check', shape: 'or-chain', bytes: LARGE_STATEMENT_BYTES },
    { label: 'engine check, over the limit', kind: 'engine-check', shape: 'in-list', bytes: OVERSIZED_STATEMENT_BYTES },
    { label: 'libpg-query parse', kind: 'libpg-query', shape: 'in-list', bytes: LARGE_STATEMENT_BYTES },
    { label: 'libpg-query parse', kind: 'libpg-query', shape: 'or-chain', bytes: LARGE_STATEMENT_BYTES },
  ]
  if (!budget.quick) {
    // These take seconds and hundreds of megabytes, too much for a smoke run.
    for (const shape of ['in-list', 'or-chain'] as const) {
      cases.push({ label: 'node-sql-parser parse', kind: 'node-sql-parser', shape, bytes: LARGE_STATEMENT_BYTES })
      cases.push({ label: 'pgsql-ast-parser parse', kind: 'pgsql-ast-parser', shape, bytes: LARGE_STATEMENT_BYTES })
    }
  }

  const runtime = await prepareChildRuntime()
  const results: MemoryResult[] = []
  try {
    for (const entry of cases) {
      const result = {
        label: entry.label,
        ...(await runChild(runtime, entry.kind, entry.shape, entry.bytes)),
      }
      log(
        `  ${entry.label} (${entry.shape}, ${Math.round(result.bytes / 1024)} KiB): ` +
          `peak ${mebibytes(result.peakRssBytes)} MiB, ${Math.round(result.durationMs)} ms, ${result.outcome}`,
      )
      results.push(result)
    }
  } finally {
    runtime.dispose()
  }
  return { runtime: runtime.label, results }
}

/** Bytes as mebibytes with one decimal. */
export function mebibytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1)
}
