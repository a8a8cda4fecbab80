/**
 * Statements decided from tokens alone. node-sql-parser returns untyped assignment nodes for
 * `EXEC('...')`, `EXECUTE AS`, `SETUSER` and many others, so these never reach it: each one is
 * either described completely here or denied by name.
 */

import { FactBuilder } from '../../extract/fact-builder.js'
import type { StatementFacts, StatementKind } from '../../extract/statement-facts.js'
import type { FloorRuleId } from '../../floor/floor-rules.js'
import { unsupported } from './mssql-ast.js'
import { TSQL_STATEMENT_WORDS } from './tsql-keywords.js'
import { isSymbol, isWord, type TsqlToken } from './tsql-lexer.js'

/** Statement heads that go to node-sql-parser. */
export const PARSED_HEADS: ReadonlySet<string> = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'WITH',
  'TRUNCATE',
  'MERGE',
])

/** Heads that are one floor construct, with the kind and rule they map to. */
const FLOOR_HEADS: Readonly<Record<string, [StatementKind, FloorRuleId, string]>> = {
  REVERT: ['revert', 'identity-change', 'REVERT'],
  SETUSER: ['other', 'identity-change', 'SETUSER'],
  USE: ['use', 'session-state', 'USE'],
  WAITFOR: ['waitfor', 'denial-of-service', 'WAITFOR'],
  SHUTDOWN: ['other', 'denial-of-service', 'SHUTDOWN'],
  KILL: ['other', 'server-processes', 'KILL'],
  DBCC: ['other', 'server-processes', 'DBCC'],
  RECONFIGURE: ['other', 'server-processes', 'RECONFIGURE'],
  CHECKPOINT: ['checkpoint', 'server-processes', 'CHECKPOINT'],
  COMMIT: ['transaction', 'transaction-control', 'COMMIT'],
  ROLLBACK: ['transaction', 'transaction-control', 'ROLLBACK'],
  SAVE: ['transaction', 'transaction-control', 'SAVE TRANSACTION'],
  BULK: ['copy', 'server-files', 'BULK INSERT'],
  BACKUP: ['other', 'server-files', 'BACKUP'],
  RESTORE: ['other', 'server-files', 'RESTORE'],
  DUMP: ['other', 'server-files', 'DUMP'],
  LOAD: ['other', 'server-files', 'LOAD'],
}

/** System procedures that break a floor rule when called with EXEC, with the construct label. */
const PROCEDURE_FLOOR: ReadonlyArray<[RegExp, FloorRuleId, string]> = [
  [/^sp_executesql$/u, 'dynamic-sql', 'procedure sp_executesql'],
  // sp_MSforeachtable and sp_MSforeachdb run a command string per table or database, and
  // sp_sqlexec runs its argument as a batch.
  [/^sp_(msforeach|sqlexec$)/u, 'dynamic-sql', 'procedure that runs a command string'],
  [
    /^sp_(prepare|prepexec|prepexecrpc|execute|unprepare|cursor)/u,
    'dynamic-sql',
    'sp_prepare or sp_cursor procedure',
  ],
  [/^xp_/u, 'server-programs', 'extended stored procedure xp_'],
  [/^sp_(add|drop)extendedproc$/u, 'server-programs', 'extended procedure registration'],
  [
    /^sp_(trace_create|readerrorlog|enumerrorlogs|(attach|detach)_db|attach_single_file_db)$/u,
    'server-files',
    'procedure that reads or writes server files',
  ],
  [
    /^sp_addumpdevice$/u,
    'server-files',
    'procedure that reads or writes server files',
  ],
  [/^sp_oa/u, 'server-programs', 'OLE automation procedure sp_OA'],
  [/^sp_execute_external_script$/u, 'server-programs', 'procedure sp_execute_external_script'],
  [/^sp_configure$/u, 'server-processes', 'procedure sp_configure'],
  [
    /^sp_(addlinkedserver|addlinkedsrvlogin|serveroption|dropserver)$/u,
    'remote-access',
    'linked server procedure',
  ],
  [/^sp_(setapprole|unsetapprole)$/u, 'identity-change', 'application role procedure'],
  [
    /^sp_(set_session_context|reset_connection|xml_preparedocument)$/u,
    'session-state',
    'session procedure',
  ],
]

