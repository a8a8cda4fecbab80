/**
 * Delegation module for PostgreSQL over a `pg.Pool`: every allowed request runs in its own
 * transaction under `SET LOCAL ROLE <legacy_name>` on one pooled client (see
 * postgres-impersonated-query.ts for the exact sequence).
 *
 * Recommended service login: a role with LOGIN and NOINHERIT that is a member of each delegated
 * role and owns nothing, so without SET ROLE it can do nothing and with it exactly what the
 * end user's role can do.
 */

import { inspect } from 'node:util'

import pg from 'pg'
import type { PoolConfig } from 'pg'

import { emitExecutionEvent } from '../../audit/audit-channels.js'
import type { AuditSink } from '../../audit/audit-event.js'
import type { PolicyEngine } from '../../engine/policy-engine.js'
import { SqlUnsupported } from '../../errors.js'
import { isReadOnly, type RequestFacts } from '../../extract/statement-facts.js'
import { authorizeRequest, type AuthorizationContext } from '../../execute/authorize-request.js'
import type {
  DelegationAction,
  DelegationModule,
  DelegationParams,
  DelegationResult,
  DelegationSession,
} from '../../execute/delegation-module.js'
import { IdentityResolver } from '../../execute/identity-resolver.js'
import { RowLimits } from '../../policy/row-limits.js'
import type { TokenExchangeConfig } from '../../token/token-exchange-config.js'
import type { TokenExchangeService } from '../../token/token-exchange-service.js'
import type { VerifyTokenOptions } from '../../token/verify-token.js'
import { catalogQuery } from './postgres-catalog-queries.js'
import { isValidIdentifier } from './postgres-identifiers.js'
import { PostgresColumnCatalog } from './postgres-column-catalog.js'
import { runImpersonatedQuery } from './postgres-impersonated-query.js'
import { isTruncated } from './postgres-row-limit.js'

export interface PostgreSQLModuleConfig {
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** Default 5432. */
  readonly port?: number
  readonly database: string
  /** The service login. See the module documentation for the privileges it should have. */
  readonly user: string
  /** Kept out of `JSON.stringify` and `util.inspect` of the module. */
  readonly password?: string
  readonly options?: {
    /** Passed to node-postgres as `ssl`. Default: no TLS. */
    readonly ssl?: PoolConfig['ssl']
    /** Statement timeout per request, in milliseconds. Default 30,000; 0 disables it. */
    readonly statementTimeoutMillis?: number
    /** Schemas for `SET LOCAL search_path`, which fixes what unqualified names mean. Default `public`. */
    readonly searchPath?: readonly string[]
    /**
     * Send the transaction's messages without waiting for each response. Default `false`.
     * A failed role switch still aborts the transaction before the statement runs.
     */
    readonly pipeline?: boolean
    /** Use named prepared statements so the server reuses plans per connection. Default `false`. */
    readonly preparedStatements?: boolean
    /**
     * How long column lists read to expand `*` against column rules are reused, per database
     * role and table, in milliseconds. Default 30,000; 0 reads them for every such request. A
     * column added within this time is missing from `*` checks until the list expires.
     */
    readonly catalogTtlMillis?: number
  }
  readonly pool?: {
    /** Default 10. */
    readonly max?: number
    /** Default 0. */
    readonly min?: number
    /** Default 10,000 ms. */
    readonly idleTimeoutMillis?: number
    /** Default 5,000 ms. */
    readonly connectionTimeoutMillis?: number
  }
}

export interface PostgreSQLModuleOptions {
  /** The policy engine that checks every request. */
  readonly engine: PolicyEngine
  /** Receives one decision event and one execution event per request. */
  readonly audit?: AuditSink
  /**
   * Row limits per role (limits.csv, see `readRowLimits`). Results past a role's limit are cut
   * and marked `truncated`. Default: no limits.
   */
  readonly rowLimits?: RowLimits
}

/**
 * The texts to send: the whole text for one statement, else each statement's own slice of it,
 * because the extended protocol takes one statement per message.
 * @throws SqlUnsupported when the front end gave no statement boundaries.
 */
function statementTexts(text: string, facts: RequestFacts | null): string[] {
  if (facts === null || facts.statements.length <= 1) return [text]
  return facts.statements.map((statement) => {
    if (statement.span === undefined) {
      throw new SqlUnsupported('libpg-query', 'several statements without statement boundaries')
    }
    return text.slice(statement.span.start, statement.span.end)
  })
}

type ModuleSettings = Required<NonNullable<PostgreSQLModuleConfig['options']>>

export class PostgreSQLDelegationModule implements DelegationModule {
  readonly name: string
  readonly dialect = 'postgres' as const
  readonly #engine: PolicyEngine
  readonly #audit: AuditSink | undefined
  readonly #identities = new IdentityResolver()
  #pool: pg.Pool | undefined
  #settings: ModuleSettings | undefined
  #preparedNames = new Map<string, string>()
  readonly #rowLimits: RowLimits
  #catalog = new PostgresColumnCatalog()

