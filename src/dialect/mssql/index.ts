/**
 * The SQL Server part of sqlgate, meant for a `sqlgate/mssql` subpath so that a PostgreSQL-only
 * application never loads `mssql` or `tedious`.
 */

export { createMssqlFrontEnd } from './mssql-front-end.js'
export {
  SQLDelegationModule,
  type SQLDelegationModuleOptions,
} from './sql-delegation-module.js'
export type { MssqlModuleConfig } from './mssql-module-config.js'
export type { MssqlColumnCatalogOptions } from './mssql-column-catalog.js'
