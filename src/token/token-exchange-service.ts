/**
 * An RFC 8693 token exchange client. It verifies the requestor's JWT, exchanges it at the
 * identity provider's token endpoint for a TE-JWT, verifies that TE-JWT against the identity
 * provider's JWKS and returns the identity it grants, cached until shortly before expiry.
 */

import { inspect } from 'node:util'

import { SqlgateError, TokenExchangeFailed, TokenExpired, TokenInvalid } from '../errors.js'
import { resolveAlgorithms } from './algorithms.js'
import { ExchangeCache, hashCacheKey } from './exchange-cache.js'
import { resolveExchangeSettings } from './exchange-settings.js'
import type { ExchangeSettings } from './exchange-settings.js'
import { readIdentityClaims } from './identity-claims.js'
import type { KeySet, KeySetSource } from './key-set.js'
import { KeySetRegistry } from './key-set-registry.js'
import { verifyRequestorToken } from './requestor-verification.js'
import type { RequestorCheck } from './requestor-verification.js'
import { requestTokenExchange } from './token-endpoint-client.js'
import type { TokenExchangeLogger } from './token-endpoint-client.js'
import type { TokenExchangeConfig } from './token-exchange-config.js'
import type { VerifiedIdentity } from './verified-identity.js'
import { verifyJwt } from './verify-jwt.js'

/** Options of a {@link TokenExchangeService}. */
export interface TokenExchangeServiceOptions {
  /** Configuration used when `exchange` gets none. Default: none, so one must be passed. */
  readonly config?: TokenExchangeConfig
  /** Receives a warning per retried token endpoint request. Default: no logging. */
  readonly logger?: TokenExchangeLogger
}

interface ConfigState {
  readonly settings: ExchangeSettings
  readonly issuedKeySet: KeySet
  readonly requestor: RequestorCheck
  readonly cache: ExchangeCache<VerifiedIdentity>
}

/** Largest subject token accepted, in bytes, before anything else is done with it. */
const MAX_SUBJECT_TOKEN_BYTES = 16384

/**
 * Exchanges requestor tokens for verified identities. One service can serve several
 * configurations (for example one per delegation module, each with its own identity provider):
 * key sets, caches and in-flight exchanges are kept per configuration, and nothing is global.
 *
 * The service stores no raw token: cache keys are SHA-256 digests. `util.inspect` and
 * `JSON.stringify` show only counters.
 */
export class TokenExchangeService {
  readonly #defaultConfig: TokenExchangeConfig | undefined
  readonly #logger: TokenExchangeLogger | undefined
  readonly #states = new Map<string, ConfigState>()
  readonly #statesByConfig = new WeakMap<TokenExchangeConfig, ConfigState>()
  readonly #keySets = new KeySetRegistry()

  constructor(options: TokenExchangeServiceOptions = {}) {
    this.#defaultConfig = options.config
    this.#logger = options.logger
    if (options.config !== undefined) this.#state(options.config)
  }

  /**
   * Returns the identity for `subjectToken` under `config`, from the cache or by verifying the
   * token, exchanging it and verifying the issued TE-JWT. Concurrent calls with the same token and
   * configuration share one exchange. A config object is read when first seen, so later changes
   * to the same object are ignored: pass a new object instead.
   *
   * @throws TokenInvalid or TokenExpired when the requestor token fails verification.
   * @throws TokenExchangeFailed when the identity provider fails or rejects the exchange, or the
   *   TE-JWT fails verification (the `TokenInvalid` or `TokenExpired` is the `cause`).
   * @throws TokenClaimMissing when the TE-JWT lacks a valid role name or roles.
   * @throws TypeError when there is no configuration or it is unusable.
   */
  async exchange(subjectToken: string, config?: TokenExchangeConfig): Promise<VerifiedIdentity> {
    const chosen = config ?? this.#defaultConfig
    if (chosen === undefined) {
      throw new TypeError('token exchange needs a config: pass one here or to the constructor')
    }

    const state = this.#state(chosen)
    if (typeof subjectToken !== 'string' || subjectToken === '') {
      throw new TokenInvalid('malformed', 'subject token is missing')
    }

    if (Buffer.byteLength(subjectToken, 'utf8') > MAX_SUBJECT_TOKEN_BYTES) {
      const message = `subject token is larger than ${MAX_SUBJECT_TOKEN_BYTES} bytes`
      throw new TokenInvalid('too-large', message)
    }

    const run = () => this.#exchangeUncached(state, subjectToken)
    if (!state.settings.cache.enabled) return (await run()).value

    const key = hashCacheKey([state.settings.fingerprint, subjectToken])
    return state.cache.getOrCreate(key, run)
  }

