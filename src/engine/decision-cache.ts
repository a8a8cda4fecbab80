/**
 * A bounded LRU cache of decisions. The key contains the dialect, domain, sorted role set,
 * policy version and the exact SQL text, so a hit can never return a decision made for another
 * role set or another policy version. Bounded by entry count and by the bytes of SQL text held.
 */

import type { Decision } from '../authorize/decision.js'

export interface DecisionCacheOptions {
  /** Maximum entries. Default 10,000. */
  readonly maxEntries?: number
  /** Maximum total key length in UTF-16 code units (about the bytes of SQL held). Default 16 Mi. */
  readonly maxKeyChars?: number
  /** Longest SQL text that is cached at all. Default 16 Ki characters. */
  readonly maxSqlChars?: number
}

export class DecisionCache {
  readonly #entries = new Map<string, Decision>()
  readonly #maxEntries: number
  readonly #maxKeyChars: number
  readonly #maxSqlChars: number
  #keyChars = 0

  constructor(options: DecisionCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#maxKeyChars = options.maxKeyChars ?? 16 * 1024 * 1024
    this.#maxSqlChars = options.maxSqlChars ?? 16 * 1024
  }

  /** Builds the cache key, or `null` when the SQL is too long to cache. */
  key(
    dialect: string,
    domain: string,
    roleKey: string,
    policyVersion: string,
    sql: string,
  ): string | null {
    if (sql.length > this.#maxSqlChars) return null
    return `${dialect}\0${domain}\0${roleKey}\0${policyVersion}\0${sql}`
  }

  get(key: string): Decision | undefined {
    const decision = this.#entries.get(key)
    if (decision === undefined) return undefined

    // Re-insert so the entry becomes the most recently used.
    this.#entries.delete(key)
    this.#entries.set(key, decision)
    return decision
  }

  set(key: string, decision: Decision): void {
    if (this.#entries.has(key)) return
    this.#entries.set(key, decision)
    this.#keyChars += key.length
    while (this.#entries.size > this.#maxEntries || this.#keyChars > this.#maxKeyChars) {
      const oldest = this.#entries.keys().next()
      if (oldest.done === true) break
      this.#entries.delete(oldest.value)
      this.#keyChars -= oldest.value.length
    }
  }

  get size(): number {
    return this.#entries.size
  }

  get keyChars(): number {
    return this.#keyChars
  }

  clear(): void {
    this.#entries.clear()
    this.#keyChars = 0
  }
}