/**
 * System procedures that grant or revoke access: logins, users, role membership and ownership.
 * A call also has the kind `grant`, so it needs the same policy line as GRANT.
 */
const SECURITY_PROCEDURE = new RegExp(
  `^sp_(${[
    '(add|drop)(srv)?rolemember',
    '(add|drop)(login|user|role|approle)',
    '(grant|revoke)(dbaccess|login)',
    'denylogin',
    'password',
    'change(objectowner|dbowner|_users_login)',
    'default(db|language)',
  ].join('|')})$`,
  'u',
)

/**
 * System procedures that change object definitions or options: renames, bound rules and
 * defaults, alias types, trigger order, table and startup options, statistics, recompilation
 * and extended properties. A call also has the kind `alter`, so it needs the same policy line
 * as ALTER.
 */
const DEFINITION_PROCEDURE = new RegExp(
  `^sp_(${[
    'rename',
    '(un)?bind(rule|efault)',
    '(add|drop)type',
    'settriggerorder',
    '(table|proc)option',
    'recompile',
    'refresh(view|sqlmodule)',
    '(add|update|drop)extendedproperty',
    '(auto|create|update)stats',
  ].join('|')})$`,
  'u',
)

/** Object classes named in denials of CREATE, ALTER and DROP. */
const OBJECT_CLASSES = new Set(
  `TABLE VIEW PROCEDURE PROC FUNCTION TRIGGER INDEX SCHEMA USER LOGIN ROLE SEQUENCE SYNONYM TYPE
  DATABASE ASSEMBLY CERTIFICATE CREDENTIAL ENDPOINT EVENT SERVER STATISTICS`.split(/\s+/u),
)

/** SET options named in floor facts; any other option is reported as `SET option`. */
const SET_OPTIONS = new Set(
  `NOCOUNT ANSI_NULLS QUOTED_IDENTIFIER TRANSACTION XACT_ABORT ROWCOUNT LANGUAGE DATEFORMAT
  DATEFIRST LOCK_TIMEOUT DEADLOCK_PRIORITY CONTEXT_INFO IMPLICIT_TRANSACTIONS ARITHABORT
  STATISTICS SHOWPLAN_ALL SHOWPLAN_XML SHOWPLAN_TEXT NOEXEC PARSEONLY FMTONLY IDENTITY_INSERT
  TEXTSIZE CONCAT_NULL_YIELDS_NULL ANSI_WARNINGS ANSI_PADDING NUMERIC_ROUNDABORT FORCEPLAN
  QUERY_GOVERNOR_COST_LIMIT CURSOR_CLOSE_ON_COMMIT REMOTE_PROC_TRANSACTIONS`.split(/\s+/u),
)

function single(kind: StatementKind, rule: FloorRuleId, construct: string): StatementFacts {
  const facts = new FactBuilder(kind)
  facts.addFloor(rule, construct)
  return facts.build()
}

/**
 * Describes a statement that is decided from its tokens, or returns `null` when the statement
 * goes to the parser.
 * @throws SqlUnsupported for a statement that neither path describes.
 */
