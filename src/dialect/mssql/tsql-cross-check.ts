/**
 * Checks that compare the lexer's tokens with what node-sql-parser reports, and floor rules
 * that are found from words anywhere outside literals and comments. A disagreement means the
 * parser read the statement differently from SQL Server, so the statement is denied.
 */

import { SqlParseFailed } from '../../errors.js'
import type { FactBuilder } from '../../extract/fact-builder.js'
import { MSSQL_FRONT_END_NAME, fold, isNode, type AstNode } from './mssql-ast.js'
import { TSQL_RESERVED_WORDS } from './tsql-keywords.js'
import { isSymbol, isWord, type TsqlToken } from './tsql-lexer.js'

/** Words after which SQL Server expects a table name. */
const TABLE_CONTEXT_WORDS = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE', 'DELETE', 'TABLE'])

/** Functions that read files, or list or test paths, on the database server. */
const SERVER_FILE_FUNCTIONS = new Set([
  'FN_GET_AUDIT_FILE',
  'FN_GET_AUDIT_FILE_V2',
  'FN_XE_FILE_TARGET_READ_FILE',
  'FN_XE_TELEMETRY_BLOB_TARGET_READ_FILE',
  'FN_MSXE_READ_EVENT_STREAM',
  'FN_TRACE_GETTABLE',
  'FN_DUMP_DBLOG',
  'DM_OS_FILE_EXISTS',
  'DM_OS_ENUMERATE_FILESYSTEM',
])

/**
 * Returns the upper-case name a token calls or names: an unquoted word, or a quoted identifier
 * followed by `(`, because SQL Server resolves `[fn_trace_gettable](...)` like the bare name.
 */
function floorWord(tokens: readonly TsqlToken[], index: number): string | null {
  const token = tokens[index]
  if (token?.kind === 'word') return token.value
  if (token?.kind === 'quoted-identifier' && isSymbol(tokens[index + 1], '(')) {
    return token.value.toUpperCase()
  }
  return null
}

/** Adds the floor facts that any word of the statement shows, wherever it appears. */
export function scanFloorWords(tokens: readonly TsqlToken[], facts: FactBuilder): void {
  tokens.forEach((_token, index) => {
    const word = floorWord(tokens, index)
    if (word === null) return

    switch (word) {
      case 'OPENROWSET':
        facts.addFloor('remote-access', 'OPENROWSET')
        if (isSymbol(tokens[index + 1], '(') && isWord(tokens[index + 2], 'BULK')) {
          facts.addFloor('server-files', 'OPENROWSET(BULK)')
        }
        return
      case 'OPENQUERY':
      case 'OPENDATASOURCE':
        facts.addFloor('remote-access', word)
        return
      case 'REVERT':
      case 'SETUSER':
        facts.addFloor('identity-change', word)
        return
      case 'WAITFOR':
      case 'SHUTDOWN':
        facts.addFloor('denial-of-service', word)
        return
      default:
        if (SERVER_FILE_FUNCTIONS.has(word) && isSymbol(tokens[index + 1], '(')) {
          facts.addFloor('server-files', `function ${word.toLowerCase()}`)
        }
    }
  })
}

function disagree(what: string): never {
  throw new SqlParseFailed(
    MSSQL_FRONT_END_NAME,
    `the parser and the T-SQL lexer disagree on ${what}`,
  )
}

/** Reads a dotted name at `start`; returns its last part, if any, and the index after it. */
function readName(tokens: readonly TsqlToken[], start: number): [TsqlToken | undefined, number] {
  let at = start
  let last: TsqlToken | undefined
  for (;;) {
    const part = tokens[at]
    if (part === undefined) break
    if (part.kind === 'word' || part.kind === 'quoted-identifier' || part.kind === 'temp-name') {
      last = part
      at += 1
    }
    if (!isSymbol(tokens[at], '.')) break
    at += 1
  }
  return [last, at]
}

/** Index just past the parenthesized group that opens at `open`, or the end of the tokens. */
function skipGroup(tokens: readonly TsqlToken[], open: number): number {
  let depth = 0
  for (let at = open; at < tokens.length; at += 1) {
    if (isSymbol(tokens[at], '(')) depth += 1
    else if (isSymbol(tokens[at], ')')) {
      depth -= 1
      if (depth === 0) return at + 1
    }
  }
  return tokens.length
}

/** Words that end a FROM clause at its own nesting level. */
const FROM_END_WORDS = new Set([
  'WHERE', 'GROUP', 'HAVING', 'ORDER', 'UNION', 'EXCEPT', 'INTERSECT', 'OPTION', 'FOR', 'WINDOW',
])

