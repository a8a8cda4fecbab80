/**
 * Validation of the database role name that a token names for impersonation.
 */

/**
 * Role name rules of one database.
 * - `postgres`: 1 to 63 bytes of UTF-8 (PostgreSQL's NAMEDATALEN - 1), no backslash.
 * - `sqlserver`: 1 to 128 characters (`sysname`), optionally one `DOMAIN\user` backslash with a
 *   non-empty part on each side, and no square brackets.
 */
export type LegacyNameFormat = 'postgres' | 'sqlserver'

const POSTGRES_MAX_BYTES = 63
const SQLSERVER_MAX_CHARACTERS = 128

// Control (Cc), format (Cf, for example bidirectional overrides and zero-width characters),
// line separator and paragraph separator characters, plus every quote character.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}'"`]/u

/**
 * Tells whether `value` is a role name of the given format. Whitespace at either end is rejected
 * because two names that differ only in it look alike in logs and policies.
 */
export function isValidLegacyName(value: unknown, format: LegacyNameFormat): value is string {
  if (typeof value !== 'string' || value === '') return false
  if (value.trim() !== value || FORBIDDEN.test(value)) return false

  if (format === 'postgres') {
    return !value.includes('\\') && Buffer.byteLength(value, 'utf8') <= POSTGRES_MAX_BYTES
  }

  if ([...value].length > SQLSERVER_MAX_CHARACTERS || /[[\]]/.test(value)) return false

  const parts = value.split('\\')
  return parts.length <= 2 && parts.every((part) => part !== '' && part.trim() === part)
}
