/**
 * How each PostgreSQL utility statement (everything but SELECT, INSERT, UPDATE, DELETE, MERGE and
 * EXPLAIN) is classified: its kind, the floor rule it always breaks, and the action on the
 * relation it names. A parse tree node that is neither here nor handled by the extractor is
 * unsupported and denied.
 */

import type { StatementKind, TableAction } from '../../extract/statement-facts.js'
import type { FloorRuleId } from '../../floor/floor-rules.js'

export interface UtilityStatement {
  readonly kind: StatementKind
  /** Floor rule broken by every statement of this type. */
  readonly floor?: FloorRuleId
  /** Action on the statement's `relation` field, when it has one. */
  readonly relationAction?: TableAction
  /** Words for the construct in denials, for example `SET ROLE`. */
  readonly construct: string
}

const create = (construct: string, relationAction?: TableAction): UtilityStatement =>
  relationAction === undefined
    ? { kind: 'create', construct }
    : { kind: 'create', construct, relationAction }
const alter = (construct: string, relationAction?: TableAction): UtilityStatement =>
  relationAction === undefined
    ? { kind: 'alter', construct }
    : { kind: 'alter', construct, relationAction }

export const UTILITY_STATEMENTS: Readonly<Record<string, UtilityStatement>> = {
  // Session and identity: handled in detail by the extractor, listed here for their kind.
  VariableShowStmt: { kind: 'show', construct: 'SHOW' },
  DiscardStmt: { kind: 'discard', floor: 'session-state', construct: 'DISCARD' },
  TransactionStmt: { kind: 'transaction', floor: 'transaction-control', construct: 'transaction control' },
  DoStmt: { kind: 'do', floor: 'dynamic-sql', construct: 'DO block' },
  PrepareStmt: { kind: 'prepare', floor: 'dynamic-sql', construct: 'PREPARE' },
  ExecuteStmt: { kind: 'execute', floor: 'dynamic-sql', construct: 'EXECUTE' },
  DeallocateStmt: { kind: 'deallocate', floor: 'session-state', construct: 'DEALLOCATE' },
  ListenStmt: { kind: 'listen', floor: 'session-state', construct: 'LISTEN' },
  UnlistenStmt: { kind: 'listen', floor: 'session-state', construct: 'UNLISTEN' },
  NotifyStmt: { kind: 'notify', construct: 'NOTIFY' },
  DeclareCursorStmt: { kind: 'declare', floor: 'session-state', construct: 'DECLARE CURSOR' },
  FetchStmt: { kind: 'fetch', floor: 'session-state', construct: 'FETCH or MOVE' },
  ClosePortalStmt: { kind: 'fetch', floor: 'session-state', construct: 'CLOSE' },
  LoadStmt: { kind: 'load', floor: 'server-programs', construct: 'LOAD' },
  AlterSystemStmt: { kind: 'alter', floor: 'server-programs', construct: 'ALTER SYSTEM' },
  CheckPointStmt: { kind: 'checkpoint', floor: 'server-processes', construct: 'CHECKPOINT' },
  CreateTableSpaceStmt: { kind: 'create', floor: 'server-files', construct: 'CREATE TABLESPACE' },
  CreateFdwStmt: { kind: 'create', floor: 'remote-access', construct: 'CREATE FOREIGN DATA WRAPPER' },
  AlterFdwStmt: { kind: 'alter', floor: 'remote-access', construct: 'ALTER FOREIGN DATA WRAPPER' },
  CreateForeignServerStmt: { kind: 'create', floor: 'remote-access', construct: 'CREATE SERVER' },
  AlterForeignServerStmt: { kind: 'alter', floor: 'remote-access', construct: 'ALTER SERVER' },
  CreateUserMappingStmt: { kind: 'create', floor: 'remote-access', construct: 'CREATE USER MAPPING' },
  AlterUserMappingStmt: { kind: 'alter', floor: 'remote-access', construct: 'ALTER USER MAPPING' },
  DropUserMappingStmt: { kind: 'drop', floor: 'remote-access', construct: 'DROP USER MAPPING' },
  CreateForeignTableStmt: { kind: 'create', floor: 'remote-access', construct: 'CREATE FOREIGN TABLE' },
  ImportForeignSchemaStmt: { kind: 'create', floor: 'remote-access', construct: 'IMPORT FOREIGN SCHEMA' },
  CreateSubscriptionStmt: { kind: 'create', floor: 'remote-access', construct: 'CREATE SUBSCRIPTION' },
  AlterSubscriptionStmt: { kind: 'alter', floor: 'remote-access', construct: 'ALTER SUBSCRIPTION' },

  // Locks and maintenance.
  LockStmt: { kind: 'lock', construct: 'LOCK', relationAction: 'lock' },
  RefreshMatViewStmt: { kind: 'refresh', construct: 'REFRESH MATERIALIZED VIEW', relationAction: 'maintain' },
  ReindexStmt: { kind: 'reindex', construct: 'REINDEX', relationAction: 'maintain' },
  ClusterStmt: { kind: 'cluster', construct: 'CLUSTER', relationAction: 'maintain' },

  // Definitions.
  CreateStmt: create('CREATE TABLE', 'create'),
  ViewStmt: create('CREATE VIEW'),
  IndexStmt: create('CREATE INDEX', 'create'),
  CreateSeqStmt: create('CREATE SEQUENCE'),
  CreateSchemaStmt: create('CREATE SCHEMA'),
  CreateFunctionStmt: { kind: 'create', floor: 'stored-code', construct: 'CREATE FUNCTION or PROCEDURE' },
  CreateTrigStmt: create('CREATE TRIGGER', 'create'),
  CreateEventTrigStmt: create('CREATE EVENT TRIGGER'),
  CreatePolicyStmt: create('CREATE POLICY', 'create'),
  CreateDomainStmt: create('CREATE DOMAIN'),
  CompositeTypeStmt: create('CREATE TYPE'),
  CreateEnumStmt: create('CREATE TYPE AS ENUM'),
  CreateRangeStmt: create('CREATE TYPE AS RANGE'),
  DefineStmt: create('CREATE (aggregate, operator, type or collation)'),
  CreateExtensionStmt: create('CREATE EXTENSION'),
  CreateRoleStmt: create('CREATE ROLE'),
  CreatedbStmt: create('CREATE DATABASE'),
  CreateCastStmt: create('CREATE CAST'),
  CreateConversionStmt: create('CREATE CONVERSION'),
  CreateOpClassStmt: create('CREATE OPERATOR CLASS'),
  CreateOpFamilyStmt: create('CREATE OPERATOR FAMILY'),
  CreateStatsStmt: create('CREATE STATISTICS'),
  CreateTransformStmt: create('CREATE TRANSFORM'),
  CreatePLangStmt: create('CREATE LANGUAGE'),
  CreateAmStmt: create('CREATE ACCESS METHOD'),
  CreatePublicationStmt: create('CREATE PUBLICATION'),
  RuleStmt: create('CREATE RULE', 'create'),
  AlterTableStmt: alter('ALTER TABLE', 'alter'),
  AlterSeqStmt: alter('ALTER SEQUENCE', 'alter'),
  AlterDomainStmt: alter('ALTER DOMAIN'),
  AlterEnumStmt: alter('ALTER TYPE'),
  AlterFunctionStmt: { kind: 'alter', floor: 'stored-code', construct: 'ALTER FUNCTION' },
  AlterRoleStmt: alter('ALTER ROLE'),
  AlterRoleSetStmt: {
    kind: 'alter',
    floor: 'session-state',
    construct: 'ALTER ROLE ... SET (a default for every new session)',
  },
  AlterDatabaseStmt: alter('ALTER DATABASE'),
  AlterDatabaseSetStmt: {
    kind: 'alter',
    floor: 'session-state',
    construct: 'ALTER DATABASE ... SET (a default for every new session)',
  },
  AlterOwnerStmt: alter('ALTER OWNER'),
  AlterObjectSchemaStmt: alter('ALTER SET SCHEMA', 'alter'),
  AlterPolicyStmt: alter('ALTER POLICY', 'alter'),
  AlterExtensionStmt: alter('ALTER EXTENSION'),
  AlterStatsStmt: alter('ALTER STATISTICS'),
  AlterTableMoveAllStmt: alter('ALTER TABLE ALL IN TABLESPACE'),
  AlterOperatorStmt: alter('ALTER OPERATOR'),
  AlterTypeStmt: alter('ALTER TYPE'),
  AlterPublicationStmt: alter('ALTER PUBLICATION'),
  AlterCollationStmt: alter('ALTER COLLATION'),
  AlterEventTrigStmt: alter('ALTER EVENT TRIGGER'),
  AlterDefaultPrivilegesStmt: { kind: 'grant', construct: 'ALTER DEFAULT PRIVILEGES' },
  RenameStmt: alter('ALTER RENAME', 'alter'),
  CommentStmt: { kind: 'comment', construct: 'COMMENT' },
  SecLabelStmt: { kind: 'security-label', construct: 'SECURITY LABEL' },
  DropRoleStmt: { kind: 'drop', construct: 'DROP ROLE' },
  DropdbStmt: { kind: 'drop', construct: 'DROP DATABASE' },
  DropOwnedStmt: { kind: 'drop', construct: 'DROP OWNED' },
  ReassignOwnedStmt: { kind: 'alter', construct: 'REASSIGN OWNED' },
  GrantRoleStmt: { kind: 'grant', construct: 'GRANT role' },
}
