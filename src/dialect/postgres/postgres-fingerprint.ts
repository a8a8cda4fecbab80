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
    if (isComment(token)) continue
    parts.push(isConstant(token) ? '?' : token.text)
  }
  return parts.join(' ')
}

/**
 * Tells whether a token is a constant, by name or by text. libpg-query 18 names `B'...'`,
 * `X'...'` and `U&'...'` tokens `UNKNOWN`, so a quote anywhere, a leading digit or a dollar quote
 * also counts. A quoted identifier that contains a quote is replaced too, which only loses detail.
 */
function isConstant(token: ScanToken): boolean {
  if (CONSTANT_TOKENS.has(token.tokenName)) return true

  const text = token.text
  if (text.includes("'")) return true
  if (/^\.?[0-9]/.test(text)) return true
  // `$1` is a parameter placeholder, and any other token that starts with `$` is a dollar quote.
  return text.startsWith('$') && !/^\$[0-9]+$/.test(text)
}

function isComment(token: ScanToken): boolean {
  if (COMMENT_TOKENS.has(token.tokenName)) return true
  return token.text.startsWith('--') || token.text.startsWith('/*')
}
