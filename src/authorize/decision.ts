import type { Denial } from '../errors.js'
import type { RequestFacts } from '../extract/statement-facts.js'

/** A policy line or floor rule that allowed one fact. */
export interface Grant {
  readonly object: string
  readonly action: string
  /** The deciding policy line as written, for example `p, sql-read, *, table:public.*, select, allow`. */
  readonly rule: string
}

/** The outcome of checking one request. Frozen; safe to cache and to log. */
export interface Decision {
  readonly allowed: boolean
  /** Every denied fact with the rule that denied it. Empty when `allowed`. */
  readonly denials: readonly Denial[]
  /** Every allowed fact with the line that allowed it. */
  readonly grants: readonly Grant[]
  /** The facts that were checked, or `null` when the SQL could not be analyzed. */
  readonly facts: RequestFacts | null
  /** Error code when analysis failed, for example `ERR_SQL_PARSE_FAILED`. */
  readonly errorCode: string | null
  /** Hash of the policy files that decided. */
  readonly policyVersion: string
}
