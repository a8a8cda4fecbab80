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
}

export async function createPolicyEngine(
  options: CreatePolicyEngineOptions = {},
): Promise<PolicyEngine> {
  const source =
    options.policy ?? (await readPolicyDirectory(options.policyDirectory ?? DEFAULT_POLICY_DIRECTORY))
  const authorizer = await CasbinAuthorizer.create(source)
  const frontEnds = options.frontEnds ?? (await createDefaultFrontEnds())
  return new PolicyEngine({ ...options, authorizer, frontEnds })
}

/** The default front end of every dialect whose parser is installed. */
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
