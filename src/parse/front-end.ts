/**
 * A front end turns SQL text of one dialect into dialect-neutral facts. Each front end owns its
 * parser and its extractor. It throws `SqlParseFailed` when the text does not parse and
 * `SqlUnsupported` for any construct it cannot describe completely, so a caller never sees facts
 * with a gap in them.
 */

import type { RequestFacts } from '../extract/statement-facts.js'

/** SQL dialects that sqlgate analyzes. */
export type Dialect = 'postgres' | 'mssql'

export interface SqlFrontEnd {
  /** Front end name used in facts, errors and the decision log, for example `libpg-query`. */
  readonly name: string
  readonly dialect: Dialect
  /**
   * Parses `sql` and extracts the facts of every statement in it.
   * @throws SqlParseFailed when the text does not parse.
   * @throws SqlUnsupported when any part of the tree is not understood.
   */
  analyze(sql: string): RequestFacts
  /**
   * Returns the text with comments removed and every literal replaced by `?`, for the decision
   * log, or `null` when the text cannot be tokenized. Must never return a literal.
   */
  fingerprint?(sql: string): string | null
}
