/**
 * Configuration of the SQL Server delegation module and its translation to a node-mssql pool
 * configuration. The password never appears in `JSON.stringify` or `util.inspect` output of the
 * objects built here.
 */

import type sql from 'mssql'

export interface MssqlModuleConfig {
  /** Host name or address of the SQL Server instance. */
  readonly server: string
  readonly database: string
  /** Default 1433. */
  readonly port?: number
  /**
   * The service login. It needs `IMPERSONATE` on each database user it delegates to and should
   * have no other permissions, so that without `EXECUTE AS USER` it can do nothing.
   */
  readonly user?: string
  /** Kept out of `JSON.stringify` and `util.inspect`. */
  readonly password?: string
  readonly options?: {
    /**
     * Windows authentication. Default `false`. NOTE: node-mssql honors this only with its
     * msnodesqlv8 driver; the default tedious driver needs `user` and `password`.
     */
    readonly trustedConnection?: boolean
    /** TLS for the connection. Default `true`; with `false`, batches and results are clear text. */
    readonly encrypt?: boolean
    /**
     * Accept any server certificate. Default `false`; `true` allows a man in the middle to read
     * and change every request.
     */
    readonly trustServerCertificate?: boolean
    /** Time limit of one request, in milliseconds. Default 30,000; 0 disables it. */
    readonly requestTimeoutMillis?: number
  }
  readonly pool?: {
    /** Default 10. */
    readonly max?: number
    /** Default 0. */
    readonly min?: number
    /** Default 30,000 ms. */
    readonly idleTimeoutMillis?: number
    /** Time limit to open a connection, in milliseconds. Default 15,000. */
    readonly connectionTimeoutMillis?: number
  }
}

function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(`"${field}" must be a non-negative integer`)
  }
  return value
}

/**
 * Builds the node-mssql configuration. The returned object keeps the password in a
 * non-enumerable property, which node-mssql still reads.
 * @throws TypeError for a missing server or database or an invalid number.
 */
export function toPoolConfig(config: MssqlModuleConfig): sql.config {
  if (typeof config.server !== 'string' || config.server === '') {
    throw new TypeError('"server" must be a non-empty string')
  }
  if (typeof config.database !== 'string' || config.database === '') {
    throw new TypeError('"database" must be a non-empty string')
  }

  const poolConfig: sql.config = {
    server: config.server,
    database: config.database,
    port: positiveInteger(config.port, 1433, 'port'),
    ...(config.user === undefined ? {} : { user: config.user }),
    requestTimeout: positiveInteger(
      config.options?.requestTimeoutMillis,
      30_000,
      'options.requestTimeoutMillis',
    ),
    connectionTimeout: positiveInteger(
      config.pool?.connectionTimeoutMillis,
      15_000,
      'pool.connectionTimeoutMillis',
    ),
    options: {
      encrypt: config.options?.encrypt ?? true,
      trustServerCertificate: config.options?.trustServerCertificate ?? false,
      trustedConnection: config.options?.trustedConnection ?? false,
    },
    pool: {
      max: positiveInteger(config.pool?.max, 10, 'pool.max'),
      min: positiveInteger(config.pool?.min, 0, 'pool.min'),
      idleTimeoutMillis: positiveInteger(
        config.pool?.idleTimeoutMillis,
        30_000,
        'pool.idleTimeoutMillis',
      ),
    },
  }

  if (config.password !== undefined) {
    Object.defineProperty(poolConfig, 'password', {
      value: config.password,
      enumerable: false,
      writable: false,
    })
  }
  return poolConfig
}
