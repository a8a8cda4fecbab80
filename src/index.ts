/**
 * sqlgate: checks SQL against per-role policies and runs it under the end user's database
 * identity. This entry exports the dialect-neutral parts; `sqlgate/postgres` and
 * `sqlgate/mssql` export the delegation modules, `sqlgate/errors` the error classes.
 */

// Engine and decisions.
export {
  createPolicyEngine,
  createDefaultFrontEnds,
  DEFAULT_POLICY_DIRECTORY,
  type CreatePolicyEngineOptions,
} from './engine/create-policy-engine.js'
export { PolicyEngine, type CheckRequest, type PolicyEngineOptions } from './engine/policy-engine.js'
export type { DecisionCacheOptions } from './engine/decision-cache.js'
export type { Decision, Grant } from './authorize/decision.js'
export { CasbinAuthorizer } from './authorize/casbin-authorizer.js'
export { FLOOR_RULES, type FloorRule, type FloorRuleId } from './floor/floor-rules.js'
export type {
  ColumnFact,
  FloorFact,
  FunctionFact,
  RequestFacts,
  StatementFacts,
  StatementKind,
  TableAction,
  TableFact,
} from './extract/statement-facts.js'
export type { Dialect, SqlFrontEnd } from './parse/front-end.js'

// Policies.
export {
  createPolicySource,
  readPolicyDirectory,
  type PolicySource,
} from './policy/policy-source.js'
export { PolicyReloader, type PolicyReloaderOptions } from './policy/policy-reloader.js'
export { readRowLimits, RowLimits } from './policy/row-limits.js'
export { SharedPolicy, pushPolicy } from './policy/sync/shared-policy.js'
export { createColumnCatalog, type ColumnCatalog } from './catalog/column-catalog.js'

// Delegation.
export type {
  DelegationAction,
  DelegationModule,
  DelegationParams,
  DelegationResult,
  DelegationSession,
  QueryParams,
  SchemaParams,
  TableDetailsParams,
} from './execute/delegation-module.js'
export { DelegationRegistry } from './execute/delegation-registry.js'

// Audit.
export type { AuditEvent, AuditSink, DecisionEvent, ExecutionEvent } from './audit/audit-event.js'
export { DECISION_CHANNEL, EXECUTION_CHANNEL } from './audit/audit-channels.js'
export { createLogger } from './logging/create-logger.js'
export { createPinoAuditSink } from './logging/pino-audit-sink.js'

// Tokens.
export * from './token/index.js'

// Errors.
export * as errors from './errors.js'
