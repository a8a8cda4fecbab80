/**
 * A bounded cache of decisions. The key contains the dialect, domain, sorted role set, policy
 * version and the exact SQL text, so a hit can never return a decision made for another role set
 * or another policy version. Bounded by entry count and by the bytes of SQL text held.
 *
 * Eviction approximates least-recently-used with the second-chance (CLOCK) policy. A hit only
 * marks its entry. When the cache is full, the oldest entry is evicted unless it is marked, and a
 * marked entry is unmarked and moved to the back instead. A hit therefore costs one map lookup
 * and never reorders the map.
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

interface CacheEntry {
  readonly decision: Decision
  /** Set by a hit, cleared when the entry gets its second chance. */
  used: boolean
}

export class DecisionCache {
  readonly #entries = new Map<string, CacheEntry>()
  readonly #maxEntries: number
  readonly #maxKeyChars: number
  readonly #maxSqlChars: number
  #keyChars = 0

  constructor(options: DecisionCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#maxKeyChars = options.maxKeyChars ?? 16 * 1024 * 1024
    this.#maxSqlChars = options.maxSqlChars ?? 16 * 1024
  }

  /**
   * Builds the cache key, or `null` when the SQL is too long to cache. Every part but the last is
   * written with its length in front, so no choice of characters in one part can make two
   * different requests share a key.
   */
  key(
    dialect: string,
    domain: string,
    roleKey: string,
    policyVersion: string,
    sql: string,
  ): string | null {
    if (sql.length > this.#maxSqlChars) return null
    return (
      `${dialect.length}:${dialect}${domain.length}:${domain}${roleKey.length}:${roleKey}` +
      `${policyVersion.length}:${policyVersion}${sql}`
    )
  }

  get(key: string): Decision | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    entry.used = true
    return entry.decision
  }

  set(key: string, decision: Decision): void {
    if (this.#entries.has(key)) return
    this.#entries.set(key, { decision, used: false })
    this.#keyChars += key.length
    // Moving an entry unmarks it, so every older entry is moved at most once and the loop ends.
    // The new entry is moved past the others and is evicted only when nothing else is left.
    while (this.#entries.size > this.#maxEntries || this.#keyChars > this.#maxKeyChars) {
      const oldest = this.#entries.entries().next()
      if (oldest.done === true) break
      const [oldestKey, entry] = oldest.value
      this.#entries.delete(oldestKey)
      if ((entry.used || oldestKey === key) && this.#entries.size > 0) {
        entry.used = false
        this.#entries.set(oldestKey, entry)
      } else {
        this.#keyChars -= oldestKey.length
      }
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
