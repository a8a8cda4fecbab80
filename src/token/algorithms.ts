/**
 * JWS algorithm allow-lists. Asymmetric algorithms are the default because a verifier that holds
 * only public keys cannot be tricked into accepting a token signed with one of them as an HMAC
 * secret. HMAC algorithms are allowed only for a key set built from an explicit shared secret.
 */

/** Asymmetric JWS algorithms accepted when the caller gives no `algorithms` option. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
])

/** HMAC algorithms and the minimum secret length in bytes for each (RFC 7518, section 3.2). */
export const HMAC_ALGORITHMS: Readonly<Record<string, number>> = Object.freeze({
  HS256: 32,
  HS384: 48,
  HS512: 64,
})

/** What kind of keys a key set holds, which decides the algorithms it may verify. */
export type KeySetKind = 'asymmetric' | 'symmetric'

/**
 * Resolves the algorithm allow-list for a key set.
 *
 * Without `requested`, an asymmetric key set gets {@link ASYMMETRIC_ALGORITHMS} and a secret gets
 * every HMAC algorithm its length supports. `none` is never accepted, an asymmetric key set never
 * accepts an HMAC algorithm, and a secret never accepts an asymmetric one.
 *
 * @throws TypeError when `requested` is empty or contains an algorithm the key set cannot accept.
 */
export function resolveAlgorithms(
  kind: KeySetKind,
  secretBytes: number,
  requested?: readonly string[],
): string[] {
  const allowed =
    kind === 'asymmetric'
      ? [...ASYMMETRIC_ALGORITHMS]
      : Object.keys(HMAC_ALGORITHMS).filter((alg) => secretBytes >= (HMAC_ALGORITHMS[alg] ?? 0))

  if (allowed.length === 0) {
    throw new TypeError('"secret" key set must be at least 32 bytes long')
  }

  if (requested === undefined) return allowed

  if (!Array.isArray(requested) || requested.length === 0) {
    throw new TypeError('"algorithms" option must be a non-empty array')
  }

  for (const alg of requested) {
    if (!allowed.includes(alg)) {
      throw new TypeError(
        `"algorithms" option contains ${JSON.stringify(alg)}, which a ${kind} key set of this ` +
          `size cannot accept (allowed: ${allowed.join(', ')})`,
      )
    }
  }

  return [...new Set(requested)]
}
