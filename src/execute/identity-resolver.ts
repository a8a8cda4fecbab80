/**
 * Turns a delegation session into a verified identity, with the settings of one module: a TE-JWT
 * is verified, a requestor token is exchanged (and the result verified), and an identity the
 * application verified itself is taken as it is.
 */

import { TokenInvalid } from '../errors.js'
import type { TokenExchangeConfig } from '../token/token-exchange-config.js'
import type { TokenExchangeService } from '../token/token-exchange-service.js'
import type { VerifiedIdentity } from '../token/verified-identity.js'
import { verifyToken, type VerifyTokenOptions } from '../token/verify-token.js'
import type { DelegationSession } from './delegation-module.js'

export class IdentityResolver {
  #verification: VerifyTokenOptions | undefined
  #exchange: { service: TokenExchangeService; config: TokenExchangeConfig } | undefined

  /** Sets how TE-JWTs given in `session.teJwt` are verified. */
  setTokenVerification(options: VerifyTokenOptions): void {
    this.#verification = options
  }

  /** Sets the identity provider that exchanges `session.subjectToken`. */
  setTokenExchangeService(service: TokenExchangeService, config: TokenExchangeConfig): void {
    this.#exchange = { service, config }
  }

  /**
   * Returns the session's verified identity.
   * @throws TokenInvalid when the session carries no usable credential, or when the module has
   *   no setting to verify it.
   * @throws TokenInvalid, TokenExpired, TokenClaimMissing or TokenExchangeFailed from
   *   verification and exchange.
   */
  async resolve(session: DelegationSession): Promise<VerifiedIdentity> {
    const credentials = [session.teJwt, session.subjectToken, session.identity].filter(
      (value) => value !== undefined,
    )
    if (credentials.length !== 1) {
      throw new TokenInvalid(
        'credentials',
        'a session must carry exactly one of teJwt, subjectToken or identity',
      )
    }

    if (session.identity !== undefined) return session.identity

    if (session.teJwt !== undefined) {
      if (this.#verification === undefined) {
        throw new TokenInvalid('configuration', 'the module has no token verification settings')
      }
      return verifyToken(session.teJwt, this.#verification)
    }

    if (this.#exchange === undefined) {
      throw new TokenInvalid('configuration', 'the module has no token exchange service')
    }
    return this.#exchange.service.exchange(session.subjectToken as string, this.#exchange.config)
  }
}
