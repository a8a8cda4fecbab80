import type { CatalogTable } from '../catalog/column-catalog.js'
import type { Denial, SqlgateError } from '../errors.js'
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
  /** `ERR_ACCESS_DENIED` for a policy or floor denial, the analysis error's code otherwise. */
  readonly errorCode: string | null
  /** The typed error that stopped analysis (parse failure, unsupported construct, too large). */
  readonly error: SqlgateError | null
  /** Hash of the policy files that decided. */
  readonly policyVersion: string
  /**
   * Tables whose column list the check needed to expand `*` against column rules and did not
   * have. Non-empty means the request was denied for that reason (among others perhaps); a
   * module that reads these tables' columns under the caller's identity can check again.
   */
  readonly catalogNeeds?: readonly CatalogTable[]
}
