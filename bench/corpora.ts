/**
 * The SQL corpora the suite measures. The application corpora ship with the repository; the
 * PostgreSQL regression corpus (about 17,000 DML statements) is read from the shared folder
 * beside the repository when it is there and skipped with a message when it is not.
 */

import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { parseCorpus } from '../test/support/corpus.js'

/** The repository root. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../', import.meta.url))

export interface Corpus {
  /** Short name used in tables, for example `pg_app`. */
  readonly name: string
  readonly dialect: 'postgres' | 'mssql'
  /** Path of the file, relative to the repository root. */
  readonly source: string
  readonly statements: readonly string[]
  /** Statements in the file before sampling. */
  readonly totalStatements: number
}

/** A corpus that could not be read, with the reason shown in the report. */
export interface MissingCorpus {
  readonly name: string
  readonly source: string
  readonly reason: string
}

/** Statement length buckets in characters: lower bound inclusive, upper bound exclusive. */
export const LENGTH_BUCKETS: readonly { readonly label: string; readonly min: number; readonly max: number }[] = [
  { label: '< 100', min: 0, max: 100 },
  { label: '100-499', min: 100, max: 500 },
  { label: '500-1,999', min: 500, max: 2000 },
  { label: '>= 2,000', min: 2000, max: Number.POSITIVE_INFINITY },
]

/** Statements of a corpus whose length falls in a bucket. */
export function inBucket(
  statements: readonly string[],
  bucket: (typeof LENGTH_BUCKETS)[number],
): string[] {
  return statements.filter((sql) => sql.length >= bucket.min && sql.length < bucket.max)
}

/**
 * Takes every n-th item so that at most `limit` remain, spread over the whole list, so a slow
 * parser finishes in bounded time and every parser sees the same statements.
 */
export function sampleEvenly<Item>(items: readonly Item[], limit: number): Item[] {
  if (items.length <= limit) return [...items]
  const step = items.length / limit
  return Array.from({ length: limit }, (_, index) => items[Math.floor(index * step)] as Item)
}

function readCorpus(
  name: string,
  dialect: Corpus['dialect'],
  source: string,
  limit: number,
): Corpus | MissingCorpus {
  const path = new URL(source, new URL('../', import.meta.url))
  if (!existsSync(path)) return { name, source, reason: `${source} is not present` }
  const all = parseCorpus(readFileSync(path, 'utf8')).map((statement) => statement.sql)
  return { name, dialect, source, statements: sampleEvenly(all, limit), totalStatements: all.length }
}

/**
 * Reads every corpus. `appLimit` caps the statements taken from the application corpora and
 * `regressLimit` those taken from the regression corpus.
 */
export function readCorpora(
  appLimit: number,
  regressLimit: number,
): {
  readonly corpora: Corpus[]
  readonly missing: MissingCorpus[]
} {
  const results = [
    readCorpus('pg_app', 'postgres', 'test/fixtures/pg_app.sql', appLimit),
    readCorpus('pg_regress_dml', 'postgres', '../shared/corpus/pg_regress_dml.sql', regressLimit),
    readCorpus('tsql_app', 'mssql', 'test/fixtures/tsql/tsql_app.sql', appLimit),
  ]
  return {
    corpora: results.filter((result): result is Corpus => 'statements' in result),
    missing: results.filter((result): result is MissingCorpus => 'reason' in result),
  }
}
