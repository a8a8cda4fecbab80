/**
 * The policy engine: size limit, analysis by the dialect's front end, the built-in floor, then
 * the Casbin policy, for one request. Hostile input never throws: a parse failure, an unsupported
 * construct or a missing role is a denial with a reason. Misuse of the API (a dialect without a
 * front end) throws a TypeError.
 */

import type { CasbinAuthorizer } from '../authorize/casbin-authorizer.js'
import type { Decision } from '../authorize/decision.js'
import type { ColumnCatalog } from '../catalog/column-catalog.js'
import {
  isSqlgateError,
  SqlParseFailed,
  SqlTooLarge,
  TokenClaimMissing,
  type SqlgateError,
} from '../errors.js'
import type { RequestFacts } from '../extract/statement-facts.js'
import type { Dialect, SqlFrontEnd } from '../parse/front-end.js'
import { DecisionCache, type DecisionCacheOptions } from './decision-cache.js'
import { decideFacts } from './decide-facts.js'

export interface PolicyEngineOptions {
  /** The loaded policy. Swap it with `setAuthorizer` to reload. */
  readonly authorizer: CasbinAuthorizer
  /** One front end per dialect the engine accepts. A dialect without one is denied. */
  readonly frontEnds: Partial<Record<Dialect, SqlFrontEnd>>
  /** Largest SQL text in UTF-8 bytes; larger text is denied before any parser reads it. Default 256 KiB. */
  readonly maxSqlBytes?: number
  /** Schema assumed for unqualified tables. Default `public` for postgres, `dbo` for mssql. */
  readonly defaultSchemas?: Partial<Record<Dialect, string>>
  /** Decision cache bounds, or `false` to decide every request afresh. */
  readonly cache?: DecisionCacheOptions | false
}

export interface CheckRequest {
  readonly dialect: Dialect
  /** Roles from the verified token. An empty list is denied. */
  readonly roles: readonly string[]
  readonly sql: string
  /** Policy domain: the delegation module's name. Default `default`. */
  readonly domain?: string
  /**
   * Schema that unqualified tables resolve to. A module passes the first schema of the
   * search_path it sets, so the policy judges the table the server will use.
   * Default: the engine's default schema for the dialect.
   */
  readonly defaultSchema?: string
  /**
   * Further schemas the server searches for unqualified tables after `defaultSchema`, as in a
   * search_path of several schemas. An unqualified table must then be allowed in each of them,
   * because the policy cannot know which one contains it. Default: none.
   */
  readonly otherSchemas?: readonly string[]
  /**
   * Column lists for expanding `*` over tables that have column rules. Without it (or without a
   * needed table in it) such a `*` is denied and `Decision.catalogNeeds` names the tables.
   */
  readonly catalog?: ColumnCatalog
}

const DEFAULT_SCHEMAS: Record<Dialect, string> = { postgres: 'public', mssql: 'dbo' }

export class PolicyEngine {
  #authorizer: CasbinAuthorizer
  readonly #frontEnds: Partial<Record<Dialect, SqlFrontEnd>>
  readonly #maxSqlBytes: number
  readonly #defaultSchemas: Record<Dialect, string>
  readonly #cache: DecisionCache | null

  constructor(options: PolicyEngineOptions) {
    this.#authorizer = options.authorizer
    this.#frontEnds = { ...options.frontEnds }
    this.#maxSqlBytes = options.maxSqlBytes ?? 256 * 1024
    this.#defaultSchemas = { ...DEFAULT_SCHEMAS, ...options.defaultSchemas }
    this.#cache = options.cache === false ? null : new DecisionCache(options.cache)
  }

  get authorizer(): CasbinAuthorizer {
    return this.#authorizer
  }

  /** Version hash of the policy in force. */
  get policyVersion(): string {
    return this.#authorizer.version
  }

  /** Replaces the policy. Cached decisions of the old version can no longer be hit. */
  setAuthorizer(authorizer: CasbinAuthorizer): void {
    this.#authorizer = authorizer
    this.#cache?.clear()
  }

