/**
 * A bounded cache of decisions, looked up in two steps: a context key (dialect, domain and
 * schema, sorted role set, policy version), then the exact SQL text within that context. A hit
 * can therefore never return a decision made for another role set or another policy version.
 * The SQL text is never copied into a longer key, so a lookup hashes the caller's string itself,
 * and V8 keeps a string's hash once computed. Bounded by entry count and by the characters of
 * keys held.
 *
 * Eviction approximates least-recently-used with the second-chance (CLOCK) policy. A hit only
 * marks its entry. When the cache is full, the oldest entry is evicted unless it is marked, and a
 * marked entry is unmarked and moved to the back instead.
 */

import type { Decision } from '../authorize/decision.js'

export interface DecisionCacheOptions {
  /** Maximum entries. Default 10,000. */
  readonly maxEntries?: number
  /**
   * Maximum total length of context keys and SQL texts held, in UTF-16 code units (about the
   * bytes of SQL held). Default 16 Mi.
   */
  readonly maxKeyChars?: number
  /** Longest SQL text that is cached at all. Default 16 Ki characters. */
  readonly maxSqlChars?: number
}

/** What a cached decision depends on besides the SQL text. */
export interface CacheContext {
  readonly dialect: string
  readonly domain: string
  /** Schema that unqualified tables resolve to first. */
  readonly schema: string
  /** Further schemas searched after `schema`, in order. Default: none. */
  readonly otherSchemas?: readonly string[]
  /** Version of the column catalog the check used, or `null` without one. */
  readonly catalogVersion: string | null
  readonly policyVersion: string
  /** Sorted, de-duplicated role names. */
  readonly roles: readonly string[]
}

function sameContext(left: CacheContext, right: CacheContext): boolean {
  if (
    left.dialect !== right.dialect ||
    left.domain !== right.domain ||
    left.schema !== right.schema ||
    left.catalogVersion !== right.catalogVersion ||
    left.policyVersion !== right.policyVersion ||
    left.roles.length !== right.roles.length
  ) {
    return false
  }
  const leftSchemas = left.otherSchemas ?? []
  const rightSchemas = right.otherSchemas ?? []
  return (
    leftSchemas.length === rightSchemas.length &&
    leftSchemas.every((schema, index) => schema === rightSchemas[index]) &&
    left.roles.every((role, index) => role === right.roles[index])
  )
}

interface CacheEntry {
  readonly decision: Decision
  readonly contextKey: string
  readonly sql: string
  /** Set by a hit, cleared when the entry gets its second chance. */
  used: boolean
}

export class DecisionCache {
  /** Entries by context key, then by SQL text. */
  readonly #contexts = new Map<string, Map<string, CacheEntry>>()
  /** Every entry, oldest first, for eviction. */
  readonly #order = new Set<CacheEntry>()
  readonly #maxEntries: number
  readonly #maxKeyChars: number
  readonly #maxSqlChars: number
  #keyChars = 0
  /** The last context and its key, compared by value (the roles are a private copy). */
  #lastContext: { readonly context: CacheContext; readonly key: string } | null = null

  constructor(options: DecisionCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#maxKeyChars = options.maxKeyChars ?? 16 * 1024 * 1024
    this.#maxSqlChars = options.maxSqlChars ?? 16 * 1024
  }

  /**
   * Returns the context key of a request. Every part and every role is written with its length
   * in front, so no choice of characters can make two different contexts share a key. The last
   * key is reused while every part is equal, so a run of requests in one context builds and
   * hashes its key once.
   */
  contextKey(context: CacheContext): string {
    const last = this.#lastContext
    if (last !== null && sameContext(last.context, context)) return last.key

    const otherSchemas = context.otherSchemas ?? []
    // The list lengths are parts too, so a schema can never be read as a role.
    const parts = [context.dialect, context.domain, context.schema, context.catalogVersion]
    parts.push(String(otherSchemas.length), ...otherSchemas)
    parts.push(context.policyVersion, String(context.roles.length), ...context.roles)
    // A missing part is `-`, which no length-prefixed part starts with.
    const key = parts.map((part) => (part === null ? '-' : `${part.length}:${part}`)).join('')
    this.#lastContext = {
      context: { ...context, otherSchemas: [...otherSchemas], roles: [...context.roles] },
      key,
    }
    return key
  }

  /** Tells whether a SQL text is short enough to be cached. */
  accepts(sql: string): boolean {
    return sql.length <= this.#maxSqlChars
  }

  get(contextKey: string, sql: string): Decision | undefined {
    const entry = this.#contexts.get(contextKey)?.get(sql)
    if (entry === undefined) return undefined
    entry.used = true
    return entry.decision
  }

  /** Stores a decision; SQL over `maxSqlChars` is not stored. */
  set(contextKey: string, sql: string, decision: Decision): void {
    if (!this.accepts(sql)) return
    let entries = this.#contexts.get(contextKey)
    if (entries === undefined) {
      entries = new Map()
      this.#contexts.set(contextKey, entries)
    } else if (entries.has(sql)) {
      return
    }

    const added: CacheEntry = { decision, contextKey, sql, used: false }
    entries.set(sql, added)
    this.#order.add(added)
    this.#keyChars += contextKey.length + sql.length

    // Moving an entry unmarks it, so every older entry is moved at most once and the loop ends.
    // The new entry is moved past the others and is evicted only when nothing else is left.
    while (this.#order.size > this.#maxEntries || this.#keyChars > this.#maxKeyChars) {
      const oldest = this.#order.values().next()
      if (oldest.done === true) break
      const entry = oldest.value
      this.#order.delete(entry)
      if ((entry.used || entry === added) && this.#order.size > 0) {
        entry.used = false
        this.#order.add(entry)
      } else {
        this.#remove(entry)
      }
    }
  }

  #remove(entry: CacheEntry): void {
    const entries = this.#contexts.get(entry.contextKey)
    entries?.delete(entry.sql)
    if (entries?.size === 0) this.#contexts.delete(entry.contextKey)
    this.#keyChars -= entry.contextKey.length + entry.sql.length
  }

  get size(): number {
    return this.#order.size
  }

  /** Characters of context keys and SQL texts held. */
  get keyChars(): number {
    return this.#keyChars
  }

  clear(): void {
    this.#contexts.clear()
    this.#order.clear()
    this.#keyChars = 0
  }
}
