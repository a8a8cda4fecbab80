import { existsSync, readFileSync } from 'node:fs'

export interface CorpusStatement {
  readonly id: number
  readonly category: string
  readonly sql: string
}

/**
 * Reads a corpus file in which each statement follows a `-- @stmt <n> <category>` line and ends
 * with `;`. The trailing semicolon is kept, as a client would send it.
 */
export function parseCorpus(text: string): CorpusStatement[] {
  const statements: CorpusStatement[] = []
  const marker = /^-- @stmt (\d+) (\S+)(?:\s+\S+)?\s*$/
  let current: { id: number; category: string; lines: string[] } | null = null
  const flush = (): void => {
    if (current === null) return
    const sql = current.lines.join('\n').trim()
    if (sql !== '') statements.push({ id: current.id, category: current.category, sql })
  }
  for (const line of text.split('\n')) {
    const match = marker.exec(line)
    if (match !== null) {
      flush()
      current = { id: Number(match[1]), category: match[2] ?? '', lines: [] }
    } else if (current !== null) {
      current.lines.push(line)
    }
  }
  flush()
  return statements
}

/** Reads a corpus from the test fixtures. */
export function readFixtureCorpus(name: string): CorpusStatement[] {
  return parseCorpus(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'))
}

/** Reads a corpus from a path outside the repository, or returns `null` when it is absent. */
export function readOptionalCorpus(path: string): CorpusStatement[] | null {
  return existsSync(path) ? parseCorpus(readFileSync(path, 'utf8')) : null
}
