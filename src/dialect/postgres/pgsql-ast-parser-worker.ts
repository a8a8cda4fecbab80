/**
 * Runs pgsql-ast-parser in a worker thread with a time and memory limit, while the caller waits
 * synchronously. The parser's lexer backtracks exponentially on some inputs of a few hundred
 * characters (a generated statement of 284 characters took 164 s), and a front end's `analyze`
 * is synchronous, so the calling thread blocks on `Atomics.wait` with a timeout. A worker that
 * does not reply in time is terminated and replaced on the next call.
 */

import { createRequire } from 'node:module'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'

/** The worker's reply: the statements as JSON, or the name and message of the error. */
type ParseReply =
  | { readonly ok: true; readonly json: string }
  | { readonly ok: false; readonly name: string; readonly message: string }

/** The parse did not finish within the time limit, or the worker ran out of memory. */
export class ParseTimeout extends Error {}

// The worker is CommonJS evaluated from this string, so it needs no separate file in `dist/`.
// The tree travels as JSON because some nodes hold lexer tokens with methods, which the
// structured clone of postMessage rejects.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { parse } = require(workerData.modulePath)
const { signal, port } = workerData
Atomics.store(signal, 0, 1)
Atomics.notify(signal, 0)
parentPort.on('message', (sql) => {
  let reply
  try {
    reply = { ok: true, json: JSON.stringify(parse(sql, { locationTracking: true })) }
  } catch (error) {
    const name = String(error && error.name)
    reply = { ok: false, name, message: String(error && error.message) }
  }
  port.postMessage(reply)
  Atomics.store(signal, 0, 1)
  Atomics.notify(signal, 0)
})
`

interface RunningWorker {
  readonly worker: Worker
  readonly port: MessagePort
  readonly signal: Int32Array
}

/** Time limit for a worker to start and load the parser, in milliseconds. */
const START_TIMEOUT_MS = 10_000

export interface ParserWorkerOptions {
  /** Time limit of one parse in milliseconds. */
  readonly timeoutMs: number
  /** Heap limit of the worker in megabytes. */
  readonly maxHeapMb: number
}

/** A pgsql-ast-parser running in its own thread, started on first use. */
export class PgsqlAstParserWorker {
  readonly #options: ParserWorkerOptions
  #running: RunningWorker | null = null

  constructor(options: ParserWorkerOptions) {
    this.#options = options
  }

  /**
   * Parses `sql` with location tracking and returns the statements.
   * @throws ParseTimeout when the worker does not reply within the time limit.
   * @throws Error with the parser's name and message when the parser rejects the text.
   */
  parse(sql: string): unknown[] {
    const running = this.#running ?? this.#start()
    Atomics.store(running.signal, 0, 0)
    running.worker.postMessage(sql)

    const outcome = Atomics.wait(running.signal, 0, 0, this.#options.timeoutMs)
    const received = outcome === 'timed-out' ? undefined : receiveMessageOnPort(running.port)
    if (received === undefined) {
      this.#stop()
      throw new ParseTimeout(`pgsql-ast-parser did not finish within ${this.#options.timeoutMs} ms`)
    }

    const reply = received.message as ParseReply
    if (reply.ok) return JSON.parse(reply.json) as unknown[]
    if (reply.name === 'RangeError') throw new RangeError(reply.message)
    throw new Error(reply.message)
  }

  #start(): RunningWorker {
    const signal = new Int32Array(new SharedArrayBuffer(4))
    const channel = new MessageChannel()
    const modulePath = createRequire(import.meta.url).resolve('pgsql-ast-parser')
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { modulePath, signal, port: channel.port2 },
      transferList: [channel.port2],
      resourceLimits: { maxOldGenerationSizeMb: this.#options.maxHeapMb },
      // The worker inherits no loader flags: it runs plain CommonJS.
      execArgv: [],
    })
    // A worker that runs out of memory emits `error`; the parse then times out and is denied.
    worker.on('error', () => {})
    worker.unref()
    channel.port1.unref()
    this.#running = { worker, port: channel.port1, signal }
    // The first parse waits for the worker to load the parser, so start time is not parse time.
    if (Atomics.wait(signal, 0, 0, START_TIMEOUT_MS) === 'timed-out') {
      this.#stop()
      throw new ParseTimeout(`pgsql-ast-parser did not start within ${START_TIMEOUT_MS} ms`)
    }
    return this.#running
  }

  #stop(): void {
    const running = this.#running
    this.#running = null
    if (running === null) return
    running.port.close()
    void running.worker.terminate()
  }
}
