/**
 * Prepares one lexed statement for node-sql-parser. The parser never reads the original text. It
 * gets the tokens re-rendered with single spaces, no comments, and every string literal replaced
 * by a neutral `'s'`, so its own quoting rules cannot change where a literal ends. Clauses the
 * parser does not read (`TOP` on INSERT, UPDATE and DELETE, `OUTPUT`, `OPTION`) are cut out here
 * and described separately.
 */

import { SqlParseFailed } from '../../errors.js'
import { unsupported } from './mssql-ast.js'
import { TSQL_STATEMENT_WORDS } from './tsql-keywords.js'
import { TSQL_LEXER_NAME, isSymbol, isWord, type TsqlToken } from './tsql-lexer.js'
import { rewriteForParser, type RewriteResult } from './tsql-parser-rewrites.js'

/** One `OUTPUT` item: `INSERTED.col`, `DELETED.*` and so on. */
export interface OutputColumn {
  readonly pseudoTable: 'inserted' | 'deleted'
  /** Folded column name, or `*`. */
  readonly column: string
}

export interface NormalizedStatement {
  /** The text given to the parser. */
  readonly text: string
  /** The tokens that text was rendered from, after the cut clauses were removed. */
  readonly tokens: readonly TsqlToken[]
  readonly output: readonly OutputColumn[]
  /** Changes made by the parser-specific rewrites, to be undone on the facts. */
  readonly rewrites: RewriteResult
  /** The created table of `SELECT ... INTO`, cut from the text. */
  readonly into: SelectIntoTarget | null
}

const SAFE_QUOTED_IDENTIFIER = /^[\p{L}\p{N}_ $#@-]+$/u
const OUTPUT_END_WORDS = new Set([
  'VALUES',
  'SELECT',
  'DEFAULT',
  'FROM',
  'WHERE',
  'EXEC',
  'EXECUTE',
  'OPTION',
])

/** Renders tokens as parser input. */
export function renderTokens(tokens: readonly TsqlToken[]): string {
  let text = ''
  let previous: TsqlToken | undefined

  for (const token of tokens) {
    let piece: string
    if (token.kind === 'string') {
      piece = "'s'"
    } else if (token.kind === 'quoted-identifier') {
      // Only names the parser's bracket rule reads the same way as SQL Server are passed on.
      if (!SAFE_QUOTED_IDENTIFIER.test(token.value)) {
        unsupported('quoted identifier with characters other than letters, digits and _ $ # @ -')
      }
      piece = `[${token.value}]`
    } else {
      piece = token.text
    }

    const glue = previous === undefined || isSymbol(previous, '.') || isSymbol(token, '.')
    text += glue ? piece : ` ${piece}`
    previous = token
  }

  return text
}

/** Removes `TOP (n) [PERCENT]` after the verb of INSERT, UPDATE, DELETE and MERGE. */
export function cutDmlTop(tokens: TsqlToken[]): void {
  const verbIndex = tokens.findIndex((token) =>
    isWord(token, 'INSERT', 'UPDATE', 'DELETE', 'MERGE'),
  )
  if (verbIndex < 0 || !isWord(tokens[verbIndex + 1], 'TOP')) return
  if (!isSymbol(tokens[verbIndex + 2], '(')) unsupported('TOP without parentheses')

  const value = tokens[verbIndex + 3]
  if (value === undefined || (value.kind !== 'number' && value.kind !== 'variable')) {
    unsupported('TOP with an expression')
  }
  if (!isSymbol(tokens[verbIndex + 4], ')')) unsupported('TOP with an expression')

  const length = isWord(tokens[verbIndex + 5], 'PERCENT') ? 5 : 4
  tokens.splice(verbIndex + 1, length)
}

/** Removes the `OUTPUT` clause at statement level and returns its columns. */
export function cutOutput(tokens: TsqlToken[]): OutputColumn[] {
  let depth = 0
  let start = -1
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index] as TsqlToken
    if (isSymbol(token, '(')) depth += 1
    else if (isSymbol(token, ')')) depth -= 1
    else if (depth === 0 && isWord(token, 'OUTPUT')) {
      start = index
      break
    }
  }
  if (start < 0) return []

  let end = start + 1
  while (end < tokens.length) {
    const token = tokens[end] as TsqlToken
    if (token.kind === 'word' && OUTPUT_END_WORDS.has(token.value)) break
    if (isWord(token, 'INTO')) unsupported('OUTPUT INTO')
    end += 1
  }

  const columns = parseOutputItems(tokens.slice(start + 1, end))
  tokens.splice(start, end - start)
  return columns
}