  constructor(name: string, options: PostgreSQLModuleOptions) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new TypeError('"name" must be 1 to 64 letters, digits, "_", "." or "-"')
    }
    this.name = name
    this.#engine = options.engine
    this.#audit = options.audit
    this.#rowLimits = options.rowLimits ?? RowLimits.none
  }

  /** Creates the connection pool. Connections are opened on demand. */
  async initialize(config: PostgreSQLModuleConfig): Promise<void> {
    if (this.#pool !== undefined) throw new TypeError(`module "${this.name}" is already initialized`)
    const searchPath = config.options?.searchPath ?? ['public']
    if (!searchPath.every(isValidIdentifier)) {
      throw new TypeError('"options.searchPath" must hold valid schema names')
    }
    this.#settings = {
      ssl: config.options?.ssl ?? false,
      statementTimeoutMillis: config.options?.statementTimeoutMillis ?? 30_000,
      searchPath,
      pipeline: config.options?.pipeline ?? false,
      preparedStatements: config.options?.preparedStatements ?? false,
      catalogTtlMillis: config.options?.catalogTtlMillis ?? 30_000,
    }
    this.#catalog = new PostgresColumnCatalog({ ttlMillis: this.#settings.catalogTtlMillis })
    const pool = new pg.Pool({
      host: config.host ?? '127.0.0.1',
      port: config.port ?? 5432,
      database: config.database,
      user: config.user,
      ...(config.password === undefined ? {} : { password: config.password }),
      ssl: this.#settings.ssl,
      max: config.pool?.max ?? 10,
      min: config.pool?.min ?? 0,
      idleTimeoutMillis: config.pool?.idleTimeoutMillis ?? 10_000,
      connectionTimeoutMillis: config.pool?.connectionTimeoutMillis ?? 5_000,
      ...(this.#settings.pipeline ? { pipeline: true } : {}),
    } as PoolConfig)
    // An idle client that loses its connection is removed by the pool; without a listener the
    // error would crash the process.
    pool.on('error', () => {})
    this.#pool = pool
  }

  /** Sets how `session.teJwt` is verified. */
  setTokenVerification(options: VerifyTokenOptions): void {
    this.#identities.setTokenVerification(options)
  }

  /** Sets the identity provider that exchanges `session.subjectToken` for a TE-JWT. */
  setTokenExchangeService(service: TokenExchangeService, config: TokenExchangeConfig): void {
    this.#identities.setTokenExchangeService(service, config)
  }

  /** The underlying pool, for health checks and tests. */
  get pool(): pg.Pool {
    if (this.#pool === undefined) throw new TypeError(`module "${this.name}" is not initialized`)
    return this.#pool
  }

  async delegate(
    session: DelegationSession,
    action: DelegationAction,
    params: DelegationParams,
  ): Promise<DelegationResult> {
    const pool = this.pool
    const settings = this.#settings as ModuleSettings
    const { text, values } = catalogQuery(action, params)

    const context: AuthorizationContext = {
      moduleName: this.name,
      dialect: 'postgres',
      engine: this.#engine,
      identities: this.#identities,
      audit: this.#audit,
      ...(settings.searchPath[0] === undefined ? {} : { defaultSchema: settings.searchPath[0] }),
      otherSchemas: settings.searchPath.slice(1),
      readCatalog: (identity, tables) =>
        this.#catalog.read(pool, identity.legacyName, tables, settings),
    }
    const request = await authorizeRequest(context, session, action, text)
    const maxRows = this.#rowLimits.limitFor(request.identity.roles, this.name) ?? undefined
    const facts = request.decision.facts

    const executionStart = performance.now()
    try {
      const texts = statementTexts(text, facts)
      const client = await pool.connect()
      const result = await runImpersonatedQuery(client, {
        role: request.identity.legacyName,
        texts,
        values,
        readOnly: facts !== null && isReadOnly(facts),
        statementTimeoutMillis: settings.statementTimeoutMillis,
        searchPath: settings.searchPath,
        preparedName: settings.preparedStatements ? this.#preparedName(text) : undefined,
        pipeline: settings.pipeline,
        maxRows,
      })
      this.#logExecution(request.requestId, executionStart, result.rowCount ?? 0, null)
      return {
        requestId: request.requestId,
        command: result.command,
        rows: result.rows as Record<string, unknown>[],
        rowCount: result.rowCount ?? result.rows.length,
        fields: result.fields.map((field) => field.name),
        truncated: isTruncated(result),
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
    await pool?.end()
  }

  /**
   * A stable statement name per SQL text, so each connection prepares a text once. Past 10,000
   * texts, new texts run unnamed so that the map stays bounded.
   */
  #preparedName(text: string): string | undefined {
    let name = this.#preparedNames.get(text)
    if (name === undefined && this.#preparedNames.size < 10_000) {
      name = `sqlgate_${this.#preparedNames.size + 1}`
      this.#preparedNames.set(text, name)
    }
    return name
  }

  #logExecution(requestId: string, start: number, rowCount: number | null, error: unknown): void {
    emitExecutionEvent(this.#audit, this.name, requestId, start, rowCount, error)
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, dialect: this.dialect }
  }

  [inspect.custom](): string {
    return `PostgreSQLDelegationModule { name: '${this.name}' }`
  }
}