  /** Returns the front end for a dialect, or `undefined` when the engine has none. */
  frontEnd(dialect: Dialect): SqlFrontEnd | undefined {
    return this.#frontEnds[dialect]
  }

  /** Checks one request and returns a frozen decision. */
  check(request: CheckRequest): Decision {
    const authorizer = this.#authorizer
    const domain = request.domain ?? 'default'
    const roles = normalizeRoles(request.roles)
    const defaultSchema = request.defaultSchema ?? this.#defaultSchemas[request.dialect]

    const cache = this.#cache !== null && this.#cache.accepts(request.sql) ? this.#cache : null
    const contextKey = cache?.contextKey({
      dialect: request.dialect,
      domain,
      schema: defaultSchema,
      otherSchemas: request.otherSchemas ?? [],
      catalogVersion: request.catalog?.version ?? null,
      policyVersion: authorizer.version,
      roles,
    })
    if (cache !== null && contextKey !== undefined) {
      const cached = cache.get(contextKey, request.sql)
      if (cached !== undefined) return cached
    }

    const decision = this.#decide(request, authorizer, domain, roles, defaultSchema)
    if (cache !== null && contextKey !== undefined) cache.set(contextKey, request.sql, decision)
    return decision
  }

  /** Parses and extracts without deciding. Throws the front end's typed errors. */
  analyze(dialect: Dialect, sql: string): RequestFacts {
    const frontEnd = this.#frontEnds[dialect]
    if (frontEnd === undefined) {
      throw new TypeError(`no front end is configured for dialect "${dialect}"`)
    }
    const bytes = Buffer.byteLength(sql, 'utf8')
    if (bytes > this.#maxSqlBytes) throw new SqlTooLarge(bytes, this.#maxSqlBytes)
    // Parsers written in C stop at a NUL character, so text after it would go unanalyzed.
    if (sql.includes('\u0000')) {
      throw new SqlParseFailed('input', 'SQL text contains a NUL character')
    }
    return frontEnd.analyze(sql)
  }

  #decide(
    request: CheckRequest,
    authorizer: CasbinAuthorizer,
    domain: string,
    roles: readonly string[],
    defaultSchema: string,
  ): Decision {
    if (roles.length === 0) {
      return failure(authorizer, new TokenClaimMissing('roles', 'no roles were given'), 'roles')
    }

    let facts: RequestFacts
    try {
      facts = this.analyze(request.dialect, request.sql)
    } catch (error) {
      if (!isSqlgateError(error)) throw error
      return failure(authorizer, error, 'sql')
    }

    return decideFacts(
      authorizer,
      roles,
      domain,
      facts,
      defaultSchema,
      request.catalog ?? null,
      request.otherSchemas ?? [],
    )
  }
}

/**
 * Sorted, de-duplicated role names without empty entries. Names are not trimmed: a role such as
 * `"admin\u00a0"` must not decide as `admin`, so it stays as given and matches no policy line.
 */
function normalizeRoles(roles: readonly string[]): readonly string[] {
  if (isNormalized(roles)) return roles
  return [...new Set(roles.filter((role) => role.trim().length > 0))].sort()
}

/**
 * Tells whether a list is already what `normalizeRoles` returns, so the common single-role or
 * sorted request skips the copies. Strictly ascending order rules out duplicates.
 */
function isNormalized(roles: readonly string[]): boolean {
  for (let index = 0; index < roles.length; index += 1) {
    const role = roles[index] as string
    if (role.trim().length === 0) return false
    if (index > 0 && !((roles[index - 1] as string) < role)) return false
  }
  return true
}

function failure(authorizer: CasbinAuthorizer, error: SqlgateError, object: string): Decision {
  const denial = { object, action: 'analyze', rule: 'fail-closed', reason: error.message }
  return Object.freeze({
    allowed: false,
    denials: Object.freeze([Object.freeze(denial)]),
    grants: Object.freeze([]),
    facts: null,
    errorCode: error.code,
    error,
    policyVersion: authorizer.version,
  })
}
