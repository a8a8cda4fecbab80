/**
 * Runs one approved statement in the EXECUTE AS batch (see execute-as-batch.ts) on one pinned
 * connection. node-mssql otherwise hands each request a different pooled connection, so the
 * request runs inside an mssql `Transaction`, which keeps one connection from begin to end.
 *
 * A read-only request ends with ROLLBACK, so a write that got past the analysis is undone. On
 * any failure the transaction is rolled back. When the batch did not confirm that the identity
 * is the service login's again, the connection is also closed before node-mssql can lend it
 * out, so the pool discards it.
 *
 * Driver errors are not attached as `cause`: SQL Server messages can quote parameter values.
 * The error number is kept in `sqlState`.
 */

import sql from 'mssql'

import { ExecutionFailed, ImpersonationFailed } from '../../errors.js'
import {
  buildExecuteAsBatch,
  parameterDeclarations,
  type BatchParameter,
} from './execute-as-batch.js'

export interface ImpersonatedBatch {
  /** Database user for EXECUTE AS USER, for example `alice` or `CONTOSO\alice`. */
  readonly user: string
  /** The approved statement text, exactly as checked. */
  readonly statement: string
  readonly parameters: readonly BatchParameter[]
  /** End with ROLLBACK instead of COMMIT. */
  readonly readOnly: boolean
}

export interface BatchResult {
  readonly rows: readonly Record<string, unknown>[]
  readonly rowCount: number
  readonly fields: readonly string[]
}

/** The part of a tedious connection used to discard it. */
interface ClosableConnection {
  close(): void
}

/**
 * Returns the connection of a begun transaction. NOTE: node-mssql 12 has no public way to take one
 * connection out of its pool, so this reads the transaction's `_acquiredConnection` field.
 */
function acquiredConnection(transaction: sql.Transaction): ClosableConnection | null {
  const connection = (transaction as unknown as { _acquiredConnection?: unknown })
    ._acquiredConnection
  const closable = connection as Partial<ClosableConnection> | null | undefined
  return typeof closable?.close === 'function' ? (closable as ClosableConnection) : null
}

/**
 * SQL Server error numbers of a failed EXECUTE AS or REVERT. NOTE: these numbers have not been
 * observed from a live server; an unlisted number is reported as `ExecutionFailed`.
 */
const IMPERSONATION_ERRORS = new Set([15517, 15406, 15404, 15199, 916])

function errorNumber(error: unknown): number | undefined {
  const number = (error as { number?: unknown } | null)?.number
  if (typeof number === 'number') return number
  const original = (error as { originalError?: { info?: { number?: unknown } } } | null)
    ?.originalError?.info?.number
  return typeof original === 'number' ? original : undefined
}

function failure(error: unknown): ExecutionFailed | ImpersonationFailed {
  const number = errorNumber(error)
  if (number !== undefined && IMPERSONATION_ERRORS.has(number)) {
    return new ImpersonationFailed(`EXECUTE AS USER failed (SQL Server error ${number})`)
  }
  const suffix = number === undefined ? '' : ` (SQL Server error ${number})`
  return new ExecutionFailed(`the database rejected the statement${suffix}`, {
    sqlState: number === undefined ? undefined : String(number),
  })
}

/**
 * Runs the batch and returns the first result set.
 * @throws ImpersonationFailed when EXECUTE AS failed or the identity could not be confirmed.
 * @throws ExecutionFailed when the statement, the commit or the connection failed.
 */
export async function runImpersonatedBatch(
  pool: sql.ConnectionPool,
  batch: ImpersonatedBatch,
): Promise<BatchResult> {
  const transaction = new sql.Transaction(pool)
  try {
    await transaction.begin()
  } catch (error) {
    throw failure(error)
  }

  const connection = acquiredConnection(transaction)
  let reverted = false
  // When the server rolls the transaction back by itself (an error under XACT_ABORT, a
  // deadlock), node-mssql releases the connection on its own; close it first.
  const onRollback = (aborted: boolean): void => {
    if (aborted && !reverted) connection?.close()
  }
  transaction.on('rollback', onRollback)

  try {
    const request = new sql.Request(transaction)
    request.input('sqlgate_user', sql.NVarChar(128), batch.user)
    request.input('sqlgate_statement', sql.NVarChar(sql.MAX), batch.statement)
    if (batch.parameters.length > 0) {
      const declarations = parameterDeclarations(batch.parameters)
      request.input('sqlgate_params', sql.NVarChar(sql.MAX), declarations)
    }
    for (const parameter of batch.parameters) {
      request.input(parameter.name, parameter.type, parameter.value)
    }
    request.output('sqlgate_reverted', sql.Bit)

    const result = await request.query(buildExecuteAsBatch(batch.parameters))
    reverted = result.output['sqlgate_reverted'] === true
    if (!reverted) throw new ImpersonationFailed('the batch did not confirm the end of EXECUTE AS')

    if (batch.readOnly) await transaction.rollback()
    else await transaction.commit()

    return toBatchResult(result)
  } catch (error) {
    if (!reverted) connection?.close()
    await transaction.rollback().catch(() => undefined)
    throw error instanceof ImpersonationFailed || error instanceof ExecutionFailed
      ? error
      : failure(error)
  } finally {
    transaction.removeListener('rollback', onRollback)
  }
}

function toBatchResult(result: sql.IResult<Record<string, unknown>>): BatchResult {
  const recordsets = result.recordsets as unknown as Array<sql.IRecordSet<Record<string, unknown>>>
  const first = recordsets[0]
  if (first === undefined) {
    const rowCount = result.rowsAffected.reduce((sum, count) => sum + count, 0)
    return { rows: [], rowCount, fields: [] }
  }
  return { rows: [...first], rowCount: first.length, fields: Object.keys(first.columns) }
}
