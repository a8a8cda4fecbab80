/**
 * A Casbin `Watcher` (`setUpdateCallback`, `update`, `close`) on PostgreSQL LISTEN/NOTIFY, with
 * its own connection of the service login: it never listens on a pooled delegation connection.
 *
 * casbin-pg-watcher 0.1.1 is not used, for two reasons. Its notification handler reads
 * `payload.source` unchecked, so `NOTIFY <channel>` without a payload, which any database login
 * may send, throws inside the driver's event handler and ends the process. And after a lost
 * connection it gives up once pg-listen's default `retryTimeout` of 3 seconds has passed, and it
 * never reloads after reconnecting, so a change made while it was offline stays missed.
 */

import { randomUUID } from 'node:crypto'

import pg from 'pg'
import type { ClientConfig } from 'pg'

export type PolicyWatcherState = 'listening' | 'disconnected'

export interface PostgresPolicyWatcherOptions {
  /** Connection string of the service's own login. */
  readonly connectionString: string
  /** Channel to listen on: lower-case letters, digits and `_`, at most 63 characters. */
  readonly channel: string
  /** Passed to node-postgres as `ssl`. Default: the setting in the connection string. */
  readonly ssl?: ClientConfig['ssl']
  /** First wait before reconnecting, doubled after each failed attempt. Default 100 ms. */
  readonly reconnectDelayMs?: number
  /** Maximum wait between reconnection attempts. Default 5,000 ms. */
  readonly maxReconnectDelayMs?: number
  /**
   * Interval of a `SELECT 1` on the listening connection, which finds a connection that died
   * without an error (a silent network drop). Default 30,000 ms; 0 disables it.
   */
  readonly healthCheckMs?: number
  /**
   * Called when the connection is listening (at the start and after each reconnection) and when
   * it is lost. Failed reconnection attempts are not reported one by one.
   */
  readonly onStateChange?: (state: PolicyWatcherState, error: Error | null) => void
}

export class PostgresPolicyWatcher {
  /** Sent with each `update()`, so this watcher ignores its own notifications. */
  readonly id = randomUUID()
  readonly channel: string
  readonly #options: PostgresPolicyWatcherOptions
  #client: pg.Client | null = null
  #callback: () => void = () => {}
  #closed = false
  #reconnectDelay: number
  #reconnectTimer: NodeJS.Timeout | undefined
  #healthTimer: NodeJS.Timeout | undefined

  private constructor(options: PostgresPolicyWatcherOptions) {
    this.#options = options
    this.channel = options.channel
    this.#reconnectDelay = options.reconnectDelayMs ?? 100
  }

  /**
   * Connects and starts listening.
   * @throws TypeError when the channel name is invalid; the driver's error when the first
   *   connection fails. Later connection losses are retried without end.
   */
  static async open(options: PostgresPolicyWatcherOptions): Promise<PostgresPolicyWatcher> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.channel)) {
      throw new TypeError(
        `invalid channel "${options.channel}": use 1 to 63 lower-case letters, digits or "_"`,
      )
    }
    const watcher = new PostgresPolicyWatcher(options)
    await watcher.#connect()
    return watcher
  }

  /** True while the connection is up and listening. */
  get listening(): boolean {
    return this.#client !== null
  }

  /**
   * Sets the function called for each notification from another sender, and once after each
   * reconnection, because notifications sent while the connection was down are lost.
   */
  setUpdateCallback(callback: () => void): void {
    this.#callback = callback
  }

  /**
   * Tells the other listeners that the policy changed.
   * @returns false when the connection is down and no notification was sent.
   */
  async update(): Promise<boolean> {
    const client = this.#client
    if (client === null) return false
    const payload = JSON.stringify({ source: this.id })
    await client.query('SELECT pg_notify($1, $2)', [this.channel, payload])
    return true
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#reconnectTimer)
    clearInterval(this.#healthTimer)
    const client = this.#client
    this.#client = null
    await client?.end().catch(() => undefined)
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      ...(this.#options.ssl === undefined ? {} : { ssl: this.#options.ssl }),
      application_name: 'sqlgate-policy-watcher',
      keepAlive: true,
      query_timeout: 10_000,
    })
    client.on('error', (error) => this.#lost(client, error))
    client.on('end', () => this.#lost(client, null))
    client.on('notification', (message) => {
      if (message.channel !== this.channel) return
      if (senderOf(message.payload) === this.id) return
      this.#runCallback()
    })

    try {
      await client.connect()
      await client.query(`LISTEN ${this.channel}`)
    } catch (error) {
      client.removeAllListeners()
      client.on('error', () => undefined)
      await client.end().catch(() => undefined)
      throw error
    }
    if (this.#closed) {
      await client.end().catch(() => undefined)
      return
    }

    this.#client = client
    this.#reconnectDelay = this.#options.reconnectDelayMs ?? 100
    this.#startHealthCheck(client)
    this.#options.onStateChange?.('listening', null)
  }

  #lost(client: pg.Client, error: Error | null): void {
    // Events of a client that was already replaced or closed are ignored.
    if (this.#client !== client) return
    this.#client = null
    clearInterval(this.#healthTimer)
    client.removeAllListeners('notification')
    client.end().catch(() => undefined)
    if (this.#closed) return

    this.#options.onStateChange?.('disconnected', error)
    this.#scheduleReconnect()
  }

  #scheduleReconnect(): void {
    const delay = this.#reconnectDelay
    this.#reconnectDelay = Math.min(delay * 2, this.#options.maxReconnectDelayMs ?? 5_000)
    this.#reconnectTimer = setTimeout(() => {
      this.#connect().then(
        () => {
          if (!this.#closed) this.#runCallback()
        },
        () => {
          if (!this.#closed) this.#scheduleReconnect()
        },
      )
    }, delay)
  }

  #startHealthCheck(client: pg.Client): void {
    const interval = this.#options.healthCheckMs ?? 30_000
    if (interval <= 0) return
    this.#healthTimer = setInterval(() => {
      client.query('SELECT 1').catch((error: Error) => this.#lost(client, error))
    }, interval)
    this.#healthTimer.unref()
  }

  #runCallback(): void {
    try {
      this.#callback()
    } catch {
      // The callback starts a reload that reports its own failures; a throw must not reach the
      // driver's event handler, where it would end the process.
    }
  }
}

/** Returns the `source` of a notification payload, or `null` for any other payload. */
function senderOf(payload: string | undefined): string | null {
  if (payload === undefined || payload === '') return null
  try {
    const value: unknown = JSON.parse(payload)
    if (typeof value !== 'object' || value === null) return null
    const source: unknown = (value as { source?: unknown }).source
    return typeof source === 'string' ? source : null
  } catch {
    return null
  }
}
