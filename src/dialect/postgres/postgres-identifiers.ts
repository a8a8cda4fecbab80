/**
 * PostgreSQL identifier rules for names that sqlgate itself puts into SQL text: role names from
 * tokens and schema names from configuration.
 */

/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 = 63 bytes. */
const MAX_IDENTIFIER_BYTES = 63

/** Tells whether a name can be used as a quoted identifier without surprises. */
export function isValidIdentifier(name: string): boolean {
  if (name.length === 0) return false
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) return false
  // Control characters (NUL included) have no place in a role or schema name.
  return !/[\u0000-\u001f\u007f]/.test(name)
}

/**
 * Quotes an identifier for SQL text, doubling embedded double quotes.
 * @throws TypeError when the name is not a valid identifier.
 */
export function quoteIdentifier(name: string): string {
  if (!isValidIdentifier(name)) {
    throw new TypeError('identifier must be 1 to 63 bytes without control characters')
  }
  return `"${name.replaceAll('"', '""')}"`
}
