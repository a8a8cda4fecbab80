/**
 * A bounded, expiring cache of exchange results with request coalescing: concurrent requests for
 * one key share a single exchange, and a failed exchange leaves nothing behind.
 */

import { createHash } from 'node:crypto'

/** A value and the time (ms since the epoch) after which it must no longer be served. */
export interface Expiring<V> {
  readonly value: V
  readonly expiresAtMs: number
}

/** Cache limits. */
export interface ExchangeCacheOptions {
  /** Entries kept before the least recently used one is evicted. */
  readonly maxEntries: number
  /** An entry stops being served this many milliseconds before its expiry. */
  readonly skewMs: number
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number
}

/**
 * Hashes the parts of a cache key with SHA-256. Each part is length-prefixed, so two different
 * lists never produce the same input. Only the digest is stored, never a token.
 */
export function hashCacheKey(parts: readonly string[]): string {
  const hash = createHash('sha256')
  for (const part of parts) {
    hash.update(`${Buffer.byteLength(part, 'utf8')}:`)
    hash.update(part, 'utf8')
  }

  return hash.digest('base64url')
}

/** An LRU cache of exchange results keyed by hashed keys, with an in-flight promise map. */
export class ExchangeCache<V> {
  readonly #entries = new Map<string, Expiring<V>>()
  readonly #inFlight = new Map<string, Promise<V>>()
  readonly #maxEntries: number
  readonly #skewMs: number
  readonly #now: () => number

  constructor(options: ExchangeCacheOptions) {
    this.#maxEntries = options.maxEntries
    this.#skewMs = options.skewMs
    this.#now = options.now ?? Date.now
  }

  /** Number of entries stored, including any that expired but were not looked up since. */
  get size(): number {
    return this.#entries.size
  }

  /** Number of exchanges running. */
  get inFlight(): number {
    return this.#inFlight.size
  }

  /**
   * Returns the cached value for `key`, or joins the running exchange for it, or starts one with
   * `create`. A result is cached only when it is still usable after the skew; a rejection is
   * passed to every waiting caller and not cached.
   */
  async getOrCreate(key: string, create: () => Promise<Expiring<V>>): Promise<V> {
    const cached = this.#get(key)
    if (cached !== undefined) return cached

    const running = this.#inFlight.get(key)
    if (running !== undefined) return running

    const exchange = create().then((result) => {
      this.#set(key, result)
      return result.value
    })
    this.#inFlight.set(key, exchange)

    try {
      return await exchange
    } finally {
      if (this.#inFlight.get(key) === exchange) this.#inFlight.delete(key)
    }
  }

  /** Removes every entry. Running exchanges finish and are cached as usual. */
  clear(): void {
    this.#entries.clear()
  }

  #get(key: string): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined

    this.#entries.delete(key)
    if (this.#now() >= entry.expiresAtMs - this.#skewMs) return undefined

    // Re-inserting moves the entry to the end of the Map's order, the most recently used end.
    this.#entries.set(key, entry)
    return entry.value
  }

  #set(key: string, entry: Expiring<V>): void {
    if (this.#maxEntries <= 0 || this.#now() >= entry.expiresAtMs - this.#skewMs) return

    this.#entries.delete(key)
    this.#entries.set(key, entry)
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next()
      if (oldest.done === true) break
      this.#entries.delete(oldest.value)
    }
  }
}