function isTableName(last: TsqlToken): boolean {
  return last.kind !== 'word' || !TSQL_RESERVED_WORDS.has(last.value)
}

function addName(names: Set<string>, last: TsqlToken): void {
  names.add(fold(last.kind === 'quoted-identifier' ? last.value : last.text))
}

/**
 * Adds the table names of a FROM clause that starts at `start`. Every comma at the clause's own
 * level starts a new item, also after a JOIN's ON condition, which has no top-level comma.
 */
function collectFromList(tokens: readonly TsqlToken[], start: number, names: Set<string>): void {
  let expectItem = true
  let depth = 0
  let at = start

  while (at < tokens.length) {
    const token = tokens[at] as TsqlToken
    if (depth === 0 && expectItem) {
      expectItem = false
      if (isSymbol(token, '(')) {
        at = skipGroup(tokens, at)
        continue
      }
      const [last, after] = readName(tokens, at)
      if (last !== undefined) {
        // A name followed by a parenthesis is a table-valued function call.
        if (!isSymbol(tokens[after], '(') && isTableName(last)) addName(names, last)
        at = after
        continue
      }
    }

    if (isSymbol(token, '(')) depth += 1
    else if (isSymbol(token, ')')) {
      if (depth === 0) return
      depth -= 1
    } else if (depth === 0 && token.kind === 'word' && FROM_END_WORDS.has(token.value)) return
    else if (depth === 0 && isSymbol(token, ',')) expectItem = true
    at += 1
  }
}

/**
 * Last parts (folded) of the table names that follow FROM, JOIN, INTO, UPDATE, DELETE and
 * TABLE, including every item of a comma-separated FROM list.
 */
export function tableNamesFromTokens(tokens: readonly TsqlToken[]): Set<string> {
  const names = new Set<string>()

  tokens.forEach((token, index) => {
    if (token.kind !== 'word' || !TABLE_CONTEXT_WORDS.has(token.value)) return
    if (isSymbol(tokens[index - 1], '.')) return

    if (token.value === 'FROM') {
      collectFromList(tokens, index + 1, names)
      return
    }

    const [last, end] = readName(tokens, index + 1)
    if (last === undefined || !isTableName(last)) return
    // After JOIN a name followed by a parenthesis is a table-valued function call.
    if (token.value === 'JOIN' && isSymbol(tokens[end], '(')) return
    addName(names, last)
  })

  return names
}

/** Collects every `table` string and CTE name anywhere in a parser tree, folded. */
function tableNamesFromAst(value: unknown, names: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) tableNamesFromAst(item, names)
    return
  }
  if (!isNode(value)) return

  if (typeof value['table'] === 'string') names.add(fold(value['table']))
  if (isNode(value['name']) && typeof value['name']['value'] === 'string') {
    names.add(fold(value['name']['value']))
  }
  const into = value['into']
  if (isNode(into) && typeof into['expr'] === 'string') names.add(fold(into['expr']))

  for (const child of Object.values(value)) tableNamesFromAst(child, names)
}

/** Collects the aliases of a parser tree: every string `as` field, folded. */
function aliasesFromAst(value: unknown, aliases: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) aliasesFromAst(item, aliases)
    return
  }
  if (!isNode(value)) return

  if (typeof value['as'] === 'string') aliases.add(fold(value['as']))
  for (const child of Object.values(value)) aliasesFromAst(child, aliases)
}

/**
 * Denies a statement when a table name in the tokens is missing from the parser's tree or from
 * the names the extractor read (`visitedNames`). Also denies an unquoted reserved word that the
 * parser used as an alias, because SQL Server would have ended the statement or failed there.
 */
export function crossCheck(
  tokens: readonly TsqlToken[],
  ast: AstNode,
  visitedNames: ReadonlySet<string>,
): void {
  const astNames = new Set<string>()
  tableNamesFromAst(ast, astNames)
  for (const name of tableNamesFromTokens(tokens)) {
    if (!astNames.has(name)) disagree('the tables of the statement')
    if (!visitedNames.has(name)) disagree('the tables of the statement')
  }

  const reserved = new Set(
    tokens
      .filter((token) => token.kind === 'word' && TSQL_RESERVED_WORDS.has(token.value))
      .map((token) => token.value.toLowerCase()),
  )
  const aliases = new Set<string>()
  aliasesFromAst(ast, aliases)
  for (const alias of aliases) {
    if (reserved.has(alias)) disagree('a reserved word used as an alias')
  }
}
