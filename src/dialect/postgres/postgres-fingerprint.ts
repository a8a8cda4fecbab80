/**
 * A fingerprint of PostgreSQL text for the decision log: PostgreSQL's own scanner splits the text
 * into tokens, comments are dropped and every constant becomes `?`, so two requests that differ
 * only in values share a fingerprint and no value reaches the log.
 */

import { scanSync } from 'libpg-query'

const CONSTANT_TOKENS = new Set(['SCONST', 'USCONST', 'ICONST', 'FCONST', 'BCONST', 'XCONST'])
const COMMENT_TOKENS = new Set(['C_COMMENT', 'SQL_COMMENT'])

interface ScanToken {
  readonly text: string
  readonly tokenName: string
}

/** Returns the fingerprint, or `null` when the text cannot be scanned. */
export function fingerprintPostgres(sql: string): string | null {
  let tokens: readonly ScanToken[]
  try {
    tokens = (scanSync(sql) as { tokens: readonly ScanToken[] }).tokens
  } catch {
    return null
  }
  const parts: string[] = []
  for (const token of tokens) {
    if (COMMENT_TOKENS.has(token.tokenName)) continue
    parts.push(CONSTANT_TOKENS.has(token.tokenName) ? '?' : token.text)
  }
  return parts.join(' ')
}
