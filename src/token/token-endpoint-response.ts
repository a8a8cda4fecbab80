/**
 * Reading of token endpoint responses: a size-bounded JSON body, the success fields, and OAuth
 * error responses turned into `TokenExchangeFailed` without echoing secrets.
 */

import { TokenExchangeFailed } from '../errors.js'
import type { ExchangeSettings } from './exchange-settings.js'
import { readErrorCode, sanitizeDescription } from './identity-provider-text.js'

/** The successful token endpoint response fields that the exchange uses. */
export interface TokenEndpointResponse {
  readonly accessToken: string
  readonly issuedTokenType: string | undefined
}

/** Reads the body as JSON, failing once more than `maxBytes` have arrived. */
export async function readJson(response: Response, maxBytes: number): Promise<unknown> {
  const reader = response.body?.getReader()
  if (reader === undefined) return undefined

  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break

    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      throw new RangeError(`response body is larger than ${maxBytes} bytes`)
    }
    chunks.push(value)
  }

  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown)
  } catch {
    return undefined
  }
}

export function rejection(
  settings: ExchangeSettings,
  status: number,
  body: unknown,
  secrets: readonly string[],
): TokenExchangeFailed {
  const fields = isObject(body) ? body : {}
  const code = fields.error === undefined ? 'http_error' : readErrorCode(fields.error, secrets)
  const description = sanitizeDescription(fields.error_description, secrets)
  const detail = description === undefined ? '' : ` (${description})`

  return new TokenExchangeFailed(
    code,
    `identity provider "${settings.idpName}" rejected the token exchange with HTTP ${status}: ` +
      `${code}${detail}`,
    { status },
  )
}

export function parseSuccess(settings: ExchangeSettings, body: unknown): TokenEndpointResponse {
  if (!isObject(body) || typeof body.access_token !== 'string' || body.access_token === '') {
    throw invalidResponse(settings, 200, undefined, 'has no access_token')
  }

  const issued = body.issued_token_type
  if (issued !== undefined && typeof issued !== 'string') {
    throw invalidResponse(settings, 200, undefined, 'has a malformed issued_token_type')
  }

  const requested = settings.requestedTokenType
  if (requested !== undefined && issued !== requested) {
    throw invalidResponse(settings, 200, undefined, 'issued a token of another type')
  }

  return { accessToken: body.access_token, issuedTokenType: issued }
}

export function invalidResponse(
  settings: ExchangeSettings,
  status: number,
  cause: unknown,
  problem = 'could not be read',
): TokenExchangeFailed {
  return new TokenExchangeFailed(
    'invalid_response',
    `token exchange response from identity provider "${settings.idpName}" ${problem}`,
    { status, ...(cause !== undefined && { cause }) },
  )
}

/** Returns the OAuth `error` of a 5xx body (`temporarily_unavailable`, say) or `server_error`. */
export function serverErrorCode(body: unknown, secrets: readonly string[]): string {
  if (!isObject(body) || body.error === undefined) return 'server_error'

  const code = readErrorCode(body.error, secrets)
  return code === 'unrecognized_error' ? 'server_error' : code
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
