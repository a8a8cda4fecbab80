/**
 * Runs one approved statement on a pooled client under the end user's database role.
 *
 * The transaction opens with one simple-protocol message, `BEGIN [READ ONLY]; SET LOCAL ROLE
 * ...; SET LOCAL statement_timeout ...; SET LOCAL search_path ...`. Sending it as one message
 * matters: `SET LOCAL` outside a transaction only warns and does nothing, so a BEGIN lost on its
 * own would let the statement run as the service login. If any part of the message fails, the
 * transaction is aborted and every later statement in it fails too.
 *
 * The statement itself always goes through the extended protocol (`queryMode: 'extended'`), so the
 * server rejects a text that holds more than one statement. `COMMIT` or `ROLLBACK` ends the
 * transaction, which also ends every `SET LOCAL`. A client whose rollback fails, or whose state is
 * unknown, is released with an error so the pool destroys it instead of reusing it.
 *
 * Driver errors are not attached as `cause`: PostgreSQL messages can quote parameter values
 * (`invalid input syntax for type integer: "..."`). The SQLSTATE is kept instead.
 */

import type { Writable } from 'node:stream'

import type { PoolClient, QueryResult } from 'pg'

import { ExecutionFailed, ImpersonationFailed } from '../../errors.js'
import { quoteIdentifier } from './postgres-identifiers.js'
import { queryWithRowLimit } from './postgres-row-limit.js'

export interface ImpersonatedQuery {
  /** Database role to switch to with SET LOCAL ROLE. */
  readonly role: string
  /**
   * The approved statement texts, in order, each byte for byte as checked. More than one only
   * when a policy lifted `floor:multiple-statements`; they run in the same transaction.
   */
  readonly texts: readonly string[]
  /** Parameter values; only a single statement takes them. */
  readonly values: readonly unknown[]
  /** Open the transaction READ ONLY. */
  readonly readOnly: boolean
  /** Statement timeout in milliseconds; 0 disables it. */
  readonly statementTimeoutMillis: number
  /** Schema list for SET LOCAL search_path, already validated identifiers. */
  readonly searchPath: readonly string[]
  /** Name for a server-side prepared statement, or `undefined` for an unnamed one. */
  readonly preparedName?: string | undefined
  /** Send the whole transaction without waiting between messages (client made with `pipeline`). */
  readonly pipeline: boolean
  /**
   * Maximum rows to read from each statement's result. The rest stay on the server and the
   * result is marked truncated (see `isTruncated`). A limit turns `pipeline` off for the request.
   * Default: no limit.
   */
  readonly maxRows?: number | undefined
}

/** Builds the message that opens the transaction and switches the role. */
export function openingMessage(query: ImpersonatedQuery): string {
  const begin = query.readOnly ? 'BEGIN READ ONLY' : 'BEGIN'
  const timeout = Math.max(0, Math.floor(query.statementTimeoutMillis))
  const searchPath = query.searchPath.map(quoteIdentifier).join(', ')
  return [
    begin,
    `SET LOCAL ROLE ${quoteIdentifier(query.role)}`,
    `SET LOCAL statement_timeout = ${timeout}`,
    // The front end reads string literals as PostgreSQL does with this setting on. A server,
    // database or login default of off would let '\\' end a string differently, so pin it.
    'SET LOCAL standard_conforming_strings = on',
    ...(searchPath === '' ? [] : [`SET LOCAL search_path = ${searchPath}`]),
  ].join('; ')
}

/**
 * Runs the query and returns its result. Releases the client in every case.
 * @throws ImpersonationFailed when the role switch failed; the statement did not run.
 * @throws ExecutionFailed when the statement failed; the driver error is the cause.
 */
export async function runImpersonatedQuery(
  client: PoolClient,
  query: ImpersonatedQuery,
): Promise<QueryResult> {
  if (query.texts.length === 0 || (query.texts.length > 1 && query.values.length > 0)) {
    client.release()
    throw new TypeError('parameters can only be given with a single statement')
  }
  let opening: string
  try {
    opening = openingMessage(query)
  } catch (error) {
    client.release()
    throw error
  }
  const identityCheck = {
    text: IDENTITY_CHECK,
    values: [query.role],
    queryMode: 'extended' as const,
  }
  const statements = query.texts.map((text) => ({
    text,
    values: [...query.values],
    queryMode: 'extended' as const,
    ...(query.preparedName === undefined || query.texts.length > 1 ? {} : { name: query.preparedName }),
  }))

  const maxRows = query.maxRows
  if (query.pipeline && maxRows === undefined) {
    return runPipelined(client, opening, statements, identityCheck)
  }

  try {
    await client.query(opening)
  } catch (error) {
    await endAfterFailure(client)
    throw impersonationFailed(error)
  }

  let result: QueryResult | undefined
  try {
    for (const statement of statements) {
      result =
        maxRows === undefined
          ? await client.query(statement)
          : await queryWithRowLimit(client, statement, maxRows)
    }
  } catch (error) {
    await endAfterFailure(client)
    throw executionFailed(error)
  }

  try {
    await client.query(identityCheck)
  } catch {
    await destroyAfterFailure(client)
    throw identityChanged()
  }

  try {
    await client.query('COMMIT')
  } catch (error) {
    await endAfterFailure(client)
    throw executionFailed(error)
  }
  client.release()
  return result as QueryResult
}

