/**
 * The PostgreSQL part of sqlgate, exported as the `sqlgate/postgres` subpath: the delegation
 * module, its front ends and the embedded PGlite server for demos and tests.
 */

export { createLibpgQueryFrontEnd } from './libpg-query-front-end.js'
export { createPgsqlAstFrontEnd, type PgsqlAstFrontEndOptions } from './pgsql-ast-front-end.js'
export { createCrossCheckFrontEnd } from './cross-check-front-end.js'
export {
  PostgreSQLDelegationModule,
  type PostgreSQLModuleConfig,
  type PostgreSQLModuleOptions,
} from './postgres-delegation-module.js'
export { startEmbeddedPostgres, type EmbeddedPostgres } from '../../embedded/embedded-postgres.js'
