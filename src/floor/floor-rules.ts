/**
 * The built-in floor: rules that deny before any policy line is read. A policy file cannot lift
 * a floor rule with a wildcard. Only the rules marked `liftable` can be lifted, and only by a line
 * that names the rule exactly, for example `p, admin, *, floor:multiple-statements, lift, allow`.
 * The other rules protect the impersonation itself and are never lifted.
 */

export type FloorRuleId =
  | 'multiple-statements'
  | 'identity-change'
  | 'session-state'
  | 'transaction-control'
  | 'dynamic-sql'
  | 'server-files'
  | 'server-programs'
  | 'server-processes'
  | 'remote-access'
  | 'denial-of-service'
  | 'stored-code'

export interface FloorRule {
  readonly id: FloorRuleId
  /** Whether an exact policy line may lift the rule for a role. */
  readonly liftable: boolean
  /** The harm the rule prevents, in words. */
  readonly reason: string
}

export const FLOOR_RULES: Readonly<Record<FloorRuleId, FloorRule>> = {
  'multiple-statements': {
    id: 'multiple-statements',
    liftable: true,
    reason: 'a request may carry one statement unless a policy line lifts this rule',
  },
  'identity-change': {
    id: 'identity-change',
    liftable: false,
    reason: 'changing the database identity would escape the impersonation',
  },
  'session-state': {
    id: 'session-state',
    liftable: false,
    reason: 'session settings and session objects would outlive the request on a pooled connection',
  },
  'transaction-control': {
    id: 'transaction-control',
    liftable: false,
    reason: 'transaction control would end the transaction that holds the impersonation',
  },
  'dynamic-sql': {
    id: 'dynamic-sql',
    liftable: false,
    reason: 'SQL built from strings at run time cannot be checked before it runs',
  },
  'server-files': {
    id: 'server-files',
    liftable: false,
    reason: 'reading or writing files on the database server is outside any data policy',
  },
  'server-programs': {
    id: 'server-programs',
    liftable: false,
    reason: 'running programs or loading libraries on the database server is never delegated',
  },
  'server-processes': {
    id: 'server-processes',
    liftable: true,
    reason: 'signalling server processes or reloading configuration affects other sessions',
  },
  'remote-access': {
    id: 'remote-access',
    liftable: false,
    reason: 'a connection to another server runs outside the impersonation and the transaction',
  },
  'stored-code': {
    id: 'stored-code',
    liftable: true,
    reason:
      'a function or procedure body is stored unanalyzed and can later run anything the floor denies',
  },
  'denial-of-service': {
    id: 'denial-of-service',
    liftable: false,
    reason: 'holding the connection idle or stopping the server affects every other user',
  },
}

/** Policy object that names a floor rule, for example `floor:multiple-statements`. */
export function floorObject(id: FloorRuleId): string {
  return `floor:${id}`
}
