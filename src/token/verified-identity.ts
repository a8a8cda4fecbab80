/**
 * The identity that a verified token grants.
 */

/** The actor (`act` claim, RFC 8693 section 4.1) of a delegated token: who acts for the subject. */
export type TokenActor = Readonly<Record<string, unknown>>

/**
 * A verified end user. Frozen, and contains no token: nothing in it is a credential.
 */
export interface VerifiedIdentity {
  /** The `sub` claim. */
  readonly subject: string
  /** The database role to impersonate, from the `legacy_name` claim (or the configured one). */
  readonly legacyName: string
  /**
   * Policy roles from the roles claim plus any mapped from granted scopes, without duplicates.
   * Never empty.
   */
  readonly roles: readonly string[]
  /** The `act` claim, deep-frozen, when the token has one. */
  readonly actor?: TokenActor
  /** The `iss` claim. */
  readonly issuer: string
  /** The accepted audience that the token's `aud` claim contains. */
  readonly audience: string
  /**
   * Expiry time from the `exp` claim. A `Date` stays mutable inside a frozen object, and cached
   * identities are shared, so callers must not change it.
   */
  readonly expiresAt: Date
}
