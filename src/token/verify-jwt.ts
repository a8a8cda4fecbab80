/**
 * Signature and registered-claim verification of a JWT, without sqlgate's identity claims. The
 * token exchange service uses it for the requestor token, which need not carry them.
 */

import { jwtVerify } from 'jose'
import type { JWTPayload } from 'jose'

import { TokenInvalid } from '../errors.js'
import { resolveAlgorithms } from './algorithms.js'
import { toTokenError } from './jose-error.js'
import { KeySet, createKeySet } from './key-set.js'
import type { KeySetSource } from './key-set.js'

/** Checks of a JWT besides sqlgate's identity claims. */
export interface JwtVerificationOptions {
  /**
   * Keys that may sign the token. Pass a {@link KeySet} from `createKeySet` to share one key set
   * between option objects. A source is turned into a key set once per source object.
   */
  readonly keySet: KeySet | KeySetSource
  /** Accepted `iss` values. Required: a token from any other issuer is rejected. */
  readonly issuer: string | readonly string[]
  /** Accepted `aud` values. Required: the token's `aud` must contain one of them. */
  readonly audience: string | readonly string[]
  /**
   * Accepted JWS algorithms. Default: every asymmetric algorithm (RS, PS, ES, EdDSA) for a JWKS,
   * every HMAC algorithm the secret is long enough for when the key set is a secret. `none` and
   * mixing HMAC with public keys are rejected with a `TypeError`.
   */
  readonly algorithms?: readonly string[]
  /** Allowed clock difference when checking `exp` and `nbf`, in seconds. Default 30. */
  readonly clockToleranceSeconds?: number
  /**
   * Reject tokens without an `nbf` claim. Default `false`, because many identity providers omit
   * `nbf`. An `nbf` that is present is always checked.
   */
  readonly requireNotBefore?: boolean
  /** Largest token accepted, in bytes, checked before any parsing. Default 16384. */
  readonly maxTokenBytes?: number
  /** Time to verify against, for tests. Default: now. */
  readonly currentDate?: Date
}

/** A verified payload and the configured audience that its `aud` claim matched. */
export interface VerifiedJwt {
  readonly payload: JWTPayload
  readonly audience: string
}

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30
const DEFAULT_MAX_TOKEN_BYTES = 16384

const keySets = new WeakMap<KeySetSource, KeySet>()

/**
 * Verifies the signature, algorithm, `iss`, `aud`, `exp` and `nbf` of a compact JWS.
 * @throws TokenInvalid (with `reason`) or TokenExpired, with jose's error as `cause`. Neither
 *   message contains the token.
 * @throws TypeError when the options are unusable.
 */
export async function verifyJwt(
  token: string,
  options: JwtVerificationOptions,
): Promise<VerifiedJwt> {
  const keySet = resolveKeySet(options.keySet)
  const algorithms = resolveAlgorithms(keySet.kind, keySet.secretBytes, options.algorithms)
  const issuers = toList(options.issuer, 'issuer')
  const audiences = toList(options.audience, 'audience')
  const clockTolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new TypeError('"clockToleranceSeconds" option must be a non-negative number')
  }

  if (typeof token !== 'string' || token === '') {
    throw new TokenInvalid('malformed', 'token is missing')
  }

  const requireNotBefore = options.requireNotBefore ?? false
  const maxBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES
  if (Buffer.byteLength(token, 'utf8') > maxBytes) {
    throw new TokenInvalid('too-large', `token is larger than ${maxBytes} bytes`)
  }

  try {
    const key = await keySet.keyInput()
    const { payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], {
      algorithms,
      issuer: issuers,
      audience: audiences,
      clockTolerance,
      requiredClaims: ['iss', 'aud', 'exp', ...(requireNotBefore ? ['nbf'] : [])],
      ...(options.currentDate !== undefined && { currentDate: options.currentDate }),
    })

    return { payload, audience: matchAudience(payload, audiences) }
  } catch (error) {
    throw toTokenError(error)
  }
}

function resolveKeySet(value: KeySet | KeySetSource): KeySet {
  if (value instanceof KeySet) return value
  if (typeof value !== 'object' || value === null) {
    throw new TypeError('"keySet" option must be a KeySet or a key set source')
  }

  let keySet = keySets.get(value)
  if (keySet === undefined) {
    keySet = createKeySet(value)
    keySets.set(value, keySet)
  }

  return keySet
}

function toList(value: string | readonly string[], option: string): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? [...value] : []
  if (list.length === 0 || !list.every((item) => typeof item === 'string' && item !== '')) {
    throw new TypeError(`"${option}" option must be a non-empty string or array of strings`)
  }

  return list
}

function matchAudience(payload: JWTPayload, audiences: readonly string[]): string {
  const claimed = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? [])
  const matched = audiences.find((audience) => claimed.includes(audience))
  if (matched === undefined) {
    // jose has already checked the audience, so this is unreachable unless jose changes.
    throw new TokenInvalid('audience', 'token audience is not accepted')
  }

  return matched
}
