/**
 * Reads sqlgate's identity claims (subject, database role, policy roles, actor) from a verified
 * JWT payload. Every missing or malformed claim is a `TokenClaimMissing`: there is no fallback
 * role and no default database identity.
 */

import type { JWTPayload } from 'jose'

import { TokenClaimMissing } from '../errors.js'
import { isValidLegacyName } from './legacy-name.js'
import type { LegacyNameFormat } from './legacy-name.js'
import type { TokenActor, VerifiedIdentity } from './verified-identity.js'

/** How to read the identity claims. Shared by `verifyToken` and the token exchange service. */
export interface IdentityClaimOptions {
  /** Claim holding the database role to impersonate. Default `legacy_name`. */
  readonly legacyNameClaim?: string
  /** Role name rules that the claim must follow. Default `postgres`. */
  readonly legacyNameFormat?: LegacyNameFormat
  /** Claim holding the policy roles, a JSON array of non-empty strings. Default `roles`. */
  readonly rolesClaim?: string
  /**
   * Also accept the roles claim as one string of names separated by commas or whitespace.
   * Default `false`.
   *
   * > [!WARNING]
   * > Only enable this for an identity provider that cannot emit an array: a role name that
   * > contains a comma or a space would then split into two roles.
   */
  readonly allowDelimitedRoles?: boolean
  /**
   * Roles granted for scopes: when the token's `scope` (space-separated string) or `scp` (array
   * or space-separated string) contains a key, its roles are added to the roles claim. They
   * never replace it: a token without roles in the roles claim is still rejected. Default none.
   */
  readonly scopeRoles?: Readonly<Record<string, string | readonly string[]>>
}

/** Highest number of roles one token may carry. More is treated as a malformed claim. */
const MAX_ROLES = 1000

/**
 * Builds the frozen identity from a payload whose signature and registered claims are verified.
 * @throws TokenClaimMissing naming the claim that is missing, empty or malformed.
 */
export function readIdentityClaims(
  payload: JWTPayload,
  audience: string,
  options: IdentityClaimOptions,
): VerifiedIdentity {
  const legacyNameClaim = options.legacyNameClaim ?? 'legacy_name'
  const rolesClaim = options.rolesClaim ?? 'roles'

  const subject = payload.sub
  if (typeof subject !== 'string' || subject === '') {
    throw new TokenClaimMissing('sub', 'token has no "sub" claim')
  }

  const legacyName = payload[legacyNameClaim]
  if (legacyName === undefined || legacyName === null || legacyName === '') {
    throw new TokenClaimMissing(legacyNameClaim, `token has no "${legacyNameClaim}" claim`)
  }

  if (!isValidLegacyName(legacyName, options.legacyNameFormat ?? 'postgres')) {
    throw new TokenClaimMissing(
      legacyNameClaim,
      `token "${legacyNameClaim}" claim is not a valid database role name`,
    )
  }

  const roles = readRoles(payload[rolesClaim], rolesClaim, options.allowDelimitedRoles ?? false)
  for (const role of readScopeRoles(payload, options.scopeRoles)) {
    if (!roles.includes(role)) roles.push(role)
  }

  const actor = readActor(payload.act)

  return Object.freeze({
    subject,
    legacyName,
    roles: Object.freeze(roles),
    ...(actor !== undefined && { actor }),
    issuer: payload.iss ?? '',
    audience,
    expiresAt: new Date((payload.exp ?? 0) * 1000),
  })
}

function readRoles(value: unknown, claim: string, allowDelimited: boolean): string[] {
  if (value === undefined || value === null) {
    throw new TokenClaimMissing(claim, `token has no "${claim}" claim`)
  }

  let names: unknown[]
  if (Array.isArray(value)) {
    names = value
  } else if (typeof value === 'string' && allowDelimited) {
    names = value.split(/[\s,]+/).filter((name) => name !== '')
  } else {
    throw new TokenClaimMissing(claim, `token "${claim}" claim must be an array of role names`)
  }

  if (names.length === 0) {
    throw new TokenClaimMissing(claim, `token "${claim}" claim is empty`)
  }

  if (names.length > MAX_ROLES || !names.every(isRoleName)) {
    throw new TokenClaimMissing(claim, `token "${claim}" claim must hold non-empty role names`)
  }

  return [...new Set(names as string[])]
}

function isRoleName(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && !/[\p{Cc}\p{Cf}]/u.test(value)
}

function readScopeRoles(
  payload: JWTPayload,
  scopeRoles: IdentityClaimOptions['scopeRoles'],
): string[] {
  if (scopeRoles === undefined) return []

  const granted = [...readScopes(payload, 'scope'), ...readScopes(payload, 'scp')]
  const roles: string[] = []
  for (const scope of granted) {
    if (!Object.hasOwn(scopeRoles, scope)) continue

    const mapped = scopeRoles[scope]
    roles.push(...(typeof mapped === 'string' ? [mapped] : (mapped ?? [])))
  }

  return roles
}

function readScopes(payload: JWTPayload, claim: 'scope' | 'scp'): string[] {
  const value = payload[claim]
  if (value === undefined) return []
  if (typeof value === 'string') return value.split(' ').filter((scope) => scope !== '')
  if (claim === 'scp' && Array.isArray(value) && value.every((s) => typeof s === 'string')) {
    return value as string[]
  }

  throw new TokenClaimMissing(claim, `token "${claim}" claim is malformed`)
}

function readActor(value: unknown): TokenActor | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenClaimMissing('act', 'token "act" claim must be a JSON object')
  }

  return deepFreeze(structuredClone(value)) as TokenActor
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }

  return value
}

/**
 * Checks the identity claim options.
 * @throws TypeError naming the first unusable option.
 */
export function validateIdentityClaimOptions(options: IdentityClaimOptions): void {
  for (const name of ['legacyNameClaim', 'rolesClaim'] as const) {
    const value = options[name]
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new TypeError(`"${name}" option must be a non-empty string`)
    }
  }

  const format = options.legacyNameFormat
  if (format !== undefined && format !== 'postgres' && format !== 'sqlserver') {
    throw new TypeError('"legacyNameFormat" option must be "postgres" or "sqlserver"')
  }

  const scopeRoles = options.scopeRoles
  if (scopeRoles === undefined) return
  if (typeof scopeRoles !== 'object' || scopeRoles === null) {
    throw new TypeError('"scopeRoles" option must map scopes to role names')
  }

  for (const mapped of Object.values(scopeRoles)) {
    const names = typeof mapped === 'string' ? [mapped] : mapped
    if (!Array.isArray(names) || !names.every(isRoleName)) {
      throw new TypeError('"scopeRoles" option must map each scope to non-empty role names')
    }
  }
}
