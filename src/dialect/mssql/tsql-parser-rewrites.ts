/**
 * Token rewrites for valid T-SQL that node-sql-parser 5.4 rejects. Each rewrite keeps every
 * table, column and function reference of the original, so the facts stay complete. Where a
 * rewrite changes a function name, the change is recorded and undone on the facts.
 */

import type { FunctionFact } from '../../extract/statement-facts.js'
import { TSQL_STATEMENT_WORDS } from './tsql-keywords.js'
import { isSymbol, isWord, type TsqlToken } from './tsql-lexer.js'

export interface RewriteResult {
  /** Function names the parser will report in place of the real ones: parser name to real name. */
  readonly renamedFunctions: ReadonlyMap<string, string>
  /** Functions that a rewrite removed from the text and that must be added to the facts. */
  readonly removedFunctions: readonly FunctionFact[]
}

/** Words that end the pattern operand of LIKE. */
const LIKE_OPERAND_END = new Set([
  'AND', 'OR', 'ORDER', 'GROUP', 'HAVING', 'ESCAPE', 'THEN', 'WHEN', 'ELSE', 'END', 'UNION',
  'EXCEPT', 'INTERSECT', 'FROM', 'WHERE', 'OPTION', 'FOR', 'COLLATE',
])

function isStatementKeyword(token: TsqlToken): boolean {
  return token.kind === 'word' && TSQL_STATEMENT_WORDS.has(token.value)
}

function number(at: TsqlToken): TsqlToken {
  return { kind: 'number', text: '1', value: '1', start: at.start }
}

function symbol(text: string, at: TsqlToken): TsqlToken {
  return { kind: 'punctuation', text, value: text, start: at.start }
}

/** Index of the `)` that closes the `(` at `open`. */
function closing(tokens: readonly TsqlToken[], open: number): number {
  let depth = 0
  for (let index = open; index < tokens.length; index += 1) {
    if (isSymbol(tokens[index], '(')) depth += 1
    else if (isSymbol(tokens[index], ')')) {
      depth -= 1
      if (depth === 0) return index
    }
  }
  return -1
}

/** Index of the `(` that opens the `)` at `close`. */
function opening(tokens: readonly TsqlToken[], close: number): number {
  let depth = 0
  for (let index = close; index >= 0; index -= 1) {
    if (isSymbol(tokens[index], ')')) depth += 1
    else if (isSymbol(tokens[index], '(')) {
      depth -= 1
      if (depth === 0) return index
    }
  }
  return -1
}

/** `OFFSET @n ROWS FETCH NEXT @m ROWS ONLY`: the parser takes only numbers there. */
function rewritePagingVariables(tokens: TsqlToken[]): void {
  tokens.forEach((token, index) => {
    const afterFetch =
      isWord(tokens[index - 2], 'FETCH') && isWord(tokens[index - 1], 'NEXT', 'FIRST')
    if (token.kind === 'variable' && (isWord(tokens[index - 1], 'OFFSET') || afterFetch)) {
      tokens[index] = number(token)
    }
  })
}

/** `TOP n WITH TIES`: ties change how many rows return, not which tables are read. */
function removeWithTies(tokens: TsqlToken[]): void {
  for (let index = tokens.length - 2; index >= 0; index -= 1) {
    if (isWord(tokens[index], 'WITH') && isWord(tokens[index + 1], 'TIES')) tokens.splice(index, 2)
  }
}

/** `LIKE a + b`: the parser needs the concatenated pattern in parentheses. */
function parenthesizeLikePatterns(tokens: TsqlToken[]): void {
  for (let index = tokens.length - 1; index >= 0; index -= 1) {
    const like = tokens[index] as TsqlToken
    if (!isWord(like, 'LIKE')) continue

    let end = index + 1
    let depth = 0
    while (end < tokens.length) {
      const token = tokens[end] as TsqlToken
      if (isSymbol(token, '(')) depth += 1
      else if (isSymbol(token, ')')) {
        if (depth === 0) break
        depth -= 1
      } else if (depth === 0 && (isSymbol(token, ',') || isSymbol(token, ';'))) break
      else if (depth === 0 && token.kind === 'word' && LIKE_OPERAND_END.has(token.value)) break
      end += 1
    }
    if (end === index + 1) continue
    tokens.splice(end, 0, symbol(')', like))
    tokens.splice(index + 1, 0, symbol('(', like))
  }
}

