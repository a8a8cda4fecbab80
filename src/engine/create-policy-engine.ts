/**
 * Builds a policy engine with the default front ends and a policy read from a directory.
 */

import { fileURLToPath } from 'node:url'

import { CasbinAuthorizer } from '../authorize/casbin-authorizer.js'
import { createLibpgQueryFrontEnd } from '../dialect/postgres/libpg-query-front-end.js'
import type { Dialect, SqlFrontEnd } from '../parse/front-end.js'
import { readPolicyDirectory, type PolicySource } from '../policy/policy-source.js'
import { PolicyEngine, type PolicyEngineOptions } from './policy-engine.js'

/** The policy shipped with sqlgate: the sql-read, sql-write, sql-admin, admin ladder. */
export const DEFAULT_POLICY_DIRECTORY = fileURLToPath(new URL('../../policies/', import.meta.url))

export interface CreatePolicyEngineOptions
  extends Omit<PolicyEngineOptions, 'authorizer' | 'frontEnds'> {
  /** Directory with model.conf and policy.csv. Default: the shipped default policy. */
  readonly policyDirectory?: string
  /** A policy given as text; takes precedence over `policyDirectory`. */
  readonly policy?: PolicySource
  /** Front ends by dialect. Default: libpg-query for postgres and the T-SQL front end for mssql. */
  readonly frontEnds?: Partial<Record<Dialect, SqlFrontEnd>>
  /**
   * PostgreSQL parser. Default `libpg-query`, PostgreSQL's own grammar. `pgsql-ast-parser` is an
   * independent grammar that covers less SQL: no MERGE, EXPLAIN, WINDOW, recursive CTEs without
   * a column list, `DELETE ... USING` or tagged dollar quotes, no block comments with quotes,
   * and no text over 16 KiB (docs/differential.md lists the limits). Used alone it denies more
   * and was tested less. Cannot be combined with `frontEnds.postgres`.
   */
  readonly parser?: PostgresParser
  /**
   * Runs both PostgreSQL parsers and denies a request when their facts disagree (statement count,
   * kinds, tables, columns, functions or floor) or when either cannot analyze it. The facts of
   * `parser` decide. Default `false`. It closes bypasses that need a defect in one parser, at the
   * price of denying everything pgsql-ast-parser cannot parse and of parsing every request twice.
   */
  readonly crossCheck?: boolean
}

/** The PostgreSQL parsers sqlgate can use. */
export type PostgresParser = 'libpg-query' | 'pgsql-ast-parser'

export async function createPolicyEngine(
  options: CreatePolicyEngineOptions = {},
): Promise<PolicyEngine> {
  const source =
    options.policy ?? (await readPolicyDirectory(options.policyDirectory ?? DEFAULT_POLICY_DIRECTORY))
  const authorizer = await CasbinAuthorizer.create(source)
  const frontEnds = { ...(options.frontEnds ?? (await createDefaultFrontEnds())) }
  if (options.parser !== undefined || options.crossCheck === true) {
    if (options.frontEnds?.postgres !== undefined) {
      throw new TypeError('parser and crossCheck cannot be combined with frontEnds.postgres')
    }
    frontEnds.postgres = await createPostgresFrontEnd(
      options.parser ?? 'libpg-query',
      options.crossCheck === true,
    )
  }
  return new PolicyEngine({ ...options, authorizer, frontEnds })
}

/**
 * Creates the PostgreSQL front end for a parser, or the cross-check of both parsers with `parser`
 * first. pgsql-ast-parser is loaded only when it is used.
 */
export async function createPostgresFrontEnd(
  parser: PostgresParser,
  crossCheck: boolean,
): Promise<SqlFrontEnd> {
  if (parser !== 'libpg-query' && parser !== 'pgsql-ast-parser') {
    throw new TypeError(`unknown PostgreSQL parser "${String(parser)}"`)
  }
  if (parser === 'libpg-query' && !crossCheck) return createLibpgQueryFrontEnd()

  const { createPgsqlAstFrontEnd } = await import('../dialect/postgres/pgsql-ast-front-end.js')
  if (!crossCheck) return createPgsqlAstFrontEnd()

  const { createCrossCheckFrontEnd } = await import('../dialect/postgres/cross-check-front-end.js')
  const libpgQuery = await createLibpgQueryFrontEnd()
  const pgsqlAst = createPgsqlAstFrontEnd()
  return parser === 'libpg-query'
    ? createCrossCheckFrontEnd(libpgQuery, pgsqlAst)
    : createCrossCheckFrontEnd(pgsqlAst, libpgQuery)
}

/** Creates the default front end of every dialect whose parser is installed. */
export async function createDefaultFrontEnds(): Promise<Partial<Record<Dialect, SqlFrontEnd>>> {
  const frontEnds: Partial<Record<Dialect, SqlFrontEnd>> = {
    postgres: await createLibpgQueryFrontEnd(),
  }
  // The T-SQL front end is imported on demand: without node-sql-parser installed, the engine
  // still starts and denies every mssql request for want of a front end.
  try {
    const { createMssqlFrontEnd } = await import('../dialect/mssql/mssql-front-end.js')
    frontEnds.mssql = createMssqlFrontEnd()
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error
  }
  return frontEnds
}
