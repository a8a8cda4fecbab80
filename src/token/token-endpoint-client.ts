/**
 * The HTTP side of an RFC 8693 token exchange: one form POST to the token endpoint, with a
 * timeout, no redirects, a bounded response size, and bounded retries of transient failures.
 */

import { setTimeout as sleep } from 'node:timers/promises'

import { TokenExchangeFailed } from '../errors.js'
import type { ExchangeSettings } from './exchange-settings.js'
import {
  invalidResponse,
  parseSuccess,
  readJson,
  rejection,
  serverErrorCode,
} from './token-endpoint-response.js'
import type { TokenEndpointResponse } from './token-endpoint-response.js'

export type { TokenEndpointResponse } from './token-endpoint-response.js'

/** The grant type of RFC 8693, section 2.1. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange'

/** Receives one event per retried attempt. Compatible with pino's `warn(object, message)`. */
export interface TokenExchangeLogger {
  warn(details: Readonly<Record<string, unknown>>, message: string): void
}

/** A failure worth retrying: network error, timeout or HTTP 5xx. */
class TransientFailure extends Error {
  readonly reason: string
  readonly status: number | undefined

  constructor(reason: string, status: number | undefined, options?: { cause?: unknown }) {
    super(reason, options)
    this.reason = reason
    this.status = status
  }
}

/**
 * Posts the exchange request, retrying network errors, timeouts and HTTP 5xx up to
 * `settings.retries` times with exponential backoff and jitter. A 3xx or 4xx is never retried.
 *
 * @throws TokenExchangeFailed with the OAuth `error` or a local reason (`timeout`,
 *   `network_error`, `server_error`, `unexpected_redirect`, `invalid_response`). The message may
 *   contain the identity provider's cleaned `error_description`, never the token or secret.
 */
export async function requestTokenExchange(
  settings: ExchangeSettings,
  subjectToken: string,
  logger: TokenExchangeLogger | undefined,
): Promise<TokenEndpointResponse> {
  const attempts = settings.retries + 1

  for (let attempt = 1; ; attempt += 1) {
    try {
      return await postOnce(settings, subjectToken)
    } catch (error) {
      if (!(error instanceof TransientFailure)) throw error

      if (attempt >= attempts) {
        throw new TokenExchangeFailed(
          error.reason,
          `token exchange with identity provider "${settings.idpName}" failed: ` +
            `${describeTransient(error)} after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
          { cause: error.cause, status: error.status },
        )
      }

      const delayMs = backoffDelay(settings, attempt)
      logger?.warn(
        { idpName: settings.idpName, attempt, reason: error.reason, status: error.status, delayMs },
        'token exchange attempt failed, retrying',
      )
      await sleep(delayMs)
    }
  }
}

async function postOnce(
  settings: ExchangeSettings,
  subjectToken: string,
): Promise<TokenEndpointResponse> {
  const signal = AbortSignal.timeout(settings.timeoutMs)
  let status: number | undefined

  try {
    const response = await fetch(settings.tokenEndpoint, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: requestHeaders(settings),
      body: requestBody(settings, subjectToken),
    })
    status = response.status
    if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
      await response.body?.cancel()
      throw new TokenExchangeFailed(
        'unexpected_redirect',
        `identity provider "${settings.idpName}" responded to the token exchange with a redirect`,
        { status },
      )
    }

    const body = await readJson(response, settings.maxResponseBytes)
    const secrets = [subjectToken, settings.clientSecret]
    if (status >= 500) throw new TransientFailure(serverErrorCode(body, secrets), status)
    if (status !== 200) throw rejection(settings, status, body, secrets)

    return parseSuccess(settings, body)
  } catch (error) {
    if (error instanceof TokenExchangeFailed || error instanceof TransientFailure) throw error

    if (signal.aborted) throw new TransientFailure('timeout', status, { cause: error })
    if (status !== undefined && status >= 500) {
      throw new TransientFailure('server_error', status, { cause: error })
    }

    if (status !== undefined) throw invalidResponse(settings, status, error)
    throw new TransientFailure('network_error', undefined, { cause: error })
  }
}

function requestHeaders(settings: ExchangeSettings): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  }

  if (settings.clientAuth === 'basic') {
    // RFC 6749, section 2.3.1: both parts are form-urlencoded before the Basic encoding.
    const credentials = `${formEncode(settings.clientId)}:${formEncode(settings.clientSecret)}`
    headers.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`
  }

  return headers
}

function requestBody(settings: ExchangeSettings, subjectToken: string): URLSearchParams {
  const form = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
    subject_token: subjectToken,
    subject_token_type: settings.subjectTokenType,
    audience: settings.audience,
  })
  if (settings.scope !== undefined) form.set('scope', settings.scope)
  if (settings.requestedTokenType !== undefined) {
    form.set('requested_token_type', settings.requestedTokenType)
  }

  if (settings.clientAuth === 'post') {
    form.set('client_id', settings.clientId)
    form.set('client_secret', settings.clientSecret)
  }

  return form
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

function describeTransient(failure: TransientFailure): string {
  if (failure.reason === 'timeout') return 'timed out'
  if (failure.reason === 'network_error') return 'network error'

  return `HTTP ${failure.status ?? 'error'}`
}

function backoffDelay(settings: ExchangeSettings, attempt: number): number {
  const ceiling = Math.min(settings.maxRetryDelayMs, settings.retryDelayMs * 2 ** (attempt - 1))

  // Half fixed, half random, so that callers that failed together do not retry together.
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}
