/**
 * Splits lexed T-SQL into statements the way SQL Server does. Semicolons are optional in T-SQL,
 * so a statement ends at `;` or where a statement-starting word appears at statement level and
 * cannot continue the current statement (`UNION SELECT`, `INSERT ... SELECT`, `UPDATE ... SET`,
 * `MERGE ... THEN UPDATE`, a CTE's main statement, `CASE ... ELSE ... END`).
 */

import { SqlParseFailed } from '../../errors.js'
import { TSQL_STATEMENT_WORDS } from './tsql-keywords.js'
import { TSQL_LEXER_NAME, isSymbol, isWord, type TsqlToken } from './tsql-lexer.js'

/** One statement as SQL Server would run it, or an `IF` with the statements it guards. */
export type TsqlStatement =
  | { readonly kind: 'simple'; readonly tokens: readonly TsqlToken[] }
  | {
      readonly kind: 'if'
      /** The `IF` keyword. */
      readonly keyword: TsqlToken
      readonly condition: readonly TsqlToken[]
      readonly then: TsqlStatement
      readonly else: TsqlStatement | null
    }

const DML_WORDS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE'])
const PERMISSION_HEADS = new Set(['GRANT', 'REVOKE', 'DENY'])
/** Statement words that are also permission names in a GRANT, REVOKE or DENY list. */
const PERMISSION_WORDS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'EXEC',
  'EXECUTE',
  'ALTER',
  'CREATE',
  'BACKUP',
  'CHECKPOINT',
  'KILL',
  'SHUTDOWN',
])
const DDL_HEADS = new Set(['CREATE', 'ALTER'])

/** Parsing state of the statement being read. */
interface StatementState {
  readonly head: string
  /** Main verb; empty while a CTE list has not reached its statement. */
  verb: string
  /** Whether an `INSERT` has reached its `SELECT`, `VALUES`, `EXEC` or `DEFAULT VALUES`. */
  insertBody: boolean
  /** Whether an `UPDATE` has reached its `SET`. */
  updateSet: boolean
  /** Whether `GRANT`, `REVOKE` or `DENY` is still in its permission list (before `ON`/`TO`). */
  permissions: boolean
}

function isStatementWord(token: TsqlToken | undefined): boolean {
  return token !== undefined && token.kind === 'word' && TSQL_STATEMENT_WORDS.has(token.value)
}

function wordAt(tokens: readonly TsqlToken[], index: number): string {
  const token = tokens[index]
  return token?.kind === 'word' ? token.value : ''
}

/** Tells whether `WITH` at `index` opens a common table expression list. */
function isCteStart(tokens: readonly TsqlToken[], index: number): boolean {
  const name = tokens[index + 1]
  const after = tokens[index + 2]
  const isName = name !== undefined && (name.kind === 'word' || name.kind === 'quoted-identifier')

  return isName && (isWord(after, 'AS') || isSymbol(after, '('))
}

/** Tells whether the statement word at `index` continues the statement described by `state`. */
function continues(tokens: readonly TsqlToken[], index: number, state: StatementState): boolean {
  const word = wordAt(tokens, index)
  const previous = wordAt(tokens, index - 1)
  const { head, verb } = state

  if (isSymbol(tokens[index - 1], '.')) return true

  if (state.permissions && PERMISSION_WORDS.has(word)) return true

  switch (word) {
    case 'WITH':
      return !isCteStart(tokens, index)
    case 'SELECT':
      if (['UNION', 'EXCEPT', 'INTERSECT'].includes(previous)) return true
      if (previous === 'ALL' && wordAt(tokens, index - 2) === 'UNION') return true
      if (verb === '') return true
      if (verb === 'INSERT' && !state.insertBody) return true
      return DDL_HEADS.has(head) && previous === 'AS'
    case 'INSERT':
    case 'UPDATE':
    case 'DELETE':
    case 'MERGE':
      if (verb === '') return true
      if (head === 'BULK' && previous === 'BULK') return true
      if (verb === 'MERGE' && previous === 'THEN') return true
      return DDL_HEADS.has(head) && previous === 'ON' && word !== 'MERGE' && word !== 'INSERT'
    case 'SET':
      if (verb === 'UPDATE' && !state.updateSet) return true
      if (verb === 'MERGE' && previous === 'UPDATE') return true
      if (head === 'ALTER') return true
      return DDL_HEADS.has(head) && (previous === 'DELETE' || previous === 'UPDATE')
    case 'EXEC':
    case 'EXECUTE':
      if (verb === 'INSERT' && !state.insertBody) return true
      return DDL_HEADS.has(head) && previous === 'WITH'
    case 'FETCH':
      return previous === 'ROWS' || previous === 'ROW'
    case 'GRANT':
      return previous === 'WITH' || (head === 'REVOKE' && previous === 'REVOKE')
    case 'ALTER':
    case 'DROP':
      return head === 'ALTER'
    default:
      return false
  }
}

