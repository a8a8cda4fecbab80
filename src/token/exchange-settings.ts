/**
 * Validation and defaults of a `TokenExchangeConfig`. Misconfiguration is a `TypeError` thrown
 * before any request is sent.
 */

import { validateIdentityClaimOptions } from './identity-claims.js'
import type { IdentityClaimOptions } from './identity-claims.js'
import { parseEndpointUrl } from './endpoint-url.js'
import { TOKEN_TYPE_ACCESS_TOKEN } from './token-exchange-config.js'
import type { RequestorVerification, TokenExchangeConfig } from './token-exchange-config.js'

/** A validated configuration with every default applied. */
export interface ExchangeSettings {
  readonly idpName: string
  readonly tokenEndpoint: URL
  readonly clientId: string
  readonly clientSecret: string
  readonly audience: string
  readonly scope: string | undefined
  readonly subjectTokenType: string
  readonly requestedTokenType: string | undefined
  readonly clientAuth: 'basic' | 'post'
  readonly issuer: string
  readonly algorithms: readonly string[] | undefined
  readonly clockToleranceSeconds: number
  readonly requireNotBefore: boolean
  readonly claims: IdentityClaimOptions
  readonly requestorVerification: RequestorVerification
  readonly cache: {
    readonly enabled: boolean
    readonly maxEntries: number
    readonly skewMs: number
  }
  readonly timeoutMs: number
  readonly retries: number
  readonly retryDelayMs: number
  readonly maxRetryDelayMs: number
  readonly maxResponseBytes: number
  /** Settings that change the exchange result, secret excluded. Hashed into every cache key. */
  readonly fingerprint: string
}

/**
 * Validates `config` and applies defaults.
 * @throws TypeError naming the first unusable option.
 */
export function resolveExchangeSettings(config: TokenExchangeConfig): ExchangeSettings {
  if (typeof config !== 'object' || config === null) {
    throw new TypeError('token exchange config must be an object')
  }

  for (const name of ['idpName', 'clientId', 'clientSecret', 'audience', 'issuer'] as const) {
    requireString(config[name], name)
  }

  for (const name of ['scope', 'subjectTokenType', 'requestedTokenType'] as const) {
    if (config[name] !== undefined) requireString(config[name], name)
  }

  if (config.clientAuth !== undefined && !['basic', 'post'].includes(config.clientAuth)) {
    throw new TypeError('"clientAuth" option must be "basic" or "post"')
  }

  if ((config.jwksUrl === undefined) === (config.keySet === undefined)) {
    throw new TypeError('token exchange config must have exactly one of "jwksUrl" and "keySet"')
  }

  const requestor = config.requestorVerification
  if (requestor !== 'identity-provider' && (typeof requestor !== 'object' || requestor === null)) {
    throw new TypeError(
      '"requestorVerification" option must be verification settings or "identity-provider"',
    )
  }

  const claims: IdentityClaimOptions = {
    legacyNameClaim: config.requiredClaim ?? 'legacy_name',
    rolesClaim: config.rolesClaim ?? 'roles',
    legacyNameFormat: config.legacyNameFormat ?? 'postgres',
    allowDelimitedRoles: config.allowDelimitedRoles ?? false,
    ...(config.scopeRoles !== undefined && { scopeRoles: config.scopeRoles }),
  }
  validateIdentityClaimOptions(claims)

  const settings = {
    idpName: config.idpName,
    tokenEndpoint: parseEndpointUrl(config.tokenEndpoint, 'tokenEndpoint'),
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    audience: config.audience,
    scope: config.scope,
    subjectTokenType: config.subjectTokenType ?? TOKEN_TYPE_ACCESS_TOKEN,
    requestedTokenType: config.requestedTokenType,
    clientAuth: config.clientAuth ?? 'basic',
    issuer: config.issuer,
    algorithms: config.algorithms,
    clockToleranceSeconds: number(config.clockToleranceSeconds, 30, 'clockToleranceSeconds'),
    requireNotBefore: config.requireNotBefore ?? false,
    claims,
    requestorVerification: requestor,
    cache: {
      enabled: config.cache?.enabled ?? true,
      maxEntries: integer(config.cache?.maxEntries, 1000, 'cache.maxEntries'),
      skewMs: number(config.cache?.expirySkewSeconds, 30, 'cache.expirySkewSeconds') * 1000,
    },
    timeoutMs: integer(config.timeoutMs, 5000, 'timeoutMs'),
    retries: integer(config.retries, 2, 'retries'),
    retryDelayMs: integer(config.retryDelayMs, 200, 'retryDelayMs'),
    maxRetryDelayMs: integer(config.maxRetryDelayMs, 2000, 'maxRetryDelayMs'),
    maxResponseBytes: integer(config.maxResponseBytes, 65536, 'maxResponseBytes'),
  }

  const fingerprint = JSON.stringify([
    settings.idpName,
    settings.tokenEndpoint.href,
    settings.clientId,
    settings.audience,
    settings.scope ?? null,
    settings.subjectTokenType,
    settings.requestedTokenType ?? null,
    settings.issuer,
    claims,
  ])

  return { ...settings, fingerprint }
}

function requireString(value: unknown, name: string): void {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`"${name}" option must be a non-empty string`)
  }
}

function number(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`"${name}" option must be a non-negative number`)
  }

  return value
}

function integer(value: number | undefined, fallback: number, name: string): number {
  const result = number(value, fallback, name)
  if (!Number.isInteger(result)) {
    throw new TypeError(`"${name}" option must be a non-negative integer`)
  }

  return result
}