/** `NEXT VALUE FOR seq` advances a sequence: a write, reported as a modifying function. */
function replaceNextValueFor(tokens: TsqlToken[], removed: FunctionFact[]): void {
  for (let index = tokens.length - 3; index >= 0; index -= 1) {
    const first = tokens[index] as TsqlToken
    if (!isWord(first, 'NEXT') || !isWord(tokens[index + 1], 'VALUE')) continue
    if (!isWord(tokens[index + 2], 'FOR')) continue

    let end = index + 3
    while (
      tokens[end]?.kind === 'word' ||
      tokens[end]?.kind === 'quoted-identifier' ||
      isSymbol(tokens[end], '.')
    ) {
      end += 1
    }
    tokens.splice(index, end - index, number(first))
    removed.push({ schema: null, name: 'next value for', action: 'modify' })
  }
}

/**
 * `f(x) WITHIN GROUP (ORDER BY y DESC)` becomes `f(x, y)`: the ordering columns are still read,
 * and the parser reads them as arguments.
 */
function foldWithinGroup(tokens: TsqlToken[]): void {
  for (let index = tokens.length - 1; index >= 0; index -= 1) {
    if (!isWord(tokens[index], 'WITHIN') || !isWord(tokens[index + 1], 'GROUP')) continue
    if (!isSymbol(tokens[index + 2], '(') || !isWord(tokens[index + 3], 'ORDER')) continue
    if (!isWord(tokens[index + 4], 'BY') || !isSymbol(tokens[index - 1], ')')) continue

    const close = closing(tokens, index + 2)
    if (close < 0 || opening(tokens, index - 1) < 0) continue

    let depth = 0
    const items = tokens.slice(index + 5, close).filter((token) => {
      if (isSymbol(token, '(')) depth += 1
      else if (isSymbol(token, ')')) depth -= 1
      return depth > 0 || !isWord(token, 'ASC', 'DESC')
    })
    const comma = symbol(',', tokens[index] as TsqlToken)
    tokens.splice(index - 1, close - index + 2, comma, ...items, tokens[index - 1] as TsqlToken)
  }
}

/** Renames `COUNT_BIG` (`COUNT` returning bigint) because the parser reads only `COUNT(*)`. */
function renameCountBig(
  tokens: TsqlToken[],
  renamed: Map<string, string>,
  removed: FunctionFact[],
): void {
  const hasCount = tokens.some((token) => isWord(token, 'COUNT'))
  tokens.forEach((token, index) => {
    if (!isWord(token, 'COUNT_BIG') || !isSymbol(tokens[index + 1], '(')) return
    tokens[index] = { kind: 'word', text: 'COUNT', value: 'COUNT', start: token.start }
    // With a real COUNT in the statement the parser's `count` must stay, so add count_big.
    if (hasCount) removed.push({ schema: null, name: 'count_big', action: 'execute' })
    else renamed.set('count', 'count_big')
  })
}

/** `DELETE dbo.t WHERE ...` is `DELETE FROM dbo.t WHERE ...`; the parser needs the FROM. */
function addDeleteFrom(tokens: TsqlToken[]): void {
  const index = tokens.findIndex((token) => isWord(token, 'DELETE'))
  const next = tokens[index + 1]
  if (index < 0 || next === undefined || isWord(next, 'FROM')) return
  if (next.kind !== 'word' && next.kind !== 'quoted-identifier' && next.kind !== 'temp-name') return

  let end = index + 2
  while (isSymbol(tokens[end], '.') && tokens[end + 1] !== undefined) end += 2
  // `DELETE alias FROM table alias JOIN ...` names its target before FROM: keep it.
  if (isWord(tokens[end], 'FROM')) return
  tokens.splice(index + 1, 0, { kind: 'word', text: 'FROM', value: 'FROM', start: next.start })
}

/**
 * `@@ROWCOUNT AS n`: the parser reads system functions written `@@name` only in some positions.
 * They read server state and no table, so the parser is given a plain variable instead.
 */
function renameSystemVariables(tokens: TsqlToken[]): void {
  tokens.forEach((token, index) => {
    if (token.kind !== 'variable' || !token.text.startsWith('@@')) return
    const text = `@sqlgate_system_${token.text.slice(2)}`
    tokens[index] = { kind: 'variable', text, value: text.toUpperCase(), start: token.start }
  })
}

/**
 * `OPENJSON(@json) WITH (id int '$.id')`: the WITH list only names and types the output columns
 * of the JSON value, so it is removed and the call reads as a table-valued function.
 */
