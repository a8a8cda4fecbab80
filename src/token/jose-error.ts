/**
 * Translates jose's verification errors into sqlgate's token errors. The jose error stays as
 * `cause`, with the decoded claims it carries hidden from `util.inspect` and `JSON.stringify`.
 */

import { errors } from 'jose'

import { SqlgateError, TokenExpired, TokenInvalid } from '../errors.js'

/** Values of `TokenInvalid.reason` that token verification produces. */
export type TokenInvalidReason =
  | 'malformed'
  | 'too-large'
  | 'signature'
  | 'algorithm'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'key-not-found'
  | 'key-invalid'
  | 'key-set-unavailable'
  | 'unverifiable'

/**
 * Maps an error thrown while verifying a JWT to `TokenInvalid` or `TokenExpired`. A sqlgate
 * error passes through unchanged. An error of unknown kind becomes `TokenInvalid` with reason
 * `unverifiable`, so an unexpected failure never lets a token through.
 */
export function toTokenError(error: unknown): SqlgateError {
  if (error instanceof SqlgateError) return error

  hideClaims(error)

  if (error instanceof errors.JWTExpired) {
    return new TokenExpired('token has expired', { cause: error })
  }

  if (error instanceof errors.JWTClaimValidationFailed) {
    return claimError(error)
  }

  const [reason, message] = describe(error)
  return new TokenInvalid(reason, message, { cause: error })
}

function claimError(error: InstanceType<typeof errors.JWTClaimValidationFailed>): SqlgateError {
  const checkFailed = error.reason === 'check_failed'

  switch (error.claim) {
    case 'iss':
      return new TokenInvalid('issuer', 'token issuer is not accepted', { cause: error })
    case 'aud':
      return new TokenInvalid('audience', 'token audience is not accepted', { cause: error })
    case 'nbf':
      if (checkFailed) return new TokenExpired('token is not yet valid', { cause: error })
      break
    default:
      break
  }

  const problem = error.reason === 'missing' ? 'is missing' : 'is invalid'
  return new TokenInvalid('claims', `token "${error.claim}" claim ${problem}`, { cause: error })
}

function describe(error: unknown): [TokenInvalidReason, string] {
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return ['signature', 'token signature verification failed']
  }

  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return ['algorithm', 'token signing algorithm is not allowed']
  }

  if (error instanceof errors.JWKSNoMatchingKey) {
    return ['key-not-found', 'no key in the key set matches the token']
  }

  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return ['key-not-found', 'more than one key in the key set matches the token']
  }

  if (error instanceof errors.JWKInvalid) {
    return ['key-invalid', 'key that matches the token is invalid']
  }

  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return ['key-set-unavailable', 'key set could not be fetched']
  }

  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return ['malformed', 'token is not a well-formed signed JWT']
  }

  if (error instanceof errors.JOSEError || isFetchFailure(error)) {
    // A failed JWKS fetch: non-200 response, unparsable body or network error.
    return ['key-set-unavailable', 'key set could not be fetched']
  }

  return ['unverifiable', 'token could not be verified']
}

function isFetchFailure(error: unknown): boolean {
  return error instanceof TypeError && error.message === 'fetch failed'
}

/** Makes the decoded payload that jose attaches to claim errors non-enumerable. */
function hideClaims(error: unknown): void {
  if (!(error instanceof errors.JOSEError) || !('payload' in error)) return

  Object.defineProperty(error, 'payload', { enumerable: false })
  const cause = (error as { cause?: unknown }).cause
  if (typeof cause === 'object' && cause !== null && 'payload' in cause) {
    const { claim, reason } = cause as { claim?: unknown; reason?: unknown }
    Object.defineProperty(error, 'cause', {
      value: { claim, reason },
      enumerable: false,
      configurable: true,
      writable: true,
    })
  }
}
