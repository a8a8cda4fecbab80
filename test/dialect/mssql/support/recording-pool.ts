/**
 * A real node-mssql `ConnectionPool` whose connections are real tedious `Connection` objects that
 * never open a socket: `makeRequest`, the point where tedious would write a TDS message, records
 * the message and replies from a script. Everything above that point (node-mssql transactions,
 * requests, parameter typing, tedious' sp_executesql RPC payload) is the production code.
 */

import sql from 'mssql'
import tds from 'tedious'

/** TDS packet types, from the TDS specification (MS-TDS 2.2.3.1.1). */
const RPC_REQUEST = 3
const TRANSACTION_MANAGER = 14

export interface RecordedParameter {
  readonly name: string
  /** tedious type name, for example `NVarChar` or `Int`. */
  readonly type: string
  readonly length: number | undefined
  readonly output: boolean
  readonly value: unknown
}

export interface RecordedCall {
  readonly connection: number
  readonly kind: 'begin' | 'commit' | 'rollback' | 'rpc' | 'other'
  /** For `rpc`: the `statement` argument of sp_executesql. */
  readonly statement?: string
  /** For `rpc`: the `params` declaration argument of sp_executesql. */
  readonly declarations?: string
  /** For `rpc`: the parameters after `statement` and `params`. */
  readonly parameters?: readonly RecordedParameter[]
}

/** The scripted reply to one RPC. */
export interface ScriptedAnswer {
  /** Fail the request with this SQL Server error. */
  readonly error?: { readonly number: number; readonly message: string }
  /** Roll the transaction back on the server side, as XACT_ABORT would. */
  readonly abortTransaction?: boolean
  /** Output parameter values by name. */
  readonly outputs?: Readonly<Record<string, unknown>>
  /** One result set of NVarChar columns. */
  readonly rows?: ReadonlyArray<Readonly<Record<string, string>>>
  /** Rows affected, reported when there is no result set. */
  readonly rowCount?: number
}

export type Script = (call: RecordedCall) => ScriptedAnswer

interface TediousParameter {
  readonly name: string
  readonly type: { readonly name: string }
  readonly length?: number
  readonly output?: boolean
  readonly value: unknown
}

interface TediousRequest {
  readonly parameters: readonly TediousParameter[]
  emit(event: string, ...args: unknown[]): boolean
  callback(error?: Error): void
}

interface TediousPayload {
  readonly parameters?: readonly TediousParameter[]
  toString(): string
}

const BaseConnection = tds.Connection as unknown as new (config: object) => {
  closed: boolean
  makeRequest(request: TediousRequest, packetType: number, payload: TediousPayload): void
  emit(event: string, ...args: unknown[]): boolean
  close(): void
}

class RecordingConnection extends BaseConnection {
  readonly #id: number
  readonly #pool: RecordingPool

  constructor(id: number, pool: RecordingPool) {
    super({
      server: '127.0.0.1',
      authentication: { type: 'default', options: { userName: 'recorder', password: 'unused' } },
      options: { encrypt: false },
    })
    this.#id = id
    this.#pool = pool
  }

  override makeRequest(request: TediousRequest, packetType: number, payload: TediousPayload): void {
    // A closed connection fails the request the way tedious does.
    if (this.closed) return super.makeRequest(request, packetType, payload)

    const call = describeCall(this.#id, packetType, payload)
    // The pool's validation query is not part of any request under test.
    if (call.statement === 'SELECT 1;') {
      setImmediate(() => request.callback())
      return
    }

    this.#pool.calls.push(call)
    const answer = call.kind === 'rpc' ? this.#pool.script(call) : {}
    setImmediate(() => this.#answer(request, answer))
  }

  #answer(request: TediousRequest, answer: ScriptedAnswer): void {
    if (answer.abortTransaction === true) this.emit('rollbackTransaction')

    if (answer.error !== undefined) {
      const { message, number } = answer.error
      const info = { message, number, state: 1, class: 16 }
      this.emit('errorMessage', info)
      request.callback(Object.assign(new Error(answer.error.message), { info }))
      return
    }

    if (answer.rows !== undefined) {
      const names = Object.keys(answer.rows[0] ?? {})
      const metadata = names.map((colName) => ({
        colName,
        type: tds.TYPES.NVarChar,
        dataLength: 4000,
      }))
      request.emit('columnMetadata', metadata)
      for (const row of answer.rows) {
        request.emit(
          'row',
          names.map((name, index) => ({ value: row[name], metadata: metadata[index] })),
        )
      }
      request.emit('doneInProc', answer.rows.length, false)
    } else if (answer.rowCount !== undefined) {
      request.emit('doneInProc', answer.rowCount, false)
    }

    for (const parameter of request.parameters) {
      if (parameter.output && answer.outputs !== undefined && parameter.name in answer.outputs) {
        request.emit('returnValue', parameter.name, answer.outputs[parameter.name], {})
      }
    }
    request.callback()
  }
}

function describeCall(
  connection: number,
  packetType: number,
  payload: TediousPayload,
): RecordedCall {
  if (packetType === TRANSACTION_MANAGER) {
    const text = payload.toString()
    const kind = text.startsWith('Begin')
      ? 'begin'
      : text.startsWith('Commit')
        ? 'commit'
        : text.startsWith('Rollback')
          ? 'rollback'
          : 'other'
    return { connection, kind }
  }
  if (packetType !== RPC_REQUEST || payload.parameters === undefined) {
    return { connection, kind: 'other' }
  }

  const [statement, declarations, ...rest] = payload.parameters
  return {
    connection,
    kind: 'rpc',
    statement: String(statement?.value),
    declarations: String(declarations?.value),
    parameters: rest.map((parameter) => ({
      name: parameter.name,
      type: parameter.type.name,
      length: parameter.length,
      output: parameter.output === true,
      value: parameter.value,
    })),
  }
}

/** A node-mssql pool whose connections record every request and reply from `script`. */
export class RecordingPool extends (sql.ConnectionPool as unknown as new (
  config: sql.config,
) => sql.ConnectionPool) {
  readonly calls: RecordedCall[] = []
  readonly connections: Array<{ closed: boolean }> = []
  script: Script = () => ({ outputs: { sqlgate_reverted: true } })

  /** Replaces node-mssql's connection factory, which would open a socket. */
  _poolCreate(): Promise<unknown> {
    const connection = new RecordingConnection(this.connections.length, this)
    this.connections.push(connection)
    return Promise.resolve(connection)
  }
}