export function analyzeTokenStatement(tokens: readonly TsqlToken[]): StatementFacts | null {
  const first = tokens[0]
  if (first === undefined || first.kind !== 'word') {
    unsupported('statement that does not start with a T-SQL keyword')
  }
  const head = first.value
  if (PARSED_HEADS.has(head)) return null

  const floor = FLOOR_HEADS[head]
  if (floor !== undefined) return single(...floor)

  switch (head) {
    case 'EXEC':
    case 'EXECUTE':
      return analyzeExec(tokens)
    case 'SET':
      if (tokens[1]?.kind === 'variable') unsupported('SET @variable')
      return single('set', 'session-state', `SET ${optionName(tokens[1])}`)
    case 'BEGIN':
      if (isWord(tokens[1], 'TRAN', 'TRANSACTION', 'DISTRIBUTED')) {
        return single('transaction', 'transaction-control', 'BEGIN TRANSACTION')
      }
      return unsupported('BEGIN ... END block')
    case 'GRANT':
    case 'REVOKE':
    case 'DENY':
      return analyzePermission(tokens, head)
    case 'DECLARE':
      return analyzeDeclare(tokens)
    case 'CREATE':
    case 'DROP':
      if (isWord(tokens[1], 'TABLE')) return null
      return unsupported(`${head} ${objectClass(tokens[1])}`)
    default:
      // A batch may start with a bare procedure name, which SQL Server runs as EXEC.
      if (!TSQL_STATEMENT_WORDS.has(head)) return unsupported('procedure call without EXEC')
      return unsupported(head)
  }
}

/** Returns the SET option for the floor construct when it is a known option. */
function optionName(token: TsqlToken | undefined): string {
  return token?.kind === 'word' && SET_OPTIONS.has(token.value) ? token.value : 'option'
}

/** Returns the object class after CREATE, ALTER or DROP when it is a known keyword. */
function objectClass(token: TsqlToken | undefined): string {
  return token?.kind === 'word' && OBJECT_CLASSES.has(token.value) ? token.value : 'object'
}

/** Reads a dotted name; empty parts (`master..xp_cmdshell`) count as parts. */
function readName(tokens: readonly TsqlToken[], start: number): [string[], number] {
  const parts: string[] = []
  let index = start
  for (;;) {
    const token = tokens[index]
    if (token?.kind === 'word' || token?.kind === 'quoted-identifier') {
      parts.push((token.kind === 'word' ? token.text : token.value).toLowerCase())
      index += 1
    } else {
      parts.push('')
    }
    if (!isSymbol(tokens[index], '.')) return [parts, index]
    index += 1
  }
}

function analyzeExec(tokens: readonly TsqlToken[]): StatementFacts {
  let index = 1
  const next = tokens[index]

  if (isWord(next, 'AS')) return single('other', 'identity-change', 'EXECUTE AS')
  if (isSymbol(next, '(')) return single('execute', 'dynamic-sql', 'EXEC of a string')
  if (next?.kind === 'variable') {
    if (!isSymbol(tokens[index + 1], '=')) {
      return single('execute', 'dynamic-sql', 'EXEC of a procedure named by a variable')
    }
    index += 2
  }

  const [parts, afterName] = readName(tokens, index)
  const name = parts[parts.length - 1] ?? ''
  if (name === '') unsupported('EXEC without a procedure name')

  const facts = new FactBuilder('call')
  // Collations without _WS treat full-width letters as their ASCII forms, so `ｘｐ_cmdshell`
  // can name xp_cmdshell. NFKC maps those (and ligatures such as `ſ`) before matching.
  const key = name.normalize('NFKC').toLowerCase()
  for (const [pattern, rule, construct] of PROCEDURE_FLOOR) {
    if (pattern.test(key)) facts.addFloor(rule, construct)
  }
  if (key === 'sp_getapplock' && mayOwnSessionLock(tokens.slice(afterName))) {
    facts.addFloor('session-state', 'application lock owned by the session')
  }
  // The floor denies these whatever the rest of the call is.
  if (facts.build().floor.length > 0) return facts.build()
  if (parts.length > 2) unsupported('EXEC of a procedure in another database')
  if (parts.some((part) => part === '')) unsupported('EXEC of a procedure name with an empty part')

  const schema = parts.length === 2 ? (parts[0] as string) : null
  if (SECURITY_PROCEDURE.test(key)) facts.addKind('grant')
  if (DEFINITION_PROCEDURE.test(key)) facts.addKind('alter')
  facts.addFunction(schema, name, 'execute')
  readExecArguments(tokens, afterName, facts)

  return facts.build()
}

