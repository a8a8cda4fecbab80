/**
 * Delegation module for SQL Server over an mssql `ConnectionPool`. Every allowed request runs in
 * one batch on one pinned connection: `EXECUTE AS USER` with a cookie, the approved statement
 * through sp_executesql with named parameters, then `REVERT WITH COOKIE` (see
 * mssql-impersonated-batch.ts).
 *
 * Recommended service login: a login whose database user has `IMPERSONATE` on each delegated
 * user and no other permission, so that outside EXECUTE AS it can do nothing.
 */

import { inspect } from 'node:util'

import sql from 'mssql'

import { emitExecutionEvent } from '../../audit/audit-channels.js'
import type { AuditSink } from '../../audit/audit-event.js'
import type { PolicyEngine } from '../../engine/policy-engine.js'
import { ImpersonationFailed } from '../../errors.js'
import { authorizeRequest, type AuthorizationContext } from '../../execute/authorize-request.js'
import type {
  DelegationAction,
  DelegationModule,
  DelegationParams,
  DelegationResult,
  DelegationSession,
} from '../../execute/delegation-module.js'
import { IdentityResolver } from '../../execute/identity-resolver.js'
import { isReadOnly } from '../../extract/statement-facts.js'
import { RowLimits } from '../../policy/row-limits.js'
import { isValidLegacyName } from '../../token/legacy-name.js'
import type { TokenExchangeConfig } from '../../token/token-exchange-config.js'
import type { TokenExchangeService } from '../../token/token-exchange-service.js'
import type { VerifyTokenOptions } from '../../token/verify-token.js'
import { inferParameters } from './execute-as-batch.js'
import { mssqlCatalogQuery } from './mssql-catalog-queries.js'
import { MssqlColumnCatalog, type MssqlColumnCatalogOptions } from './mssql-column-catalog.js'
import { runImpersonatedBatch } from './mssql-impersonated-batch.js'
import { toPoolConfig, type MssqlModuleConfig } from './mssql-module-config.js'

export interface SQLDelegationModuleOptions {
  /** The policy engine that checks every request; it needs a front end for `mssql`. */
  readonly engine: PolicyEngine
  /** Receives one decision event and one execution event per request. */
  readonly audit?: AuditSink
  /**
   * Row limits per role (limits.csv, see `readRowLimits`). Rows past a role's limit are dropped
   * from the result, which is marked `truncated`. Default: no limits. NOTE: the rows past the
   * limit are still read from the server before they are dropped.
   */
  readonly rowLimits?: RowLimits
  /** Column list cache for `*` over tables with column rules. Default TTL 30,000 ms. */
  readonly catalog?: MssqlColumnCatalogOptions
  /**
   * Creates the connection pool from the node-mssql configuration. Default
   * `new sql.ConnectionPool(config)`; tests pass a pool whose connections record requests.
   */
  readonly createPool?: (config: sql.config) => sql.ConnectionPool
}

export class SQLDelegationModule implements DelegationModule {
  readonly name: string
  readonly dialect = 'mssql' as const
  readonly #engine: PolicyEngine
  readonly #audit: AuditSink | undefined
  readonly #createPool: (config: sql.config) => sql.ConnectionPool
  readonly #identities = new IdentityResolver()
  readonly #catalog: MssqlColumnCatalog
  readonly #rowLimits: RowLimits
  #pool: sql.ConnectionPool | undefined

  constructor(name: string, options: SQLDelegationModuleOptions) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new TypeError('"name" must be 1 to 64 letters, digits, "_", "." or "-"')
    }
    this.name = name
    this.#engine = options.engine
    this.#audit = options.audit
    this.#createPool = options.createPool ?? ((config) => new sql.ConnectionPool(config))
    this.#catalog = new MssqlColumnCatalog(options.catalog)
    this.#rowLimits = options.rowLimits ?? RowLimits.none
  }

  /** Creates the pool and opens its first connection. */
  async initialize(config: MssqlModuleConfig): Promise<void> {
    if (this.#pool !== undefined) {
      throw new TypeError(`module "${this.name}" is already initialized`)
    }
    const pool = this.#createPool(toPoolConfig(config))
    // An idle connection that fails is dropped by the pool; without a listener the error would
    // crash the process.
    pool.on('error', () => {})
    await pool.connect()
    this.#pool = pool
  }

  /**
   * Sets how `session.teJwt` is verified. `legacyNameFormat` defaults to `sqlserver`, so a
   * `DOMAIN\user` legacy name is accepted.
   */
  setTokenVerification(options: VerifyTokenOptions): void {
    this.#identities.setTokenVerification({ legacyNameFormat: 'sqlserver', ...options })
  }

  /**
   * Sets the identity provider that exchanges `session.subjectToken` for a TE-JWT.
   * `legacyNameFormat` defaults to `sqlserver`, as for `setTokenVerification`.
   */
  setTokenExchangeService(service: TokenExchangeService, config: TokenExchangeConfig): void {
    this.#identities.setTokenExchangeService(service, { legacyNameFormat: 'sqlserver', ...config })
  }

  /** The underlying pool, for health checks and tests. */
  get pool(): sql.ConnectionPool {
    if (this.#pool === undefined) throw new TypeError(`module "${this.name}" is not initialized`)
    return this.#pool
  }

  async delegate(
    session: DelegationSession,
    action: DelegationAction,
    params: DelegationParams,
  ): Promise<DelegationResult> {
    const pool = this.pool
    const { text, values } = mssqlCatalogQuery(action, params)
    const parameters = inferParameters(values)

    const context: AuthorizationContext = {
      moduleName: this.name,
      dialect: 'mssql',
      engine: this.#engine,
      identities: this.#identities,
      audit: this.#audit,
      defaultSchema: 'dbo',
      readCatalog: (identity, tables) => this.#catalog.read(pool, identity.legacyName, tables),
    }
    const request = await authorizeRequest(context, session, action, text)
    const facts = request.decision.facts

    const executionStart = performance.now()
    try {
      // The token layer validates legacy_name too; this guards identities passed in directly.
      if (!isValidLegacyName(request.identity.legacyName, 'sqlserver')) {
        throw new ImpersonationFailed('the identity does not name a valid SQL Server user')
      }
      const result = await runImpersonatedBatch(pool, {
        user: request.identity.legacyName,
        statement: text,
        parameters,
        readOnly: facts !== null && isReadOnly(facts),
      })
      this.#logExecution(request.requestId, executionStart, result.rowCount, null)
      const maxRows = this.#rowLimits.limitFor(request.identity.roles, this.name)
      const truncated = maxRows !== null && result.rows.length > maxRows
      const rows = truncated ? result.rows.slice(0, maxRows) : result.rows
      return {
        requestId: request.requestId,
        // SQL Server sends no command tag, so the statement kind from the analysis is used.
        command: facts?.statements[0]?.kind.toUpperCase() ?? '',
        rows,
        rowCount: truncated ? rows.length : result.rowCount,
        fields: result.fields,
        truncated,
        decision: request.decision,
      }
    } catch (error) {
      this.#logExecution(request.requestId, executionStart, null, error)
      throw error
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool
    this.#pool = undefined
    await pool?.close()
  }

  #logExecution(requestId: string, start: number, rowCount: number | null, error: unknown): void {
    emitExecutionEvent(this.#audit, this.name, requestId, start, rowCount, error)
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, dialect: this.dialect }
  }

  [inspect.custom](): string {
    return `SQLDelegationModule { name: '${this.name}' }`
  }
}
