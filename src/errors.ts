/**
 * Typed errors with stable codes. Every failure a caller can react to has its own class and an
 * `ERR_*` code that never changes between releases. Messages never contain SQL text, parameter
 * values, tokens or credentials: details that are safe to show live in structured fields.
 */

export type ErrorCode =
  | 'ERR_TOKEN_INVALID'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_CLAIM_MISSING'
  | 'ERR_TOKEN_EXCHANGE_FAILED'
  | 'ERR_SQL_TOO_LARGE'
  | 'ERR_SQL_PARSE_FAILED'
  | 'ERR_SQL_UNSUPPORTED'
  | 'ERR_ACCESS_DENIED'
  | 'ERR_POLICY_INVALID'
  | 'ERR_MODULE_NOT_REGISTERED'
  | 'ERR_IMPERSONATION_FAILED'
  | 'ERR_EXECUTION_FAILED'
  | 'ERR_CATALOG_UNAVAILABLE'

/** Base class of every error sqlgate throws on purpose. */
export class SqlgateError extends Error {
  static code: ErrorCode = 'ERR_EXECUTION_FAILED'
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** The token failed verification: signature, algorithm, issuer, audience or shape. */
export class TokenInvalid extends SqlgateError {
  static override code: ErrorCode = 'ERR_TOKEN_INVALID'
  /** The check that failed, for example `signature`, `audience` or `algorithm`. */
  readonly reason: string

  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super('ERR_TOKEN_INVALID', message, options)
    this.reason = reason
  }
}

/** The token is past its `exp` (or before its `nbf`) beyond the clock tolerance. */
export class TokenExpired extends SqlgateError {
  static override code: ErrorCode = 'ERR_TOKEN_EXPIRED'

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TOKEN_EXPIRED', message, options)
  }
}

/** A claim that the configuration requires is absent, empty or malformed. */
export class TokenClaimMissing extends SqlgateError {
  static override code: ErrorCode = 'ERR_TOKEN_CLAIM_MISSING'
  readonly claim: string

  constructor(claim: string, message: string) {
    super('ERR_TOKEN_CLAIM_MISSING', message)
    this.claim = claim
  }
}

/** The identity provider did not issue a usable token for the exchange request. */
export class TokenExchangeFailed extends SqlgateError {
  static override code: ErrorCode = 'ERR_TOKEN_EXCHANGE_FAILED'
  /** The OAuth `error` value when the identity provider sent one, else a local reason. */
  readonly oauthError: string
  /** The HTTP status, when a response arrived. */
  readonly status: number | undefined

  constructor(
    oauthError: string,
    message: string,
    options?: { cause?: unknown; status?: number | undefined },
  ) {
    super('ERR_TOKEN_EXCHANGE_FAILED', message, options)
    this.oauthError = oauthError
    this.status = options?.status
  }
}

/** The SQL text is larger than the configured limit; no parser saw it. */
export class SqlTooLarge extends SqlgateError {
  static override code: ErrorCode = 'ERR_SQL_TOO_LARGE'
  readonly bytes: number
  readonly limit: number
  /** The front end whose own, lower limit applied, or `undefined` for the engine's limit. */
  readonly frontEnd: string | undefined

  constructor(bytes: number, limit: number, frontEnd?: string) {
    const whose = frontEnd === undefined ? 'the limit' : `the ${frontEnd} limit`
    super('ERR_SQL_TOO_LARGE', `SQL text is ${bytes} bytes, over ${whose} of ${limit} bytes`)
    this.bytes = bytes
    this.limit = limit
    this.frontEnd = frontEnd
  }
}

/** The parser rejected the SQL text. */
export class SqlParseFailed extends SqlgateError {
  static override code: ErrorCode = 'ERR_SQL_PARSE_FAILED'
  /** The parser that failed, for example `libpg-query`. */
  readonly frontEnd: string
  /** Zero-based character offset of the failure when the parser reports one. */
  readonly position: number | undefined

