/**
 * Per-module configuration of an RFC 8693 token exchange. Each delegation module has its own, so
 * two modules can trust two different identity providers.
 */

import { inspect } from 'node:util'

import type { KeySet, KeySetSource } from './key-set.js'
import type { LegacyNameFormat } from './legacy-name.js'
import type { JwtVerificationOptions } from './verify-jwt.js'

/** Token type URIs from RFC 8693, section 3. */
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt'

/**
 * Check of the requestor's token before it is sent to the identity provider.
 * - One or more JWT verification settings: the token must verify under the entry whose `issuer`
 *   matches its `iss` claim (one JWKS per issuer).
 * - `'identity-provider'`: no local check, for opaque access tokens that only the identity
 *   provider can validate.
 *
 * > [!WARNING]
 * > With `'identity-provider'`, any string reaches the token endpoint, and a forged token is
 * > rejected only by the identity provider.
 */
export type RequestorVerification =
  | Omit<JwtVerificationOptions, 'currentDate'>
  | readonly Omit<JwtVerificationOptions, 'currentDate'>[]
  | 'identity-provider'

/** Exchange result cache settings. */
export interface TokenExchangeCacheConfig {
  /** Cache exchange results. Default `true`. */
  readonly enabled?: boolean
  /** Entries kept per configuration before the least recently used is evicted. Default 1000. */
  readonly maxEntries?: number
  /**
   * An entry stops being served this many seconds before the TE-JWT or the requestor token
   * expires, whichever is first. Default 30.
   */
  readonly expirySkewSeconds?: number
}

/** Configuration of one module's token exchange. */
export interface TokenExchangeConfig {
  /** Name of the identity provider, used in error messages and logs. */
  readonly idpName: string
  /** Token endpoint: `https:`, or `http:` to a loopback host only. */
  readonly tokenEndpoint: string | URL
  readonly clientId: string
  /** Client secret. Kept out of messages, logs, `JSON.stringify` and `util.inspect`. */
  readonly clientSecret: string
  /** Requested `audience`, and the `aud` the TE-JWT must contain. */
  readonly audience: string
  /** Requested `scope`, space-separated. Default: none sent. */
  readonly scope?: string
  /** `subject_token_type` sent. Default {@link TOKEN_TYPE_ACCESS_TOKEN}. */
  readonly subjectTokenType?: string
  /** `requested_token_type` sent, and then required as `issued_token_type`. Default: none. */
  readonly requestedTokenType?: string
  /** Client authentication: HTTP Basic (`basic`) or form fields (`post`). Default `basic`. */
  readonly clientAuth?: 'basic' | 'post'
  /** TE-JWT claim with the database role to impersonate. Default `legacy_name`. */
  readonly requiredClaim?: string
  /** Role name rules that `requiredClaim` must follow. Default `postgres`. */
  readonly legacyNameFormat?: LegacyNameFormat
  /** TE-JWT claim with the policy roles, a JSON array of strings. Default `roles`. */
  readonly rolesClaim?: string
  /** Accept the roles claim as one comma or space separated string. Default `false`. */
  readonly allowDelimitedRoles?: boolean
  /** Roles added for scopes granted in the TE-JWT, as in `verifyToken`. Default none. */
  readonly scopeRoles?: Readonly<Record<string, string | readonly string[]>>
  /** Required `iss` of the TE-JWT. */
  readonly issuer: string
  /** JWKS of the identity provider. Give this or `keySet`. */
  readonly jwksUrl?: string | URL
  /** Keys that sign TE-JWTs, when not fetched from `jwksUrl`. */
  readonly keySet?: KeySet | KeySetSource
  /** Minimum time between JWKS refetches caused by unknown key ids. Default 30000 ms. */
  readonly jwksCooldownMs?: number
  /** TE-JWT signing algorithms. Default: every asymmetric algorithm. */
  readonly algorithms?: readonly string[]
  /** Allowed clock difference for `exp` and `nbf` of the TE-JWT, in seconds. Default 30. */
  readonly clockToleranceSeconds?: number
  /** Reject TE-JWTs without an `nbf` claim. Default `false`: `nbf` is checked when present. */
  readonly requireNotBefore?: boolean
  /** Check of the requestor token before the exchange. Required. */
  readonly requestorVerification: RequestorVerification
  readonly cache?: TokenExchangeCacheConfig
  /** Timeout of one token endpoint request, including reading the body. Default 5000 ms. */
  readonly timeoutMs?: number
  /** Retries after a network error, a timeout or an HTTP 5xx. Never after a 4xx. Default 2. */
  readonly retries?: number
  /** First retry delay; each later one doubles, with jitter. Default 200 ms. */
  readonly retryDelayMs?: number
  /** Largest retry delay. Default 2000 ms. */
  readonly maxRetryDelayMs?: number
  /** Largest token endpoint response body accepted. Default 65536 bytes. */
  readonly maxResponseBytes?: number
}

const REDACTED = '[redacted]'

/**
 * Creates a frozen copy of `config` whose `clientSecret` is non-enumerable and redacted from
 * `JSON.stringify` and `util.inspect`. Use it for configurations that may be logged.
 */
export function createTokenExchangeConfig(config: TokenExchangeConfig): TokenExchangeConfig {
  const { clientSecret, ...visible } = config
  const copy = { ...visible }
  const redacted = redactTokenExchangeConfig(config)

  Object.defineProperties(copy, {
    clientSecret: { value: clientSecret, enumerable: false },
    toJSON: { value: () => redacted, enumerable: false },
    [inspect.custom]: {
      value: (depth: number, options: object) =>
        `TokenExchangeConfig ${inspect(redacted, { ...options, depth })}`,
      enumerable: false,
    },
  })

  return Object.freeze(copy) as TokenExchangeConfig
}

/**
 * Returns a copy of `config` that is safe to log: the client secret and any HMAC key set secret
 * are replaced by `[redacted]`.
 */
export function redactTokenExchangeConfig(config: TokenExchangeConfig): Record<string, unknown> {
  const { requestorVerification, keySet, ...rest } = config
  const requestor =
    typeof requestorVerification === 'string'
      ? requestorVerification
      : [requestorVerification].flat().map((entry) => ({
          ...entry,
          keySet: redactKeySet(entry.keySet),
        }))

  return {
    ...rest,
    clientSecret: REDACTED,
    ...(keySet !== undefined && { keySet: redactKeySet(keySet) }),
    requestorVerification: requestor,
  }
}

function redactKeySet(keySet: KeySet | KeySetSource): unknown {
  return typeof keySet === 'object' && keySet !== null && 'secret' in keySet
    ? { secret: REDACTED }
    : keySet
}
