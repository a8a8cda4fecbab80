/**
 * Parser throughput: statements per second of each installed parser on each corpus of its
 * dialect, overall and per statement length bucket, with the share of statements it rejects.
 * Rejected statements are timed too, since a caller pays for them as well.
 */

import { inBucket, LENGTH_BUCKETS, type Corpus } from './corpora.js'
import { sampleRate, type Budget, type Rate } from './harness.js'
import { accepts, type ParserUnderTest } from './parsers.js'

export interface BucketResult {
  readonly bucket: string
  readonly statements: number
  readonly rate: Rate | null
}

export interface ParserResult {
  readonly parser: string
  readonly version: string
  readonly corpus: string
  readonly statements: number
  readonly rejected: number
  readonly rate: Rate
  readonly buckets: readonly BucketResult[]
}

function parseAll(parser: ParserUnderTest, statements: readonly string[]): number {
  let rejected = 0
  for (const sql of statements) {
    try {
      parser.parse(sql)
    } catch {
      rejected += 1
    }
  }
  return rejected
}

/** Measures every parser of a corpus's dialect on that corpus. */
export async function measureParsers(
  parsers: readonly ParserUnderTest[],
  corpora: readonly Corpus[],
  budget: Budget,
  log: (line: string) => void,
): Promise<ParserResult[]> {
  const results: ParserResult[] = []
  for (const corpus of corpora) {
    for (const parser of parsers.filter((candidate) => candidate.dialect === corpus.dialect)) {
      const statements = corpus.statements
      const rejected = statements.filter((sql) => !accepts(parser, sql)).length
      const rate = await sampleRate(() => parseAll(parser, statements), statements.length, budget)

      const buckets: BucketResult[] = []
      for (const bucket of LENGTH_BUCKETS) {
        const members = inBucket(statements, bucket)
        buckets.push({
          bucket: bucket.label,
          statements: members.length,
          rate:
            members.length === 0
              ? null
              : await sampleRate(() => parseAll(parser, members), members.length, budget),
        })
      }
      log(`  ${parser.name} on ${corpus.name}: ${Math.round(rate.median)} statements/s, ${rejected} rejected`)
      results.push({
        parser: parser.name,
        version: parser.version,
        corpus: corpus.name,
        statements: statements.length,
        rejected,
        rate,
        buckets,
      })
    }
  }
  return results
}
