/**
 * One policy shared by many sqlgate instances: the lines live in PostgreSQL (see
 * postgres-policy-store.ts), each instance loads them into its engine, and a notification on the
 * store's channel makes every instance reload after a push. Reloads are checked like file reloads,
 * so a bad push never replaces a good policy on any instance.
 */

import { emitAuditEvent } from '../../audit/audit-channels.js'
import type { AuditSink } from '../../audit/audit-event.js'
import { CasbinAuthorizer } from '../../authorize/casbin-authorizer.js'
import type { PolicyEngine } from '../../engine/policy-engine.js'
import { PolicyInvalid } from '../../errors.js'
import { checkPolicyBasics } from '../basic-policy-checks.js'
import { PolicyReloader, type PolicyCheck, type ReloadResult } from '../policy-reloader.js'
import { createPolicySource, type PolicySource } from '../policy-source.js'
import { PostgresPolicyStore, type PostgresPolicyStoreOptions } from './postgres-policy-store.js'
import {
  PostgresPolicyWatcher,
  type PostgresPolicyWatcherOptions,
} from './postgres-policy-watcher.js'

export interface OpenSharedPolicyOptions extends PostgresPolicyStoreOptions {
  /** The engine whose policy is replaced by the shared one. */
  readonly engine: PolicyEngine
  /**
   * Casbin model text. The database stores lines only, so all instances must use the same model.
   * Default: the model of the engine's current policy.
   */
  readonly model?: string
  /** Checks a loaded policy before it serves. Default: `checkPolicyBasics`. */
  readonly check?: PolicyCheck
  /** Receives `policy_reload` and `policy_sync` events. */
  readonly audit?: AuditSink
  /** Reconnection and health check timing of the listening connection. */
  readonly watcher?: Pick<
    PostgresPolicyWatcherOptions,
    'reconnectDelayMs' | 'maxReconnectDelayMs' | 'healthCheckMs'
  >
}

export class SharedPolicy {
  readonly #store: PostgresPolicyStore
  readonly #watcher: PostgresPolicyWatcher
  readonly #reloader: PolicyReloader
  readonly #model: string
  readonly #check: PolicyCheck

  private constructor(
    store: PostgresPolicyStore,
    watcher: PostgresPolicyWatcher,
    reloader: PolicyReloader,
    model: string,
    check: PolicyCheck,
  ) {
    this.#store = store
    this.#watcher = watcher
    this.#reloader = reloader
    this.#model = model
    this.#check = check
  }

  /**
   * Connects the store and the listening connection, then loads the stored policy into the
   * engine. When the stored policy is rejected (for example, nothing was pushed yet, so there
   * are no lines), the engine keeps its current policy and the `policy_reload` event lists the
   * errors.
   * @throws the driver's error when the database cannot be reached.
   */
  static async open(options: OpenSharedPolicyOptions): Promise<SharedPolicy> {
    const { engine, audit } = options
    const model = options.model ?? engine.authorizer.source.model
    const check = options.check ?? checkPolicyBasics
    const store = await PostgresPolicyStore.open(options)
    const origin = store.origin
    const reloader = new PolicyReloader({
      engine,
      origin,
      load: () => store.load(model),
      check,
      ...(audit === undefined ? {} : { audit }),
    })

    let watcher: PostgresPolicyWatcher
    try {
      watcher = await PostgresPolicyWatcher.open({
        ...options.watcher,
        connectionString: options.connectionString,
        channel: store.channel,
        ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
        onStateChange: (state, error) =>
          emitAuditEvent(audit, () => ({
            type: 'policy_sync',
            time: new Date().toISOString(),
            origin,
            state,
            message: error?.message ?? null,
          })),
      })
    } catch (error) {
      await store.close()
      throw error
    }

    watcher.setUpdateCallback(() => void reloader.reload('notification'))
    await reloader.reload('start')
    return new SharedPolicy(store, watcher, reloader, model, check)
  }

  /** Notification channel of the store. */
  get channel(): string {
    return this.#store.channel
  }

  /** True while the listening connection is up. */
  get listening(): boolean {
    return this.#watcher.listening
  }

  /**
   * Checks the policy lines of `source` against this instance's model, stores them, and reloads
   * this instance; the other instances reload when the notification arrives. The model text of
   * `source` is not stored.
   * @throws PolicyInvalid when the lines fail to load, fail the check or cannot be stored; the
   *   driver's error when the database fails. The stored policy is unchanged in every case.
   */
  async push(source: PolicySource): Promise<ReloadResult> {
    const lines = createPolicySource(this.#model, source.policy, source.origin)
    await pushChecked(this.#store, lines, this.#check, this.#watcher.id)
    return this.#reloader.reload('push')
  }

  /** Reads the stored policy again, for example after a missed notification. */
  reload(): Promise<ReloadResult> {
    return this.#reloader.reload('manual')
  }

  /** Closes the listening connection and the store. */
  async close(): Promise<void> {
    await this.#watcher.close()
    await this.#store.close()
  }
}

export interface PushPolicyOptions extends PostgresPolicyStoreOptions {
  /** Checks the policy before it is stored. Default: `checkPolicyBasics`. */
  readonly check?: PolicyCheck
}

/**
 * Stores a policy's lines for every instance that shares the store, and notifies them, without
 * running an instance. Used by `sqlgate policy push`.
 * @returns the version that instances with the same model will report.
 * @throws PolicyInvalid when the policy fails to load, fails the check or cannot be stored.
 */
export async function pushPolicy(
  source: PolicySource,
  options: PushPolicyOptions,
): Promise<string> {
  const store = await PostgresPolicyStore.open(options)
  try {
    return await pushChecked(store, source, options.check ?? checkPolicyBasics, 'sqlgate-push')
  } finally {
    await store.close()
  }
}

async function pushChecked(
  store: PostgresPolicyStore,
  source: PolicySource,
  check: PolicyCheck,
  sender: string,
): Promise<string> {
  const authorizer = await CasbinAuthorizer.create(source)
  const problems = await check(authorizer)
  if (problems.length > 0) {
    throw new PolicyInvalid(`policy from ${source.origin} failed the checks`, problems)
  }
  return store.push(authorizer, sender)
}
