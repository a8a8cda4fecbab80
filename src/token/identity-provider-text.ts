/**
 * Cleaning of text that an identity provider returns in an OAuth error response before it goes
 * into an error message: it may echo the token or the client secret, or contain control
 * characters that forge log lines.
 */

/** Longest `error_description` kept, in characters. */
export const MAX_DESCRIPTION_LENGTH = 200

const REDACTED = '[redacted]'
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu
// A JWT or JWS header prefix ("eyJ" is base64url for '{"'), with or without its other segments.
const JWT_LIKE = /eyJ[\w-]{4,}(?:\.[\w-]*){0,4}/g
// Long runs without spaces look like opaque tokens or secrets, never like prose.
const OPAQUE_RUN = /[\w.~+/=-]{32,}/g
// RFC 6749, section 5.2: the error code uses %x20-21 / %x23-5B / %x5D-7E.
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/

/**
 * Returns `description` with every occurrence of `secrets`, anything shaped like a JWT and any run
 * of 32 or more token characters replaced by `[redacted]`, control characters turned into spaces,
 * and the result cut to {@link MAX_DESCRIPTION_LENGTH} characters. Returns `undefined` for a
 * missing, non-string or empty description.
 */
export function sanitizeDescription(
  description: unknown,
  secrets: readonly string[],
): string | undefined {
  if (typeof description !== 'string') return undefined

  let text = description
  for (const secret of secrets) {
    if (secret !== '') text = text.replaceAll(secret, REDACTED)
  }

  text = text
    .replace(CONTROL, ' ')
    .replace(JWT_LIKE, REDACTED)
    .replace(OPAQUE_RUN, REDACTED)
    .replace(/\s+/g, ' ')
    .trim()
  if (text === '') return undefined

  const characters = [...text]
  return characters.length > MAX_DESCRIPTION_LENGTH
    ? `${characters.slice(0, MAX_DESCRIPTION_LENGTH).join('')}…`
    : text
}

/**
 * Returns the OAuth `error` code when it is a string of the characters RFC 6749 allows, at most
 * 64 long, and contains none of `secrets`. Returns `unrecognized_error` for anything else.
 */
export function readErrorCode(value: unknown, secrets: readonly string[]): string {
  if (typeof value !== 'string' || !ERROR_CODE.test(value)) return 'unrecognized_error'
  const leaks = (secret: string) =>
    value === secret || (secret.length >= 8 && value.includes(secret))
  if (secrets.some(leaks)) {
    return 'unrecognized_error'
  }

  return value
}
