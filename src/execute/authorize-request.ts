/**
 * The steps every delegation module runs before touching its database: resolve the identity,
 * check the SQL against the floor and the policy, and write one decision event. A denied request
 * throws here, so a module only ever executes what this function returned.
 */

import { randomUUID } from 'node:crypto'

import { emitAuditEvent } from '../audit/audit-channels.js'
import type { AuditSink } from '../audit/audit-event.js'
import type { Decision } from '../authorize/decision.js'
import type { PolicyEngine } from '../engine/policy-engine.js'
import type { CatalogTable, ColumnCatalog } from '../catalog/column-catalog.js'
import { AccessDenied, CatalogUnavailable, isSqlgateError } from '../errors.js'
import type { Dialect } from '../parse/front-end.js'
import type { VerifiedIdentity } from '../token/verified-identity.js'
import type { DelegationAction, DelegationSession } from './delegation-module.js'
import type { IdentityResolver } from './identity-resolver.js'

export interface AuthorizationContext {
  readonly moduleName: string
  readonly dialect: Dialect
  readonly engine: PolicyEngine
  readonly identities: IdentityResolver
  readonly audit: AuditSink | undefined
  /** Schema that unqualified tables resolve to on this module's connections. */
  readonly defaultSchema?: string
  /** Further schemas of the connections' search_path, searched after `defaultSchema`. */
  readonly otherSchemas?: readonly string[]
  /**
   * Reads the column lists a check needs to expand `*` over tables with column rules, as they
   * are visible to the caller's database identity. Without it such requests are denied with
   * `ERR_CATALOG_UNAVAILABLE`; with it they are checked a second time with the lists.
   */
  readonly readCatalog?: (
    identity: VerifiedIdentity,
    tables: readonly CatalogTable[],
  ) => Promise<ColumnCatalog>
}

export interface AuthorizedRequest {
  readonly requestId: string
  readonly identity: VerifiedIdentity
  readonly decision: Decision
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number
}

/**
 * Resolves the identity and checks `sql`.
 * @throws the identity error, the analysis error, or AccessDenied; each is logged first.
 */
export async function authorizeRequest(
  context: AuthorizationContext,
  session: DelegationSession,
  action: DelegationAction,
  sql: string,
): Promise<AuthorizedRequest> {
  const startedAt = performance.now()
  const requestId = session.requestId ?? randomUUID()

  let identity: VerifiedIdentity
  try {
    identity = await context.identities.resolve(session)
  } catch (error) {
    const errorCode = isSqlgateError(error) ? error.code : 'ERR_TOKEN_INVALID'
    logDecision(context, { requestId, action, sql, startedAt, identity: null, errorCode })
    throw error
  }

  const check = (catalog?: ColumnCatalog): Decision =>
    context.engine.check({
      dialect: context.dialect,
      roles: identity.roles,
      sql,
      domain: context.moduleName,
      ...(context.defaultSchema === undefined ? {} : { defaultSchema: context.defaultSchema }),
      ...(context.otherSchemas === undefined ? {} : { otherSchemas: context.otherSchemas }),
      ...(catalog === undefined ? {} : { catalog }),
    })
  let decision = check()
  const needs = decision.catalogNeeds ?? []
  if (decision.errorCode === 'ERR_CATALOG_UNAVAILABLE' && needs.length > 0) {
    decision = await checkWithCatalog(context, identity, decision, needs, check)
  }
  logDecision(context, { requestId, action, sql, startedAt, identity, decision })

  if (!decision.allowed) throw decision.error ?? new AccessDenied(decision.denials)
  return { requestId, identity, decision, startedAt }
}

/**
 * Reads the needed column lists and checks again. When they cannot be read the first decision
 * is returned, still denied, with the reading error in place of the generic one.
 */
async function checkWithCatalog(
  context: AuthorizationContext,
  identity: VerifiedIdentity,
  decision: Decision,
  needs: readonly CatalogTable[],
  check: (catalog: ColumnCatalog) => Decision,
): Promise<Decision> {
  if (context.readCatalog === undefined) return decision
  try {
    return check(await context.readCatalog(identity, needs))
  } catch (error) {
    const unavailable =
      error instanceof CatalogUnavailable
        ? error
        : new CatalogUnavailable('reading column lists from the catalog failed', { cause: error })
    return Object.freeze({ ...decision, error: unavailable })
  }
}

interface DecisionRecord {
  readonly requestId: string
  readonly action: DelegationAction
  readonly sql: string
  readonly startedAt: number
  readonly identity: VerifiedIdentity | null
  readonly decision?: Decision
  readonly errorCode?: string
}

function logDecision(context: AuthorizationContext, record: DecisionRecord): void {
  emitAuditEvent(context.audit, () => {
    const decision = record.decision
    const frontEnd = context.engine.frontEnd(context.dialect)
    return {
      type: 'decision',
      time: new Date().toISOString(),
      requestId: record.requestId,
      module: context.moduleName,
      action: record.action,
      subject: record.identity?.subject ?? null,
      legacyName: record.identity?.legacyName ?? null,
      roles: record.identity?.roles ?? [],
      actor: record.identity?.actor ?? null,
      dialect: context.dialect,
      fingerprint: frontEnd?.fingerprint?.(record.sql) ?? null,
      facts: decision?.facts ?? null,
      decision: decision?.allowed === true ? 'allow' : 'deny',
      errorCode: record.errorCode ?? decision?.errorCode ?? null,
      denials: decision?.denials ?? [],
      grants: decision?.grants ?? [],
      policyVersion: decision?.policyVersion ?? context.engine.policyVersion,
      durationMs: performance.now() - record.startedAt,
    }
  })
}