function updateState(state: StatementState, token: TsqlToken): void {
  if (token.kind !== 'word') return

  const word = token.value
  if (state.verb === '' && DML_WORDS.has(word)) state.verb = word
  else if (state.verb === 'INSERT' && ['SELECT', 'VALUES', 'EXEC', 'EXECUTE'].includes(word)) {
    state.insertBody = true
  } else if (state.verb === 'INSERT' && word === 'DEFAULT') state.insertBody = true
  else if (state.verb === 'UPDATE' && word === 'SET') state.updateSet = true

  if (state.permissions && (word === 'ON' || word === 'TO')) state.permissions = false
}

/** Returns the UTF-16 offsets of a statement: its first token and the end of its last token. */
export function statementSpan(statement: TsqlStatement): { start: number; end: number } {
  if (statement.kind === 'if') {
    const last = statementSpan(statement.else ?? statement.then)
    return { start: statement.keyword.start, end: last.end }
  }
  const first = statement.tokens[0]
  const last = statement.tokens[statement.tokens.length - 1]
  if (first === undefined || last === undefined) return { start: 0, end: 0 }
  return { start: first.start, end: last.start + last.text.length }
}

/**
 * Reads tokens into statements.
 * @throws SqlParseFailed on unbalanced parentheses, `GO`, an `IF` without a condition or a
 * statement, or an `ELSE` without an `IF`.
 */
export function splitTsqlStatements(tokens: readonly TsqlToken[]): TsqlStatement[] {
  const statements: TsqlStatement[] = []
  let index = 0

  while (index < tokens.length) {
    if (isSymbol(tokens[index], ';')) {
      index += 1
      continue
    }

    const [statement, next] = readStatement(tokens, index)
    statements.push(statement)
    index = next
  }

  return statements
}

function fail(message: string, token: TsqlToken | undefined): never {
  throw new SqlParseFailed(
    TSQL_LEXER_NAME,
    message,
    token === undefined ? {} : { position: token.start },
  )
}

function readStatement(tokens: readonly TsqlToken[], start: number): [TsqlStatement, number] {
  const first = tokens[start]

  if (isWord(first, 'GO')) fail('GO is a batch separator of client tools, not T-SQL', first)

  if (isWord(first, 'ELSE')) fail('ELSE without IF', first)

  if (isWord(first, 'IF')) return readIf(tokens, start)

  return readSimple(tokens, start)
}

function readIf(tokens: readonly TsqlToken[], start: number): [TsqlStatement, number] {
  const [conditionEnd] = scan(tokens, start + 1, null)
  const condition = tokens.slice(start + 1, conditionEnd)

  if (condition.length === 0 || conditionEnd >= tokens.length) {
    fail('IF needs a condition and a statement', tokens[start])
  }

  // A semicolon may end the guarded statement before ELSE: `next` is then already past it.
  const [then, next] = readStatement(tokens, conditionEnd)
  const keyword = tokens[start] as TsqlToken
  if (!isWord(tokens[next], 'ELSE')) {
    return [{ kind: 'if', keyword, condition, then, else: null }, next]
  }

  if (next + 1 >= tokens.length) fail('ELSE needs a statement', tokens[next])

  const [otherwise, afterElse] = readStatement(tokens, next + 1)

  return [{ kind: 'if', keyword, condition, then, else: otherwise }, afterElse]
}

function readSimple(tokens: readonly TsqlToken[], start: number): [TsqlStatement, number] {
  const head = wordAt(tokens, start)
  const state: StatementState = {
    head,
    verb: head === 'WITH' ? '' : head,
    insertBody: false,
    updateSet: false,
    permissions: PERMISSION_HEADS.has(head),
  }
  const [end, next] = scan(tokens, start + 1, state)

  return [{ kind: 'simple', tokens: tokens.slice(start, end) }, next]
}

/**
 * Scans from `from` to the end of a statement. Returns the end (exclusive) and the index where
 * the next statement starts, past a terminating semicolon. With `state` null the scan reads an
 * `IF` condition, which ends at the first statement word at statement level.
 */
function scan(
  tokens: readonly TsqlToken[],
  from: number,
  state: StatementState | null,
): [number, number] {
  let depth = 0
  let caseDepth = 0

  for (let index = from; index < tokens.length; index += 1) {
    const token = tokens[index] as TsqlToken

    if (isSymbol(token, '(')) depth += 1
    else if (isSymbol(token, ')')) {
      depth -= 1
      if (depth < 0) fail('unbalanced parenthesis', token)
    } else if (isWord(token, 'CASE')) caseDepth += 1
    else if (isWord(token, 'END') && caseDepth > 0) {
      caseDepth -= 1
      continue
    }

    if (depth > 0) continue

    if (isSymbol(token, ';')) return [index, index + 1]

    if (isWord(token, 'ELSE') && caseDepth > 0) continue

    if (isStatementWord(token) && !isSymbol(tokens[index - 1], '.')) {
      if (state === null || !continues(tokens, index, state)) return [index, index]
    }

    if (state !== null) updateState(state, token)
  }

  if (depth !== 0) fail('unbalanced parenthesis', tokens[tokens.length - 1])

  return [tokens.length, tokens.length]
}