/**
 * Tells whether sp_getapplock arguments may set `@LockOwner = 'Session'`: a `'Session'` string
 * or a variable passed as a value, whose content is unknown. Such a lock outlives the request.
 */
function mayOwnSessionLock(args: readonly TsqlToken[]): boolean {
  return args.some(
    (token, index) =>
      (token.kind === 'string' && token.value.trim().toLowerCase() === 'session') ||
      (token.kind === 'variable' && !isSymbol(args[index + 1], '=')),
  )
}

/** Accepts only constant and variable arguments, so no expression can hide a query. */
function readExecArguments(tokens: readonly TsqlToken[], start: number, facts: FactBuilder): void {
  let index = start

  while (index < tokens.length) {
    if (isWord(tokens[index], 'WITH') && isWord(tokens[index + 1], 'RECOMPILE')) {
      index += 2
      continue
    }
    if (isWord(tokens[index], 'AT')) {
      facts.addFloor('remote-access', 'EXEC AT a linked server')
      return
    }

    if (tokens[index]?.kind === 'variable' && isSymbol(tokens[index + 1], '=')) index += 2
    if (isSymbol(tokens[index], '-') || isSymbol(tokens[index], '+')) index += 1

    const value = tokens[index]
    const constant =
      value !== undefined &&
      (value.kind === 'string' ||
        value.kind === 'number' ||
        value.kind === 'variable' ||
        value.kind === 'word' ||
        value.kind === 'quoted-identifier')
    if (!constant) unsupported('EXEC argument that is not a constant or a variable')
    index += 1

    if (isWord(tokens[index], 'OUTPUT', 'OUT')) index += 1
    if (index >= tokens.length) return
    if (isWord(tokens[index], 'AT', 'WITH')) continue
    if (!isSymbol(tokens[index], ',')) {
      unsupported('EXEC argument that is not a constant or a variable')
    }
    index += 1
  }
}

function analyzePermission(tokens: readonly TsqlToken[], head: string): StatementFacts {
  const kind = head === 'REVOKE' ? 'revoke' : 'grant'
  const facts = new FactBuilder(kind)
  const onIndex = tokens.findIndex((token) => isWord(token, 'ON'))
  if (onIndex < 0) return facts.build()

  let index = onIndex + 1
  if (isSymbol(tokens[index + 1], '::')) {
    if (!isWord(tokens[index], 'OBJECT')) unsupported(`${head} on a securable other than an object`)
    index += 2
  }
  const [parts, after] = readName(tokens, index)
  if (parts.length > 2 || parts.some((part) => part === '')) {
    unsupported(`${head} on a name of unknown shape`)
  }
  if (isSymbol(tokens[after], '(')) unsupported(`${head} on columns`)

  const name = parts[parts.length - 1] as string
  facts.addTable(parts.length === 2 ? (parts[0] as string) : null, name, kind)
  return facts.build()
}

/** `DECLARE @name type [, ...]` without initial values, cursors or table variables. */
function analyzeDeclare(tokens: readonly TsqlToken[]): StatementFacts {
  for (const token of tokens.slice(1)) {
    const allowed =
      token.kind === 'variable' ||
      token.kind === 'number' ||
      (token.kind === 'word' && !['CURSOR', 'TABLE', 'SELECT'].includes(token.value)) ||
      isSymbol(token, ',') ||
      isSymbol(token, '(') ||
      isSymbol(token, ')')
    if (!allowed) unsupported('DECLARE with an initial value, a cursor or a table')
  }
  return new FactBuilder('declare').build()
}
