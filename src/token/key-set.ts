/**
 * Key sets that verify JWT signatures: an inline JWKS, a JWKS file, a remote JWKS URL, or an
 * explicitly configured HMAC secret. Only the secret form ever allows HMAC algorithms.
 */

import { readFile } from 'node:fs/promises'
import { inspect } from 'node:util'

import { createLocalJWKSet, createRemoteJWKSet } from 'jose'
import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose'

import { TokenInvalid } from '../errors.js'
import type { KeySetKind } from './algorithms.js'
import { parseEndpointUrl } from './endpoint-url.js'

/** A JWKS given inline. Read once. */
export interface InlineKeySetSource {
  readonly jwks: JSONWebKeySet
}

/** A JWKS file. Read on first use and kept, so build a new key set to pick up a changed file. */
export interface FileKeySetSource {
  readonly jwksFile: string
}

/**
 * A JWKS served over HTTP. jose fetches it on first use, again after `cacheMaxAgeMs`, and again
 * when a token names an unknown `kid` once `cooldownMs` has passed since the last fetch, so key
 * rotation at the identity provider is picked up without a restart. Redirects are not followed.
 */
export interface RemoteKeySetSource {
  /** `https:` URL, or `http:` to a loopback host only. */
  readonly jwksUrl: string | URL
  /** Minimum time between two fetches caused by unknown key ids. Default 30000 ms. */
  readonly cooldownMs?: number
  /** Time after which the fetched JWKS is fetched again. Default 600000 ms. */
  readonly cacheMaxAgeMs?: number
  /** Timeout of one JWKS fetch. Default 5000 ms. */
  readonly timeoutMs?: number
}

/**
 * A shared HMAC secret. Only a key set built from this form accepts HS256, HS384 or HS512, and
 * only the algorithms whose minimum key length the secret meets (32, 48 and 64 bytes).
 * A string is encoded as UTF-8.
 */
export interface SecretKeySetSource {
  readonly secret: Uint8Array | string
}

/** The accepted ways to name the keys that may sign a token. */
export type KeySetSource =
  | InlineKeySetSource
  | FileKeySetSource
  | RemoteKeySetSource
  | SecretKeySetSource

type KeyInput = JWTVerifyGetKey | Uint8Array

/**
 * A ready key set. Build it once with {@link createKeySet} and reuse it: a remote key set keeps
 * its fetched keys and its refetch cooldown in this object.
 */
export class KeySet {
  /** `symmetric` only for a secret given as {@link SecretKeySetSource}. */
  readonly kind: KeySetKind
  /** Length of the HMAC secret in bytes, 0 for an asymmetric key set. */
  readonly secretBytes: number
  /** Source kind of the keys, without key material: `inline`, `file`, `remote` or `secret`. */
  readonly origin: 'inline' | 'file' | 'remote' | 'secret'
  #load: () => Promise<KeyInput>
  #loaded: Promise<KeyInput> | undefined

  constructor(
    kind: KeySetKind,
    origin: KeySet['origin'],
    secretBytes: number,
    load: () => Promise<KeyInput>,
  ) {
    this.kind = kind
    this.origin = origin
    this.secretBytes = secretBytes
    this.#load = load
  }

  /**
   * Returns the key or key resolver to hand to jose.
   * @throws TokenInvalid with reason `key-set-unavailable` when a JWKS file cannot be read.
   */
  async keyInput(): Promise<KeyInput> {
    if (this.#loaded === undefined) {
      const loading = this.#load()
      this.#loaded = loading
      // A failed file read is retried on the next call instead of being cached.
      loading.catch(() => {
        if (this.#loaded === loading) this.#loaded = undefined
      })
    }

    return this.#loaded
  }

  toJSON(): object {
    return { kind: this.kind, origin: this.origin }
  }

  [inspect.custom](): string {
    return `KeySet { kind: '${this.kind}', origin: '${this.origin}' }`
  }
}

/**
 * Builds a key set from a source.
 * @throws TypeError when the source has none or more than one of `jwks`, `jwksFile`, `jwksUrl`
 *   and `secret`, when a URL is not acceptable, or when a secret is shorter than 32 bytes.
 */
export function createKeySet(source: KeySetSource): KeySet {
  const forms = ['jwks', 'jwksFile', 'jwksUrl', 'secret'].filter((name) => name in source)
  if (forms.length !== 1) {
    throw new TypeError('key set must have exactly one of "jwks", "jwksFile", "jwksUrl", "secret"')
  }

  if ('jwks' in source) {
    let resolver: JWTVerifyGetKey
    try {
      resolver = createLocalJWKSet(source.jwks)
    } catch (cause) {
      throw new TypeError('"jwks" option must be a JSON Web Key Set', { cause })
    }

    return new KeySet('asymmetric', 'inline', 0, () => Promise.resolve(resolver))
  }

  if ('jwksFile' in source) {
    const path = source.jwksFile
    if (typeof path !== 'string' || path === '') {
      throw new TypeError('"jwksFile" option must be a non-empty path')
    }

    return new KeySet('asymmetric', 'file', 0, () => loadJwksFile(path))
  }

  if ('jwksUrl' in source) {
    const url = parseEndpointUrl(source.jwksUrl, 'jwksUrl')
    const resolver = createRemoteJWKSet(url, {
      ...(source.cooldownMs !== undefined && { cooldownDuration: source.cooldownMs }),
      ...(source.cacheMaxAgeMs !== undefined && { cacheMaxAge: source.cacheMaxAgeMs }),
      ...(source.timeoutMs !== undefined && { timeoutDuration: source.timeoutMs }),
    })
    return new KeySet('asymmetric', 'remote', 0, () => Promise.resolve(resolver))
  }

  const secret =
    typeof source.secret === 'string' ? new TextEncoder().encode(source.secret) : source.secret
  if (!(secret instanceof Uint8Array) || secret.byteLength < 32) {
    throw new TypeError('"secret" key set must be at least 32 bytes long')
  }

  const copy = Uint8Array.from(secret)
  return new KeySet('symmetric', 'secret', copy.byteLength, () => Promise.resolve(copy))
}

async function loadJwksFile(path: string): Promise<JWTVerifyGetKey> {
  try {
    const jwks = JSON.parse(await readFile(path, 'utf8')) as JSONWebKeySet
    return createLocalJWKSet(jwks)
  } catch (cause) {
    throw new TokenInvalid('key-set-unavailable', 'JWKS file could not be read or parsed', {
      cause,
    })
  }
}
