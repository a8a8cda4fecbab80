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
import { AccessDenied, isSqlgateError } from '../errors.js'
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

  const decision = context.engine.check({
    dialect: context.dialect,
    roles: identity.roles,
    sql,
    domain: context.moduleName,
    ...(context.defaultSchema === undefined ? {} : { defaultSchema: context.defaultSchema }),
  })
  logDecision(context, { requestId, action, sql, startedAt, identity, decision })

  if (!decision.allowed) throw decision.error ?? new AccessDenied(decision.denials)
  return { requestId, identity, decision, startedAt }
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