  /** Drops every cached identity of every configuration. */
  clearCache(): void {
    for (const state of this.#states.values()) state.cache.clear()
  }

  /** Counters for monitoring: configurations, cached identities and running exchanges. */
  get stats(): { configs: number; cachedIdentities: number; inFlight: number } {
    let cachedIdentities = 0
    let inFlight = 0
    for (const state of this.#states.values()) {
      cachedIdentities += state.cache.size
      inFlight += state.cache.inFlight
    }

    return { configs: this.#states.size, cachedIdentities, inFlight }
  }

  toJSON(): object {
    return { service: 'TokenExchangeService', ...this.stats }
  }

  [inspect.custom](): string {
    return `TokenExchangeService ${inspect(this.stats)}`
  }

  async #exchangeUncached(state: ConfigState, subjectToken: string) {
    const { settings } = state
    const requestorExpiresAtMs = await verifyRequestorToken(state.requestor, subjectToken)
    const response = await requestTokenExchange(settings, subjectToken, this.#logger)

    let verified
    try {
      verified = await verifyJwt(response.accessToken, {
        keySet: state.issuedKeySet,
        issuer: settings.issuer,
        audience: settings.audience,
        clockToleranceSeconds: settings.clockToleranceSeconds,
        requireNotBefore: settings.requireNotBefore,
        ...(settings.algorithms !== undefined && { algorithms: settings.algorithms }),
      })
    } catch (error) {
      throw issuedTokenFailure(settings, error)
    }

    const identity = readIdentityClaims(verified.payload, verified.audience, settings.claims)
    const expiresAtMs = Math.min(identity.expiresAt.getTime(), requestorExpiresAtMs)

    return { value: identity, expiresAtMs }
  }

  #state(config: TokenExchangeConfig): ConfigState {
    const known = this.#statesByConfig.get(config)
    if (known !== undefined) return known

    const settings = resolveExchangeSettings(config)
    const identity = this.#keySets.describe(config)
    let state = this.#states.get(identity)
    if (state === undefined) {
      state = this.#createState(config, settings)
      this.#states.set(identity, state)
    }

    this.#statesByConfig.set(config, state)
    return state
  }

  #createState(config: TokenExchangeConfig, settings: ExchangeSettings): ConfigState {
    const issuedSource: KeySet | KeySetSource = config.keySet ?? {
      jwksUrl: config.jwksUrl ?? '',
      ...(config.jwksCooldownMs !== undefined && { cooldownMs: config.jwksCooldownMs }),
    }

    const requestor =
      settings.requestorVerification === 'identity-provider'
        ? 'identity-provider'
        : [settings.requestorVerification]
            .flat()
            .map((entry) => ({ ...entry, keySet: this.#keySets.resolve(entry.keySet) }))

    // Check the algorithm allow-lists now, so a misconfiguration fails before any request.
    const issuedKeySet = this.#keySets.resolve(issuedSource)
    resolveAlgorithms(issuedKeySet.kind, issuedKeySet.secretBytes, settings.algorithms)
    for (const entry of requestor === 'identity-provider' ? [] : requestor) {
      resolveAlgorithms(entry.keySet.kind, entry.keySet.secretBytes, entry.algorithms)
    }

    return {
      settings,
      issuedKeySet,
      requestor,
      cache: new ExchangeCache({
        maxEntries: settings.cache.maxEntries,
        skewMs: settings.cache.skewMs,
      }),
    }
  }
}

function issuedTokenFailure(settings: ExchangeSettings, error: unknown): SqlgateError {
  let reason = 'unverifiable'
  if (error instanceof TokenExpired) reason = 'expired'
  if (error instanceof TokenInvalid) reason = error.reason

  return new TokenExchangeFailed(
    'invalid_issued_token',
    `token issued by identity provider "${settings.idpName}" failed verification: ${reason}`,
    { cause: error },
  )
}