function removeOpenJsonSchema(tokens: TsqlToken[]): void {
  for (let index = tokens.length - 1; index >= 0; index -= 1) {
    if (!isWord(tokens[index], 'OPENJSON') || !isSymbol(tokens[index + 1], '(')) continue

    const callEnd = closing(tokens, index + 1)
    if (callEnd < 0 || !isWord(tokens[callEnd + 1], 'WITH')) continue
    if (!isSymbol(tokens[callEnd + 2], '(')) continue

    const schemaEnd = closing(tokens, callEnd + 2)
    // Column definitions hold no statement; anything else is left for the parser to reject.
    const group = tokens.slice(callEnd + 2, schemaEnd)
    if (schemaEnd > 0 && !group.some(isStatementKeyword)) {
      tokens.splice(callEnd + 1, schemaEnd - callEnd)
    }
  }
}

/** `a = b COLLATE Latin1_General_CS_AS`: a collation changes comparisons, not access. */
function removeCollate(tokens: TsqlToken[]): void {
  for (let index = tokens.length - 2; index >= 0; index -= 1) {
    if (isWord(tokens[index], 'COLLATE') && tokens[index + 1]?.kind === 'word') {
      tokens.splice(index, 2)
    }
  }
}

/** Words that end a FROM clause at its own nesting level. */
const FROM_END = new Set([
  'WHERE', 'GROUP', 'HAVING', 'ORDER', 'UNION', 'EXCEPT', 'INTERSECT', 'OPTION', 'FOR', 'WINDOW',
])

/**
 * `FROM a JOIN b ON c, d`: the parser reads `c, d` as the ON condition and `d` as a column, while
 * SQL Server cross joins `d`. A comma after an ON condition becomes `CROSS JOIN`, which joins
 * the same way.
 */
function crossJoinAfterOn(tokens: TsqlToken[]): void {
  // A plain loop, because the splice below inserts tokens while it runs.
  for (let index = 0; index < tokens.length; index += 1) {
    if (isWord(tokens[index], 'FROM')) crossJoinInFromClause(tokens, index)
  }
}

function crossJoinInFromClause(tokens: TsqlToken[], index: number): void {
  let depth = 0
  let afterOn = false
  for (let at = index + 1; at < tokens.length; at += 1) {
    const current = tokens[at] as TsqlToken
    if (isSymbol(current, '(')) depth += 1
    else if (isSymbol(current, ')')) {
      if (depth === 0) return
      depth -= 1
    } else if (depth > 0) continue
    else if (current.kind === 'word' && FROM_END.has(current.value)) return
    else if (isWord(current, 'ON')) afterOn = true
    else if (isSymbol(current, ',') && afterOn) {
      tokens.splice(at, 1, word('CROSS', current), word('JOIN', current))
      afterOn = false
    } else if (isSymbol(current, ',')) afterOn = false
  }
}

function word(text: string, at: TsqlToken): TsqlToken {
  return { kind: 'word', text, value: text, start: at.start }
}

/** `INSERT t DEFAULT VALUES` reads as `INSERT t VALUES (DEFAULT)`: one row of column defaults. */
function rewriteDefaultValues(tokens: TsqlToken[]): void {
  const index = tokens.findIndex(
    (token, at) => isWord(token, 'DEFAULT') && isWord(tokens[at + 1], 'VALUES'),
  )
  if (index < 0 || !tokens.some((token) => isWord(token, 'INSERT'))) return

  const at = tokens[index] as TsqlToken
  tokens.splice(index, 2, word('VALUES', at), symbol('(', at), word('DEFAULT', at), symbol(')', at))
}

/** Applies every rewrite in place. */
export function rewriteForParser(tokens: TsqlToken[]): RewriteResult {
  const renamedFunctions = new Map<string, string>()
  const removedFunctions: FunctionFact[] = []

  renameSystemVariables(tokens)
  removeOpenJsonSchema(tokens)
  removeCollate(tokens)
  crossJoinAfterOn(tokens)
  rewriteDefaultValues(tokens)
  rewritePagingVariables(tokens)
  addDeleteFrom(tokens)
  removeWithTies(tokens)
  replaceNextValueFor(tokens, removedFunctions)
  foldWithinGroup(tokens)
  parenthesizeLikePatterns(tokens)
  renameCountBig(tokens, renamedFunctions, removedFunctions)

  return { renamedFunctions, removedFunctions }
}
