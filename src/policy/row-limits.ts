/**
 * Row limits per role, read from `limits.csv` beside policy.csv. Each line is
 * `role, database, max_rows`, for example `sql-read, *, 1000`, where the database is a glob over
 * delegation module names like the domain of a policy line.
 *
 * A limit belongs to the role named in the token, not to roles that inherit it through `g`
 * lines, so a limit on sql-read leaves a token carrying only admin unlimited. A token carrying
 * several limited roles gets the smallest of their limits, as a deny line of any role wins.
 * The executor stops reading rows at the limit and marks the result `truncated`; the SQL text
 * is never rewritten. A data-modifying statement still changes every row it matches; only the
 * rows it returns are cut.
 */

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { policyGlobMatch } from '../authorize/casbin-authorizer.js'
import { parsePolicyCsv } from '../authorize/policy-csv.js'
import { PolicyInvalid } from '../errors.js'

/** One line of limits.csv. */
export interface RowLimitLine {
  /** 1-based line number in limits.csv. */
  readonly line: number
  readonly role: string
  /** Glob over delegation module names, for example `*` or `postgresql1`. */
  readonly database: string
  readonly maxRows: number
}

/** File name of the row limits in a policy directory. */
export const ROW_LIMITS_FILE = 'limits.csv'

/** The parsed lines of limits.csv. Without lines (`RowLimits.none`) no role is limited. */
export class RowLimits {
  readonly lines: readonly RowLimitLine[]

  private constructor(lines: readonly RowLimitLine[]) {
    this.lines = lines
  }

  /** Limits with no lines: every role is unlimited. */
  static readonly none = new RowLimits([])

  /**
   * Parses limits.csv text.
   * @throws PolicyInvalid listing every malformed line with its number.
   */
  static parse(text: string, origin = ROW_LIMITS_FILE): RowLimits {
    const { lines, problems } = parseRowLimits(text)
    if (problems.length > 0) {
      throw new PolicyInvalid(
        `${origin} has ${problems.length} malformed line(s)`,
        problems.map((problem) => `${origin}:${problem.line}: ${problem.message}`),
      )
    }
    return new RowLimits(lines)
  }

  /** Returns the smallest limit among `roles` in `database`, or `null` when none is limited. */
  limitFor(roles: readonly string[], database: string): number | null {
    const names = new Set(roles.map((role) => role.trim()))
    let limit: number | null = null
    for (const line of this.lines) {
      if (!names.has(line.role) || !policyGlobMatch(database, line.database)) continue
      if (limit === null || line.maxRows < limit) limit = line.maxRows
    }
    return limit
  }
}

/** A malformed line of limits.csv. */
export interface RowLimitProblem {
  readonly line: number
  readonly message: string
}

/** Parses limits.csv text into lines and problems, without throwing (lint uses this). */
export function parseRowLimits(text: string): {
  lines: RowLimitLine[]
  problems: RowLimitProblem[]
} {
  const lines: RowLimitLine[] = []
  const problems: RowLimitProblem[] = []
  for (const row of parsePolicyCsv(text)) {
    const fields = [row.type, ...row.fields]
    const [role = '', database = '', maxRows = ''] = fields
    if (fields.length !== 3 || role === '' || database === '') {
      problems.push({ line: row.line, message: 'expected "role, database, max_rows"' })
      continue
    }
    if (!/^[0-9]{1,9}$/.test(maxRows) || Number(maxRows) === 0) {
      const message = `max_rows must be a whole number from 1, got "${maxRows}"`
      problems.push({ line: row.line, message })
      continue
    }
    lines.push(Object.freeze({ line: row.line, role, database, maxRows: Number(maxRows) }))
  }
  return { lines, problems }
}

/** Reads `limits.csv` from a policy directory; a directory without one has no limits. */
export async function readRowLimits(directory: string): Promise<RowLimits> {
  let text: string
  try {
    text = await readFile(join(directory, ROW_LIMITS_FILE), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return RowLimits.none
    throw error
  }
  return RowLimits.parse(text, join(directory, ROW_LIMITS_FILE))
}
