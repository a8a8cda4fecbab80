/**
 * Verification of a sqlgate identity token: a signed JWT that names the end user, the database
 * role to impersonate and the policy roles.
 */

import { readIdentityClaims, validateIdentityClaimOptions } from './identity-claims.js'
import type { IdentityClaimOptions } from './identity-claims.js'
import { verifyJwt } from './verify-jwt.js'
import type { JwtVerificationOptions } from './verify-jwt.js'
import type { VerifiedIdentity } from './verified-identity.js'

/** Options of {@link verifyToken}. */
export interface VerifyTokenOptions extends JwtVerificationOptions, IdentityClaimOptions {}

/**
 * Verifies `token` and returns the identity it grants.
 *
 * The signature must verify with `keySet` under an allowed algorithm, and `iss` and `aud` must
 * match. `exp` must be present and in the future, and `nbf` in the past, within the clock
 * tolerance. `nbf` must be present only when `requireNotBefore` is `true`. The token must carry a
 * subject, a valid database role name and at least one policy role.
 *
 * @throws TokenInvalid with `reason` (`signature`, `algorithm`, `issuer`, `audience`,
 *   `malformed`, `too-large`, `claims`, `key-not-found`, `key-invalid`, `key-set-unavailable`,
 *   `unverifiable`).
 * @throws TokenExpired when the token is past `exp` or before `nbf`.
 * @throws TokenClaimMissing when `sub`, the role name or the roles are missing or malformed.
 * @throws TypeError when the options are unusable.
 */
export async function verifyToken(
  token: string,
  options: VerifyTokenOptions,
): Promise<VerifiedIdentity> {
  validateIdentityClaimOptions(options)
  const { payload, audience } = await verifyJwt(token, options)

  return readIdentityClaims(payload, audience, options)
}
