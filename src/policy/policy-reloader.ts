/**
 * Replaces the policy of a running engine without a restart. A new policy serves only when it
 * loads and passes the checks; otherwise the last version that passed keeps serving. Every attempt
 * writes one `policy_reload` audit event with the old and new version or the errors.
 */

import { emitAuditEvent } from '../audit/audit-channels.js'
import type { AuditSink, PolicyReloadEvent } from '../audit/audit-event.js'
import type { CasbinAuthorizer } from '../authorize/casbin-authorizer.js'
import type { PolicyEngine } from '../engine/policy-engine.js'
import { isSqlgateError, PolicyInvalid } from '../errors.js'
import { checkPolicyBasics } from './basic-policy-checks.js'

/** Returns the problems of a loaded policy; an empty list lets it serve. */
export type PolicyCheck = (
  authorizer: CasbinAuthorizer,
) => readonly string[] | Promise<readonly string[]>

export interface PolicyReloaderOptions {
  readonly engine: PolicyEngine
  /** Source of the policy for the audit event, for example the directory. */
  readonly origin: string
  /** Reads and loads the current policy text. A thrown error rejects the reload. */
  readonly load: () => Promise<CasbinAuthorizer>
  /** Checks a loaded policy before it serves. Default: `checkPolicyBasics`. */
  readonly check?: PolicyCheck
  /** Receives the `policy_reload` events (they also go to the `sqlgate:policy:reload` channel). */
  readonly audit?: AuditSink
}

/** The result of one reload. */
export interface ReloadResult {
  readonly outcome: PolicyReloadEvent['outcome']
  /** Version in force after the reload. */
  readonly version: string
  readonly errors: readonly string[]
}

export class PolicyReloader {
  readonly #options: PolicyReloaderOptions
  #running: Promise<ReloadResult> | null = null
  #queued: Promise<ReloadResult> | null = null

  constructor(options: PolicyReloaderOptions) {
    this.#options = options
  }

  /**
   * Loads, checks and applies the policy. One reload runs at a time: requests made during a
   * reload share one more reload after it, so a burst of changes costs at most two loads and
   * the last change is always read. Never rejects.
   */
  reload(trigger: string): Promise<ReloadResult> {
    if (this.#running === null) {
      this.#running = this.#run(trigger).finally(() => {
        this.#running = null
      })
      return this.#running
    }
    this.#queued ??= this.#running.then(() => {
      this.#queued = null
      return this.reload(trigger)
    })
    return this.#queued
  }

  async #run(trigger: string): Promise<ReloadResult> {
    const { engine, load, audit, origin } = this.#options
    const check = this.#options.check ?? checkPolicyBasics
    const startedAt = performance.now()
    const previousVersion = engine.policyVersion

    const finish = (
      outcome: PolicyReloadEvent['outcome'],
      version: string | null,
      errors: readonly string[],
    ): ReloadResult => {
      emitAuditEvent(audit, () => ({
        type: 'policy_reload',
        time: new Date().toISOString(),
        origin,
        trigger,
        outcome,
        previousVersion,
        version,
        errors,
        durationMs: performance.now() - startedAt,
      }))
      return { outcome, version: engine.policyVersion, errors }
    }

    let authorizer: CasbinAuthorizer
    let errors: readonly string[]
    try {
      authorizer = await load()
      errors = await check(authorizer)
    } catch (error) {
      return finish('rejected', null, problemsOf(error))
    }

    if (errors.length > 0) return finish('rejected', authorizer.version, errors)
    if (authorizer.version === engine.policyVersion) {
      return finish('unchanged', authorizer.version, [])
    }
    engine.setAuthorizer(authorizer)
    return finish('applied', authorizer.version, [])
  }
}

function problemsOf(error: unknown): string[] {
  if (error instanceof PolicyInvalid && error.problems.length > 0) return [...error.problems]
  if (isSqlgateError(error)) return [error.message]
  return [`the policy could not be read: ${error instanceof Error ? error.message : String(error)}`]
}
