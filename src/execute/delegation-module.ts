/**
 * The contract every delegation module implements, whatever its database: take a session (who
 * is asking), an action and its parameters, check them, and run what is allowed under the end
 * user's database identity.
 */

import type { Decision } from '../authorize/decision.js'
import type { Dialect } from '../parse/front-end.js'
import type { VerifiedIdentity } from '../token/verified-identity.js'

/** Actions a delegation module performs. */
export type DelegationAction = 'query' | 'schema' | 'table-details'

/**
 * The credentials of the end user behind a request. Give exactly one of `teJwt`, `subjectToken`
 * or `identity`.
 *
 * > [!WARNING]
 * > `identity` skips token verification: pass only an identity your application verified.
 */
export interface DelegationSession {
  /** A token-exchange JWT, verified with the module's token verification settings. */
  readonly teJwt?: string
  /** The requestor's token, exchanged at the module's identity provider for a TE-JWT. */
  readonly subjectToken?: string
  /** An identity that the caller has already verified. */
  readonly identity?: VerifiedIdentity
  /** Correlation id for the decision log. Default: a random UUID. */
  readonly requestId?: string
}

/** Parameters of the `query` action. */
export interface QueryParams {
  readonly sql: string
  /** Positional values (`$1`, `$2`) for PostgreSQL, named values (`@id`) for SQL Server. */
  readonly params?: readonly unknown[] | Readonly<Record<string, unknown>>
}

/** Parameters of the `schema` action: list the tables of a schema. */
export interface SchemaParams {
  readonly schemaName: string
}

/** Parameters of the `table-details` action: list the columns of a table. */
export interface TableDetailsParams {
  readonly schemaName: string
  readonly tableName: string
}

export type DelegationParams = QueryParams | SchemaParams | TableDetailsParams

export interface DelegationResult {
  readonly requestId: string
  /** The statement's command tag, for example `SELECT` or `INSERT`. */
  readonly command: string
  readonly rows: readonly Record<string, unknown>[]
  /** Rows returned, or rows affected by a data-modifying statement. */
  readonly rowCount: number
  readonly fields: readonly string[]
  /** True when a role's row limit cut the result. */
  readonly truncated: boolean
  readonly decision: Decision
}

export interface DelegationModule {
  readonly name: string
  readonly dialect: Dialect
  /**
   * Checks the request and, when it is allowed, runs it under the session's database identity.
   * @throws AccessDenied, SqlParseFailed, SqlUnsupported, SqlTooLarge when the request is denied;
   *   nothing reached the database.
   * @throws TokenInvalid, TokenExpired, TokenClaimMissing, TokenExchangeFailed for identity errors.
   * @throws ImpersonationFailed, ExecutionFailed when the database failed the request.
   */
  delegate(
    session: DelegationSession,
    action: DelegationAction,
    params: DelegationParams,
  ): Promise<DelegationResult>
  /** Closes the module's connections. */
  close(): Promise<void>
}
