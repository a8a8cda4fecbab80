/**
 * Hot reload of a policy directory: `fs.watch` on the directory that contains `model.conf` and
 * `policy.csv`, debounced, then a checked reload. The directory is watched rather than the files,
 * because editors that save by renaming a new file over the old one replace the watched inode.
 */

import { watch, type FSWatcher } from 'node:fs'

import type { AuditSink } from '../audit/audit-event.js'
import { CasbinAuthorizer } from '../authorize/casbin-authorizer.js'
import type { PolicyEngine } from '../engine/policy-engine.js'
import { readPolicyDirectory } from './policy-source.js'
import { PolicyReloader, type PolicyCheck, type ReloadResult } from './policy-reloader.js'

const POLICY_FILES = new Set(['model.conf', 'policy.csv'])

/**
 * Tells whether a change may have replaced a policy file. Kubernetes mounts a ConfigMap as
 * symbolic links through `..data`, and updates it by swapping that link, so the events name
 * `..data` or a `..<timestamp>` directory and never the policy files themselves.
 */
function concernsPolicy(filename: string | null): boolean {
  // Some platforms report no file name, so any change then counts.
  if (filename === null) return true
  return POLICY_FILES.has(filename) || filename.startsWith('..')
}

export interface WatchPolicyDirectoryOptions {
  readonly engine: PolicyEngine
  /** Directory with model.conf and policy.csv; usually the one the engine was created from. */
  readonly directory: string
  /**
   * Quiet time after the last change before the files are read, in milliseconds. Default 100.
   * A longer wait reads fewer half-written files, which are rejected and keep the old version.
   */
  readonly debounceMs?: number
  /** Checks a loaded policy before it serves. Default: `checkPolicyBasics`. */
  readonly check?: PolicyCheck
  readonly audit?: AuditSink
}

export interface PolicyDirectoryWatch {
  readonly reloader: PolicyReloader
  /** Reloads now, without waiting for a change. */
  reload(): Promise<ReloadResult>
  /** Stops watching; a reload that is already running still completes. */
  close(): void
}

/**
 * Watches the directory and reloads the engine's policy when a policy file changes. It reloads
 * once at the start, so a change made before the watch began is not missed.
 * @throws the `fs.watch` error when the directory cannot be watched.
 */
export async function watchPolicyDirectory(
  options: WatchPolicyDirectoryOptions,
): Promise<PolicyDirectoryWatch> {
  const { directory } = options
  const debounceMs = options.debounceMs ?? 100
  const reloader = new PolicyReloader({
    engine: options.engine,
    origin: directory,
    load: async () => CasbinAuthorizer.create(await readPolicyDirectory(directory)),
    ...(options.check === undefined ? {} : { check: options.check }),
    ...(options.audit === undefined ? {} : { audit: options.audit }),
  })

  let timer: NodeJS.Timeout | undefined
  const watcher: FSWatcher = watch(directory, { persistent: false }, (_event, filename) => {
    if (!concernsPolicy(filename === null ? null : filename.toString())) return
    clearTimeout(timer)
    timer = setTimeout(() => void reloader.reload('file-change'), debounceMs)
  })
  // A watch that fails later, for example because the directory was removed, stops reloading.
  // The policy in force keeps serving, and the reload below reports the failure as rejected.
  watcher.on('error', () => {
    void reloader.reload('watch-error')
  })

  await reloader.reload('start')
  return {
    reloader,
    reload: () => reloader.reload('manual'),
    close() {
      clearTimeout(timer)
      watcher.close()
    },
  }
}