function parseOutputItems(items: readonly TsqlToken[]): OutputColumn[] {
  const columns: OutputColumn[] = []
  let index = 0

  let constants = 0
  while (index < items.length) {
    // `OUTPUT 1`, which EF Core sends to count the rows it changed, returns no column.
    const last = index + 1 === items.length
    // `OUTPUT $action` returns which MERGE action changed the row, and no column either.
    const constant = items[index]?.kind === 'number' || isWord(items[index], '$ACTION')
    if (constant && (last || isSymbol(items[index + 1], ','))) {
      constants += 1
      index += last ? 1 : 2
      continue
    }

    const pseudo = items[index]
    const column = items[index + 2]
    if (!isWord(pseudo, 'INSERTED', 'DELETED') || !isSymbol(items[index + 1], '.')) {
      unsupported('OUTPUT item other than INSERTED.column or DELETED.column')
    }
    if (column === undefined) unsupported('OUTPUT item without a column')

    let name: string
    if (isSymbol(column, '*')) name = '*'
    else if (column.kind === 'word') name = column.text.toLowerCase()
    else if (column.kind === 'quoted-identifier') name = column.value.toLowerCase()
    else unsupported('OUTPUT item other than INSERTED.column or DELETED.column')

    columns.push({ pseudoTable: isWord(pseudo, 'INSERTED') ? 'inserted' : 'deleted', column: name })
    index += 3

    if (isWord(items[index], 'AS')) index += 1
    const alias = items[index]
    if (alias !== undefined && (alias.kind === 'word' || alias.kind === 'quoted-identifier')) {
      if (!isSymbol(items[index + 1], '.')) index += 1
    }
    if (index < items.length) {
      if (!isSymbol(items[index], ',')) unsupported('OUTPUT item with an expression')
      index += 1
    }
  }

  if (columns.length === 0 && constants === 0) unsupported('empty OUTPUT clause')
  return columns
}

/** Removes a trailing `OPTION (...)` query hint list, which changes plans, not access. */
export function cutOption(tokens: TsqlToken[]): void {
  const index = tokens.findIndex(
    (token, at) => isWord(token, 'OPTION') && isSymbol(tokens[at + 1], '('),
  )
  if (index < 0) return

  let depth = 0
  for (let at = index + 1; at < tokens.length; at += 1) {
    if (isSymbol(tokens[at], '(')) depth += 1
    else if (isSymbol(tokens[at], ')')) {
      depth -= 1
      if (depth === 0) {
        if (at !== tokens.length - 1) unsupported('OPTION clause before the end of the statement')
        // `USE HINT` and `USE PLAN` are query hints; any other statement keyword is not.
        const hints = tokens.slice(index + 1, at)
        const keyword = hints.find(
          (token) =>
            token.kind === 'word' && token.value !== 'USE' && TSQL_STATEMENT_WORDS.has(token.value),
        )
        if (keyword !== undefined) unsupported('OPTION clause with a statement keyword')
        tokens.splice(index)
        return
      }
    }
  }
  throw new SqlParseFailed(TSQL_LEXER_NAME, 'unterminated OPTION clause')
}

/** The target of `SELECT ... INTO`, as folded name parts. */
export interface SelectIntoTarget {
  readonly schema: string | null
  readonly name: string
}

/**
 * Removes `INTO target` from a SELECT at statement level. The parser rejects a qualified target,
 * and the target is a created table, never a read one.
 */
export function cutSelectInto(tokens: TsqlToken[]): SelectIntoTarget | null {
  let depth = 0
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index] as TsqlToken
    if (isSymbol(token, '(')) depth += 1
    else if (isSymbol(token, ')')) depth -= 1
    else if (depth === 0 && isWord(token, 'INSERT', 'UPDATE', 'DELETE', 'MERGE')) return null
    else if (depth === 0 && isWord(token, 'INTO')) return cutIntoAt(tokens, index)
  }
  return null
}

function cutIntoAt(tokens: TsqlToken[], index: number): SelectIntoTarget {
  const parts: string[] = []
  let end = index + 1
  for (;;) {
    const part = tokens[end]
    if (part === undefined) unsupported('SELECT INTO without a target')
    if (part.kind === 'word' || part.kind === 'temp-name') parts.push(part.text.toLowerCase())
    else if (part.kind === 'quoted-identifier') parts.push(part.value.toLowerCase())
    else unsupported('SELECT INTO target of unknown shape')
    end += 1
    if (!isSymbol(tokens[end], '.')) break
    end += 1
  }
  if (parts.length > 2) unsupported('SELECT INTO a table in another database')

  tokens.splice(index, end - index)
  const name = parts[parts.length - 1] as string
  return { schema: parts.length === 2 ? (parts[0] as string) : null, name }
}

/** Cuts the clauses the parser cannot read and renders the rest. */
export function normalizeStatement(statement: readonly TsqlToken[]): NormalizedStatement {
  const tokens = [...statement]
  cutDmlTop(tokens)
  const modifies = tokens.some((token) => isWord(token, 'INSERT', 'UPDATE', 'DELETE', 'MERGE'))
  const output = modifies ? cutOutput(tokens) : []
  cutOption(tokens)
  const into = modifies ? null : cutSelectInto(tokens)
  const rewrites = rewriteForParser(tokens)

  return { text: renderTokens(tokens), tokens, output, rewrites, into }
}
