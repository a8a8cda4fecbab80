/**
 * MERGE, which node-sql-parser's `transactsql` grammar does not parse. The statement is cut into
 * its parts at statement level, and each part is analyzed as a statement the parser does read:
 * the join of target and source as a SELECT, each `WHEN ... THEN UPDATE` as an `UPDATE ... FROM`,
 * each `THEN INSERT` as an `INSERT ... SELECT` from the source, each `THEN DELETE` as a DELETE.
 */

import { SqlParseFailed } from '../../errors.js'
import { FactBuilder } from '../../extract/fact-builder.js'
import type { StatementFacts } from '../../extract/statement-facts.js'
import { MSSQL_FRONT_END_NAME, unsupported } from './mssql-ast.js'
import { analyzeParsed } from './mssql-front-end.js'
import { isSymbol, isWord, type TsqlToken } from './tsql-lexer.js'
import { cutOption, cutOutput } from './tsql-normalizer.js'

function word(text: string): TsqlToken {
  return { kind: 'word', text, value: text, start: 0 }
}

function symbol(text: string): TsqlToken {
  return { kind: 'punctuation', text, value: text, start: 0 }
}

function fail(message: string): never {
  throw new SqlParseFailed(MSSQL_FRONT_END_NAME, `MERGE: ${message}`)
}

/** Index just past the parenthesized group that opens at `start`. */
function skipGroup(tokens: readonly TsqlToken[], start: number): number {
  let depth = 0
  for (let index = start; index < tokens.length; index += 1) {
    if (isSymbol(tokens[index], '(')) depth += 1
    else if (isSymbol(tokens[index], ')')) {
      depth -= 1
      if (depth === 0) return index + 1
    }
  }
  return fail('unbalanced parenthesis')
}

/** Index just past the END that closes the CASE at `start`. */
function skipCase(tokens: readonly TsqlToken[], start: number): number {
  let depth = 0
  for (let index = start; index < tokens.length; index += 1) {
    if (isWord(tokens[index], 'CASE')) depth += 1
    else if (isWord(tokens[index], 'END')) {
      depth -= 1
      if (depth === 0) return index + 1
    }
  }
  return fail('CASE without END')
}

/** Index of the next word in `words` at statement level, or the end. */
function nextAtLevel(tokens: readonly TsqlToken[], start: number, ...words: string[]): number {
  let index = start
  while (index < tokens.length) {
    if (isSymbol(tokens[index], '(')) {
      index = skipGroup(tokens, index)
      continue
    }
    if (isWord(tokens[index], 'CASE')) {
      index = skipCase(tokens, index)
      continue
    }
    if (isWord(tokens[index], ...words)) return index
    index += 1
  }
  return tokens.length
}

/** Reads `name [WITH (hints)] [[AS] alias]` into its parts. */
function readTableReference(
  tokens: readonly TsqlToken[],
  start: number,
  stopWord: string,
): { name: TsqlToken[]; hints: TsqlToken[]; alias: TsqlToken | null; end: number } {
  let index = start
  if (isSymbol(tokens[index], '(')) {
    if (isWord(tokens[index + 1], 'VALUES')) unsupported('MERGE USING a VALUES list')
    index = skipGroup(tokens, index)
  } else {
    for (;;) {
      const part = tokens[index]
      if (part === undefined || (part.kind !== 'word' && part.kind !== 'quoted-identifier')) break
      index += 1
      if (!isSymbol(tokens[index], '.')) break
      index += 1
    }
  }
  const name = tokens.slice(start, index)
  if (name.length === 0) fail('missing table')

  const hintsStart = index
  if (isWord(tokens[index], 'WITH') && isSymbol(tokens[index + 1], '(')) {
    index = skipGroup(tokens, index + 1)
  }
  const hints = tokens.slice(hintsStart, index)

  if (isWord(tokens[index], 'AS')) index += 1
  let alias: TsqlToken | null = null
  const candidate = tokens[index]
  if (
    candidate !== undefined &&
    !isWord(candidate, stopWord) &&
    (candidate.kind === 'word' || candidate.kind === 'quoted-identifier')
  ) {
    alias = candidate
    index += 1
  }
  if (isSymbol(tokens[index], '(')) unsupported('MERGE source with a column list')

  return { name, hints, alias, end: index }
}

/** Writes a FROM item in T-SQL order: name, alias, then table hints. */
function fromItem(reference: {
  readonly name: readonly TsqlToken[]
  readonly hints: readonly TsqlToken[]
  readonly alias: TsqlToken | null
}): TsqlToken[] {
  const alias = reference.alias === null ? [] : [word('AS'), reference.alias]
  return [...reference.name, ...alias, ...reference.hints]
}

