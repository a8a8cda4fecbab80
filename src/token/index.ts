/**
 * Token verification and RFC 8693 token exchange. This folder is the only one that imports jose.
 */

export { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS } from './algorithms.js'
export type { KeySetKind } from './algorithms.js'
export type { IdentityClaimOptions } from './identity-claims.js'
export type { TokenInvalidReason } from './jose-error.js'
export { KeySet, createKeySet } from './key-set.js'
export type {
  FileKeySetSource,
  InlineKeySetSource,
  KeySetSource,
  RemoteKeySetSource,
  SecretKeySetSource,
} from './key-set.js'
export { isValidLegacyName } from './legacy-name.js'
export type { LegacyNameFormat } from './legacy-name.js'
export { TOKEN_EXCHANGE_GRANT_TYPE } from './token-endpoint-client.js'
export type { TokenExchangeLogger } from './token-endpoint-client.js'
export {
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
  createTokenExchangeConfig,
  redactTokenExchangeConfig,
} from './token-exchange-config.js'
export type {
  RequestorVerification,
  TokenExchangeCacheConfig,
  TokenExchangeConfig,
} from './token-exchange-config.js'
export { TokenExchangeService } from './token-exchange-service.js'
export type { TokenExchangeServiceOptions } from './token-exchange-service.js'
export type { TokenActor, VerifiedIdentity } from './verified-identity.js'
export { verifyJwt } from './verify-jwt.js'
export type { JwtVerificationOptions, VerifiedJwt } from './verify-jwt.js'
export { verifyToken } from './verify-token.js'
export type { VerifyTokenOptions } from './verify-token.js'
