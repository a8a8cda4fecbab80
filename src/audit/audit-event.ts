/**
 * The decision log: one structured event per decision. Events hold no parameter value, no token
 * and no SQL literal: the SQL appears only as a fingerprint with every constant replaced.
 */

import type { Denial } from '../errors.js'
import type { Grant } from '../authorize/decision.js'
import type { RequestFacts } from '../extract/statement-facts.js'

export interface DecisionEvent {
  readonly type: 'decision'
  /** ISO 8601 time of the decision. */
  readonly time: string
  readonly requestId: string
  /** Delegation module name, which is also the policy domain. */
  readonly module: string
  /** The request's action: `query`, `schema` or `table-details`. */
  readonly action: string
  /** `sub` of the verified token, or `null` when no token was verified. */
  readonly subject: string | null
  readonly legacyName: string | null
  readonly roles: readonly string[]
  /** The `act` claim of the token, when present. */
  readonly actor: Readonly<Record<string, unknown>> | null
  readonly dialect: string
  /** The SQL with literals and comments removed, or `null` when it could not be normalized. */
  readonly fingerprint: string | null
  readonly facts: RequestFacts | null
  readonly decision: 'allow' | 'deny'
  /** Error code of a denial or failure, for example `ERR_ACCESS_DENIED` or `ERR_TOKEN_EXPIRED`. */
  readonly errorCode: string | null
  readonly denials: readonly Denial[]
  readonly grants: readonly Grant[]
  readonly policyVersion: string
  /** Time from receiving the request to the decision, in milliseconds. */
  readonly durationMs: number
}

export interface ExecutionEvent {
  readonly type: 'execution'
  readonly time: string
  readonly requestId: string
  readonly module: string
  readonly outcome: 'succeeded' | 'failed'
  /** Rows returned or affected. */
  readonly rowCount: number | null
  /** SQLSTATE or driver error number when the statement failed. */
  readonly sqlState: string | null
  readonly errorCode: string | null
  readonly durationMs: number
}

/**
 * One attempt to replace the policy in force. A rejected policy never serves: the previous
 * version keeps deciding, and `errors` lists why the new text was rejected.
 */
export interface PolicyReloadEvent {
  readonly type: 'policy_reload'
  readonly time: string
  /** Source of the policy: a directory, or `postgres:<schema>` for a shared policy. */
  readonly origin: string
  /** Cause of the reload, for example `file-change`, `notification` or `push`. */
  readonly trigger: string
  /** `applied`: a new version serves. `unchanged`: same version. `rejected`: old version serves. */
  readonly outcome: 'applied' | 'unchanged' | 'rejected'
  readonly previousVersion: string
  /** Version of the policy that was read, or `null` when it could not be read at all. */
  readonly version: string | null
  /** Lint or loading errors of a rejected policy, or an empty list. */
  readonly errors: readonly string[]
  readonly durationMs: number
}

/**
 * A change in the connection that receives policy change notifications. While it is
 * `disconnected`, notifications are missed, so the policy is reloaded once it is `listening` again.
 */
export interface PolicySyncEvent {
  readonly type: 'policy_sync'
  readonly time: string
  readonly origin: string
  readonly state: 'listening' | 'disconnected'
  /** The driver's error message when the connection failed, else `null`. */
  readonly message: string | null
}

export type AuditEvent = DecisionEvent | ExecutionEvent | PolicyReloadEvent | PolicySyncEvent

/** Receives audit events. It must not throw; an exception from it is ignored. */
export type AuditSink = (event: AuditEvent) => void