  constructor(frontEnd: string, message: string, options?: { cause?: unknown; position?: number }) {
    super('ERR_SQL_PARSE_FAILED', message, options)
    this.frontEnd = frontEnd
    this.position = options?.position
  }
}

/** The SQL uses a construct that the analysis does not understand, so it cannot be allowed. */
export class SqlUnsupported extends SqlgateError {
  static override code: ErrorCode = 'ERR_SQL_UNSUPPORTED'
  /** The construct, for example a parse tree node name such as `CreateForeignTableStmt`. */
  readonly construct: string
  readonly frontEnd: string

  constructor(frontEnd: string, construct: string, message?: string) {
    super('ERR_SQL_UNSUPPORTED', message ?? `${frontEnd} does not support ${construct}`)
    this.frontEnd = frontEnd
    this.construct = construct
  }
}

/** One denied fact and the rule that denied it. */
export interface Denial {
  /** Policy object, for example `table:public.accounts` or `floor:identity-change`. */
  readonly object: string
  /** Policy action, for example `select`, `delete` or `execute`. */
  readonly action: string
  /** The policy line or floor rule that decided, or `no matching allow`. */
  readonly rule: string
  /** Why, in words. */
  readonly reason: string
}

/** The request was denied by the floor or the policy. Nothing reached the database. */
export class AccessDenied extends SqlgateError {
  static override code: ErrorCode = 'ERR_ACCESS_DENIED'
  readonly denials: readonly Denial[]

  constructor(denials: readonly Denial[]) {
    const first = denials[0]
    const summary = first ? `${first.action} on ${first.object}: ${first.reason}` : 'no facts'
    const more = denials.length > 1 ? ` (and ${denials.length - 1} more)` : ''
    super('ERR_ACCESS_DENIED', `access denied: ${summary}${more}`)
    this.denials = denials
  }
}

/** A policy file or model is malformed. */
export class PolicyInvalid extends SqlgateError {
  static override code: ErrorCode = 'ERR_POLICY_INVALID'
  readonly problems: readonly string[]

  constructor(message: string, problems: readonly string[] = [], options?: { cause?: unknown }) {
    super('ERR_POLICY_INVALID', message, options)
    this.problems = problems
  }
}

/** No delegation module is registered under the requested name. */
export class ModuleNotRegistered extends SqlgateError {
  static override code: ErrorCode = 'ERR_MODULE_NOT_REGISTERED'
  readonly moduleName: string

  constructor(moduleName: string) {
    super('ERR_MODULE_NOT_REGISTERED', `no delegation module is registered as "${moduleName}"`)
    this.moduleName = moduleName
  }
}

/** Switching to the end user's database identity, or back, failed. */
export class ImpersonationFailed extends SqlgateError {
  static override code: ErrorCode = 'ERR_IMPERSONATION_FAILED'

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_IMPERSONATION_FAILED', message, options)
  }
}

/** The database rejected or failed the approved statement. The driver error is the `cause`. */
export class ExecutionFailed extends SqlgateError {
  static override code: ErrorCode = 'ERR_EXECUTION_FAILED'
  /** SQLSTATE (PostgreSQL) or error number (SQL Server) when the driver reported one. */
  readonly sqlState: string | undefined

  constructor(message: string, options?: { cause?: unknown; sqlState?: string | undefined }) {
    super('ERR_EXECUTION_FAILED', message, options)
    this.sqlState = options?.sqlState
  }
}

/** Column rules need the catalog and it could not be read. */
export class CatalogUnavailable extends SqlgateError {
  static override code: ErrorCode = 'ERR_CATALOG_UNAVAILABLE'

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CATALOG_UNAVAILABLE', message, options)
  }
}

/** Tells whether `value` is any sqlgate error, including one from another copy of the package. */
export function isSqlgateError(value: unknown): value is SqlgateError {
  if (value instanceof SqlgateError) return true
  if (!(value instanceof Error)) return false
  const code: unknown = (value as Error & { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('ERR_')
}
