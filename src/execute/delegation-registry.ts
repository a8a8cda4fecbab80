/**
 * Named delegation modules, for example `postgresql1` and `postgresql2`, each with its own pool
 * and its own policy domain.
 */

import { ModuleNotRegistered } from '../errors.js'
import type {
  DelegationAction,
  DelegationModule,
  DelegationParams,
  DelegationResult,
  DelegationSession,
} from './delegation-module.js'

export class DelegationRegistry {
  readonly #modules = new Map<string, DelegationModule>()

  /**
   * Registers a module under its name.
   * @throws TypeError when a module of that name is already registered.
   */
  register(module: DelegationModule): this {
    if (this.#modules.has(module.name)) {
      throw new TypeError(`a module named "${module.name}" is already registered`)
    }
    this.#modules.set(module.name, module)
    return this
  }

  /** Returns the module registered under `name`, or throws `ModuleNotRegistered`. */
  get(name: string): DelegationModule {
    const module = this.#modules.get(name)
    if (module === undefined) throw new ModuleNotRegistered(name)
    return module
  }

  /** Names of the registered modules. */
  names(): string[] {
    return [...this.#modules.keys()]
  }

  /** Runs an action on the named module. */
  async delegate(
    moduleName: string,
    session: DelegationSession,
    action: DelegationAction,
    params: DelegationParams,
  ): Promise<DelegationResult> {
    return this.get(moduleName).delegate(session, action, params)
  }

  /** Closes every module. */
  async close(): Promise<void> {
    await Promise.all([...this.#modules.values()].map((module) => module.close()))
  }
}
