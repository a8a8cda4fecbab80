/**
 * Verification of the requestor's token before it is exchanged, with one JWKS per trusted issuer.
 */

import { decodeJwt } from 'jose'

import { TokenInvalid } from '../errors.js'
import { verifyJwt } from './verify-jwt.js'
import type { JwtVerificationOptions } from './verify-jwt.js'

/** Verification settings per trusted issuer, or `identity-provider` to skip the local check. */
export type RequestorCheck = readonly JwtVerificationOptions[] | 'identity-provider'

/**
 * Verifies `token` under the entry whose `issuer` matches the token's unverified `iss`, and
 * returns when the token expires in ms since the epoch. With `identity-provider`, nothing is
 * verified and the expiry is read without verification, only to bound caching (Infinity when
 * unknown).
 *
 * @throws TokenInvalid when the token is not a JWT, its issuer is not trusted, or verification
 *   fails.
 * @throws TokenExpired when the token is expired or not yet valid.
 */
export async function verifyRequestorToken(check: RequestorCheck, token: string): Promise<number> {
  if (check === 'identity-provider') return unverifiedExpiry(token)

  let issuer: string | undefined
  try {
    issuer = decodeJwt(token).iss
  } catch (cause) {
    throw new TokenInvalid('malformed', 'subject token is not a well-formed JWT', { cause })
  }

  const options = check.find(
    (entry) => issuer !== undefined && [entry.issuer].flat().includes(issuer),
  )
  if (options === undefined) {
    throw new TokenInvalid('issuer', 'subject token issuer is not accepted')
  }

  const { payload } = await verifyJwt(token, options)
  return (payload.exp ?? 0) * 1000
}

function unverifiedExpiry(token: string): number {
  try {
    const { exp } = decodeJwt(token)
    return typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY
  } catch {
    return Number.POSITIVE_INFINITY
  }
}