/** Analyzes a MERGE statement. */
export function analyzeMerge(statement: readonly TsqlToken[]): StatementFacts {
  const tokens = [...statement]
  cutOption(tokens)
  const output = cutOutput(tokens)

  let index = 1
  if (isWord(tokens[index], 'TOP')) unsupported('MERGE TOP')
  if (isWord(tokens[index], 'INTO')) index += 1

  const target = readTableReference(tokens, index, 'USING')
  if (!isWord(tokens[target.end], 'USING')) fail('missing USING')
  const source = readTableReference(tokens, target.end + 1, 'ON')
  if (!isWord(tokens[source.end], 'ON')) fail('missing ON')

  const targetRef = fromItem(target)
  const sourceRef = fromItem(source)
  const targetKey = target.alias === null ? target.name.slice(-1) : [target.alias]
  const join = [word('FROM'), ...targetRef, symbol(','), ...sourceRef]

  const firstWhen = nextAtLevel(tokens, source.end + 1, 'WHEN')
  const condition = tokens.slice(source.end + 1, firstWhen)
  if (condition.length === 0 || firstWhen >= tokens.length) fail('missing ON condition or WHEN')

  const parts: StatementFacts[] = [
    analyzeParsed([word('SELECT'), word('1'), ...join, word('WHERE'), ...condition]),
  ]

  let at = firstWhen
  while (at < tokens.length) {
    const then = nextAtLevel(tokens, at + 1, 'THEN')
    const clauseHead = tokens.slice(at + 1, then)
    const andIndex = clauseHead.findIndex((token) => isWord(token, 'AND'))
    const matchWords = andIndex < 0 ? clauseHead : clauseHead.slice(0, andIndex)
    if (!matchWords.every((token) => isWord(token, 'NOT', 'MATCHED', 'BY', 'TARGET', 'SOURCE'))) {
      fail('WHEN clause other than [NOT] MATCHED [BY TARGET | BY SOURCE] [AND condition]')
    }
    if (andIndex >= 0) {
      const clauseCondition = clauseHead.slice(andIndex + 1)
      const select = [word('SELECT'), word('1'), ...join, word('WHERE'), ...clauseCondition]
      parts.push(analyzeParsed(select))
    }

    const end = nextAtLevel(tokens, then + 1, 'WHEN')
    const action = tokens.slice(then + 1, end)
    parts.push(mergeAction(action, { target, targetRef, targetKey, sourceRef }))
    at = end
  }

  const facts = new FactBuilder('merge')
  for (const part of parts) {
    for (const table of part.tables) facts.addTable(table.schema, table.name, table.action)
    for (const column of part.columns) {
      facts.addColumn(column.schema, column.table, column.column, column.action)
    }
    for (const fn of part.functions) facts.addFunction(fn.schema, fn.name, fn.action)
    for (const floor of part.floor) facts.addFloor(floor.rule, floor.construct)
  }
  addMergeOutput(facts, parts, output.length > 0 ? output.map((item) => item.column) : [])
  return facts.build()
}

function addMergeOutput(
  facts: FactBuilder,
  parts: readonly StatementFacts[],
  columns: readonly string[],
): void {
  if (columns.length === 0) return
  const written = parts.flatMap((part) => part.tables).find((table) => table.action !== 'select')
  if (written === undefined) unsupported('OUTPUT without a target table')
  facts.addTable(written.schema, written.name, 'select')
  for (const column of columns) facts.addColumn(written.schema, written.name, column, 'select')
}

interface MergeContext {
  readonly target: { readonly name: TsqlToken[] }
  readonly targetRef: TsqlToken[]
  readonly targetKey: TsqlToken[]
  readonly sourceRef: TsqlToken[]
}

function mergeAction(action: readonly TsqlToken[], context: MergeContext): StatementFacts {
  const [verb, ...rest] = action
  if (isWord(verb, 'DELETE') && rest.length === 0) {
    return analyzeParsed([word('DELETE'), word('FROM'), ...context.target.name])
  }
  if (isWord(verb, 'UPDATE') && isWord(rest[0], 'SET')) {
    return analyzeParsed([
      word('UPDATE'),
      ...context.targetKey,
      ...rest,
      word('FROM'),
      ...context.targetRef,
      symbol(','),
      ...context.sourceRef,
    ])
  }
  if (isWord(verb, 'INSERT')) {
    const valuesIndex = rest.findIndex((token) => isWord(token, 'VALUES'))
    if (isWord(rest[0], 'DEFAULT')) unsupported('MERGE INSERT DEFAULT VALUES')
    if (valuesIndex < 0 || !isSymbol(rest[valuesIndex + 1], '(')) fail('INSERT without VALUES')
    const columns = rest.slice(0, valuesIndex)
    const valuesEnd = skipGroup(rest, valuesIndex + 1)
    if (valuesEnd !== rest.length) fail('INSERT with more than one row')
    const values = rest.slice(valuesIndex + 2, valuesEnd - 1)

    return analyzeParsed([
      word('INSERT'),
      word('INTO'),
      ...context.target.name,
      ...columns,
      word('SELECT'),
      ...values,
      word('FROM'),
      ...context.sourceRef,
    ])
  }
  return unsupported('MERGE action other than UPDATE SET, DELETE or INSERT VALUES')
}