/**
 * Sends opening message, statement and COMMIT without waiting. When the opening message fails,
 * the transaction is already aborted when the statement arrives, so the server rejects the
 * statement and turns the COMMIT into a rollback: the statement never runs as the service login.
 */
async function runPipelined(
  client: PoolClient,
  opening: string,
  statements: readonly { text: string; values: unknown[]; queryMode: 'extended'; name?: string }[],
  identityCheck: { text: string; values: unknown[]; queryMode: 'extended' },
): Promise<QueryResult> {
  // Sent in this order; the promises settle in the same order. A pipelined client writes each
  // query as it is queued, so the socket is corked meanwhile and the whole transaction leaves in
  // one write instead of one system call per query.
  const sent = sendTogether(client, () => [
    client.query(opening),
    ...statements.map((statement) => client.query(statement)),
    client.query(identityCheck),
    client.query('COMMIT'),
  ])
  const outcomes = await Promise.allSettled(sent)
  const opened = outcomes[0]
  const ran = outcomes.slice(1, 1 + statements.length)
  const checked = outcomes[1 + statements.length]
  const committed = outcomes[2 + statements.length]

  if (opened === undefined || opened.status === 'rejected') {
    await endAfterFailure(client)
    throw impersonationFailed(opened?.reason)
  }
  const failed = ran.find((outcome) => outcome.status === 'rejected')
  if (failed !== undefined) {
    await endAfterFailure(client)
    throw executionFailed(failed.reason)
  }
  if (checked === undefined || checked.status === 'rejected') {
    await destroyAfterFailure(client)
    throw identityChanged()
  }
  if (committed === undefined || committed.status === 'rejected') {
    await endAfterFailure(client)
    throw executionFailed(committed?.reason)
  }
  client.release()
  const last = ran[ran.length - 1]
  return (last as PromiseFulfilledResult<QueryResult>).value
}

/**
 * Fails the transaction when the current role is no longer the impersonated one, for example
 * after a function called set_config('role', ...). The division by zero aborts the transaction,
 * so the COMMIT behind it rolls back everything the statement did.
 */
const IDENTITY_CHECK = 'SELECT 1 / (current_user = $1::name)::int AS identity_unchanged'

function identityChanged(): ImpersonationFailed {
  return new ImpersonationFailed(
    'the database role changed during the statement, so its transaction was rolled back',
  )
}

/** Rolls back and destroys the client, whose session state can no longer be trusted. */
async function destroyAfterFailure(client: PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK')
  } catch {
    // The client is destroyed below either way.
  }
  client.release(new Error('session state after a failed identity check'))
}

/**
 * Calls `send` with the client's socket corked, so the messages it queues go out together when
 * it returns. node-postgres corks the same socket around each extended query, and corks nest.
 * A client without a socket stream (not connected) is left as it is.
 */
function sendTogether<Result>(client: PoolClient, send: () => Result): Result {
  const stream = (client as unknown as { connection?: { stream?: Partial<Writable> } }).connection
    ?.stream
  stream?.cork?.()
  try {
    return send()
  } finally {
    stream?.uncork?.()
  }
}

/** Rolls back and releases; a client that cannot roll back is destroyed by the pool. */
async function endAfterFailure(client: PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK')
  } catch (error) {
    client.release(error instanceof Error ? error : new Error('rollback failed'))
    return
  }
  client.release()
}

/** Conditions worth naming in a message, by SQLSTATE. */
const CONDITIONS: Readonly<Record<string, string>> = {
  '42501': 'permission denied',
  '42P01': 'relation does not exist',
  '42703': 'column does not exist',
  '42883': 'function does not exist',
  '42601': 'syntax error',
  '22P02': 'invalid input value',
  '23505': 'unique violation',
  '23503': 'foreign key violation',
  '23502': 'not-null violation',
  '25006': 'read-only transaction',
  '25P02': 'transaction aborted',
  '57014': 'statement timeout or cancel',
  '22012': 'division by zero',
}

function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

function describe(code: string | undefined): string {
  if (code === undefined) return ''
  const condition = CONDITIONS[code]
  return condition === undefined ? ` (SQLSTATE ${code})` : ` (SQLSTATE ${code}: ${condition})`
}

function impersonationFailed(error: unknown): ImpersonationFailed {
  return new ImpersonationFailed(
    `switching to the database role failed${describe(sqlStateOf(error))}`,
  )
}

function executionFailed(error: unknown): ExecutionFailed {
  const code = sqlStateOf(error)
  return new ExecutionFailed(`the database rejected the statement${describe(code)}`, {
    sqlState: code,
  })
}
