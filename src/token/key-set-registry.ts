/**
 * Key sets and configuration identities shared within one token exchange service, so that each
 * JWKS URL is fetched by one key set and equal configurations share one cache.
 */

import { hashCacheKey } from './exchange-cache.js'
import { KeySet, createKeySet } from './key-set.js'
import type { KeySetSource, RemoteKeySetSource } from './key-set.js'
import type { TokenExchangeConfig } from './token-exchange-config.js'

/** Builds key sets on first use and reuses them. Holds no global state: one per service. */
export class KeySetRegistry {
  readonly #remoteKeySets = new Map<string, KeySet>()
  readonly #sourceKeySets = new WeakMap<KeySetSource, KeySet>()
  readonly #objectIds = new WeakMap<object, number>()
  #nextObjectId = 1

  /** Returns one key set per JWKS URL and settings, and one per other source object. */
  resolve(value: KeySet | KeySetSource): KeySet {
    if (value instanceof KeySet) return value

    if ('jwksUrl' in value) {
      const key = remoteKeySetId(value)
      let keySet = this.#remoteKeySets.get(key)
      if (keySet === undefined) {
        keySet = createKeySet(value)
        this.#remoteKeySets.set(key, keySet)
      }

      return keySet
    }

    let keySet = this.#sourceKeySets.get(value)
    if (keySet === undefined) {
      keySet = createKeySet(value)
      this.#sourceKeySets.set(value, keySet)
    }

    return keySet
  }

  /**
   * Describes every setting of `config`, so that two configurations share state (and cached
   * identities) only when they are equal. A remote key set counts by its URL and settings, any
   * other key set object by identity, and the client secret by its SHA-256 digest.
   */
  describe(config: TokenExchangeConfig): string {
    const values = { ...config, clientSecret: hashCacheKey([config.clientSecret]) }

    return JSON.stringify(values, (name, value: unknown) => {
      if (name === 'keySet' && typeof value === 'object' && value !== null) {
        return 'jwksUrl' in value
          ? remoteKeySetId(value as RemoteKeySetSource)
          : `object-${this.#objectId(value)}`
      }

      return value instanceof URL ? value.href : value
    })
  }

  #objectId(value: object): number {
    let id = this.#objectIds.get(value)
    if (id === undefined) {
      id = this.#nextObjectId
      this.#nextObjectId += 1
      this.#objectIds.set(value, id)
    }

    return id
  }
}

function remoteKeySetId(source: RemoteKeySetSource): string {
  const { jwksUrl, cooldownMs, cacheMaxAgeMs, timeoutMs } = source
  return JSON.stringify(['remote', String(jwksUrl), cooldownMs, cacheMaxAgeMs, timeoutMs])
}
