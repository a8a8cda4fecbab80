/**
 * Runs one statement and reads at most a given number of rows, using the extended protocol's
 * own row count: Execute requests `maxRows + 1` rows, and when the portal suspends the client
 * sends Sync instead of requesting more. The SQL text is not changed. The extra row only shows
 * that the result was cut, and it is dropped before the result is returned. A data-modifying
 * statement still runs to completion, and the `rowCount` of a cut result counts returned rows.
 */

import pg from 'pg'
import type { PoolClient, QueryResult } from 'pg'

const truncatedResults = new WeakSet<QueryResult>()

/** Tells whether a result was cut by a row limit. */
export function isTruncated(result: QueryResult): boolean {
  return truncatedResults.has(result)
}

/** The statement shape runImpersonatedQuery sends. */
export interface LimitedStatement {
  readonly text: string
  readonly values: unknown[]
  readonly name?: string
}

/** Methods of pg's Query (pg 8.x) that queryWithRowLimit replaces on its own query object. */
interface QueryInternals {
  handlePortalSuspended(connection: { sync(): void }): void
  handleError(error: unknown, connection: { sync(): void }): void
}

/**
 * Runs `statement` on `client` (inside the caller's transaction) and returns at most `maxRows`
 * rows. A result with more rows is marked, see `isTruncated`.
 * @throws the driver error when the statement fails.
 */
export function queryWithRowLimit(
  client: PoolClient,
  statement: LimitedStatement,
  maxRows: number,
): Promise<QueryResult> {
  if (!Number.isSafeInteger(maxRows) || maxRows < 1) {
    throw new TypeError('"maxRows" must be a whole number from 1')
  }
  return new Promise((resolve, reject) => {
    let suspended = false
    const query = new pg.Query({
      text: statement.text,
      values: statement.values,
      rows: maxRows + 1,
      queryMode: 'extended',
      ...(statement.name === undefined ? {} : { name: statement.name }),
    } as pg.QueryConfig)
    // On PortalSuspended pg would fetch the next batch. Sync ends the exchange instead, so the
    // remaining rows stay on the server until COMMIT discards the portal.
    const internals = query as unknown as QueryInternals
    internals.handlePortalSuspended = (connection) => {
      suspended = true
      connection.sync()
    }
    // With a row count pg sends no Sync after Execute, and after an error the server skips
    // every message until one arrives, so the ROLLBACK that follows would wait forever.
    // A parameter that fails to serialize is reported by pg itself, which has already synced.
    const handleError = internals.handleError.bind(query)
    internals.handleError = (error, connection) => {
      if (error instanceof pg.DatabaseError) connection.sync()
      handleError(error, connection)
    }
    query.on('error', reject)
    query.on('end', (result: QueryResult) => {
      if (suspended || result.rows.length > maxRows) {
        result.rows.splice(maxRows)
        result.rowCount = result.rows.length
        truncatedResults.add(result)
      }
      resolve(result)
    })
    client.query(query)
  })
}
