/**
 * The SQL Server front end: T-SQL text to dialect-neutral facts. The T-SQL lexer decides where
 * statements begin and end. node-sql-parser (`transactsql`) then parses each statement on its
 * own, from a normalized rendering of the tokens. Every disagreement between the two denies.
 */

import nodeSqlParser from 'node-sql-parser/build/transactsql.js'

import { SqlParseFailed, isSqlgateError } from '../../errors.js'
import { FactBuilder } from '../../extract/fact-builder.js'
import type {
  RequestFacts,
  StatementFacts,
  StatementKind,
} from '../../extract/statement-facts.js'
import type { SqlFrontEnd } from '../../parse/front-end.js'
import { MSSQL_FRONT_END_NAME, isNode, unsupported, type AstNode } from './mssql-ast.js'
import { MssqlExtractor } from './mssql-extractor.js'
import { analyzeMerge } from './mssql-merge.js'
import { crossCheck, scanFloorWords } from './tsql-cross-check.js'
import { lexTsql, isWord, type TsqlToken } from './tsql-lexer.js'
import { normalizeStatement, type OutputColumn } from './tsql-normalizer.js'
import { splitTsqlStatements, statementSpan, type TsqlStatement } from './tsql-splitter.js'
import { analyzeTokenStatement } from './tsql-token-statements.js'

const parser = new nodeSqlParser.Parser()

/** The AST `type` each statement head must produce. */
const HEAD_TYPES: Readonly<Record<string, string>> = {
  SELECT: 'select',
  INSERT: 'insert',
  UPDATE: 'update',
  DELETE: 'delete',
  TRUNCATE: 'truncate',
  CREATE: 'create',
  DROP: 'drop',
}

/** Parses one rendered statement and returns its single statement node. */
export function parseOne(text: string): AstNode {
  let result: unknown
  try {
    result = parser.astify(text, { database: 'transactsql' })
  } catch (error) {
    throw new SqlParseFailed(MSSQL_FRONT_END_NAME, 'node-sql-parser rejected the statement', {
      cause: error,
    })
  }

  const nodes = Array.isArray(result) ? result : [result]
  const [node] = nodes
  if (nodes.length !== 1 || !isNode(node)) {
    throw new SqlParseFailed(
      MSSQL_FRONT_END_NAME,
      'the parser and the T-SQL lexer disagree on the number of statements',
    )
  }
  return node
}

/** The main verb of a statement that may begin with a CTE list. */
function mainVerb(tokens: readonly TsqlToken[]): string {
  const head = tokens[0]?.value ?? ''
  if (head !== 'WITH') return head

  let depth = 0
  for (const token of tokens) {
    if (token.text === '(') depth += 1
    else if (token.text === ')') depth -= 1
    else if (depth === 0 && isWord(token, 'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE')) {
      return token.value
    }
  }
  return head
}

/** Adds the facts of `OUTPUT INSERTED.x`: the statement returns the target's columns. */
function addOutputFacts(
  facts: FactBuilder,
  statement: StatementFacts,
  output: readonly OutputColumn[],
): void {
  if (output.length === 0) return

  // The target is the table the statement writes with its own verb (not a lock hint's `lock`).
  const target = statement.tables.find((table) => table.action === statement.kind)
  // A temporary table target is already reported as session state.
  if (target === undefined && statement.floor.some((fact) => fact.rule === 'session-state')) return
  if (target === undefined) unsupported('OUTPUT without a target table')
  facts.addTable(target.schema, target.name, 'select')
  for (const item of output) facts.addColumn(target.schema, target.name, item.column, 'select')
}

/** Runs the parser path for one statement of the kinds in `HEAD_TYPES` or a CTE. */
export function analyzeParsed(tokens: readonly TsqlToken[]): StatementFacts {
  const verb = mainVerb(tokens)
  const analyze = (): StatementFacts => {
    if (verb !== 'MERGE') return analyzeParsedStatement(tokens, verb)
    if (tokens[0]?.value === 'WITH') unsupported('MERGE with a common table expression')
    return analyzeMerge(tokens)
  }

  // Floor words (all of non-liftable rules) deny the statement whatever the parser makes of the
  // rest. When the rest cannot be analyzed, the floor facts alone are returned, so the denial
  // names the construct instead of a parse failure.
  const kind = (HEAD_TYPES[verb] ?? (verb === 'MERGE' ? 'merge' : 'other')) as StatementKind
  const floorFacts = new FactBuilder(kind)
  scanFloorWords(tokens, floorFacts)
  if (floorFacts.build().floor.length === 0) return analyze()

  try {
    const facts = new FactBuilder(kind)
    addAllFacts(facts, analyze())
    addAllFacts(facts, floorFacts.build())
    return facts.build()
  } catch (error) {
    if (!isSqlgateError(error)) throw error
    return floorFacts.build()
  }
}

function analyzeParsedStatement(tokens: readonly TsqlToken[], verb: string): StatementFacts {
  const normalized = normalizeStatement(tokens)
  const ast = parseOne(normalized.text)
  const expected = HEAD_TYPES[verb]
  if (expected === undefined || ast['type'] !== expected) {
    throw new SqlParseFailed(
      MSSQL_FRONT_END_NAME,
      'the parser and the T-SQL lexer disagree on the kind of statement',
    )
  }
  const into = normalized.into
  const kind: StatementKind = into !== null ? 'create' : (expected as StatementKind)

  const extracted = new FactBuilder(kind)
  const extractor = new MssqlExtractor(extracted)
  extractor.statement(ast, null)
  crossCheck(normalized.tokens, ast, extractor.visitedNames)

  const facts = new FactBuilder(kind)
  addAllFacts(facts, extracted.build(), normalized.rewrites.renamedFunctions)
  for (const fn of normalized.rewrites.removedFunctions) {
    facts.addFunction(fn.schema, fn.name, fn.action)
  }
  if (into !== null && into.name.startsWith('#')) {
    facts.addFloor('session-state', 'SELECT INTO a temporary table')
  } else if (into !== null) {
    facts.addTable(into.schema, into.name, 'create')
  }
  addOutputFacts(facts, facts.build(), normalized.output)

  return facts.build()
}

/** Copies every fact of `statement` into `facts`, undoing function renames of the rewrites. */
export function addAllFacts(
  facts: FactBuilder,
  statement: StatementFacts,
  renamedFunctions: ReadonlyMap<string, string> = new Map(),
): void {
  for (const kind of statement.kinds) facts.addKind(kind)
  for (const table of statement.tables) facts.addTable(table.schema, table.name, table.action)
  for (const column of statement.columns) {
    facts.addColumn(column.schema, column.table, column.column, column.action)
  }
  for (const fn of statement.functions) {
    const name = fn.schema === null ? (renamedFunctions.get(fn.name) ?? fn.name) : fn.name
    facts.addFunction(fn.schema, name, fn.action)
  }
  for (const floor of statement.floor) facts.addFloor(floor.rule, floor.construct)
}

/** Merges the facts of an IF: the condition and both branches, kind of the first branch. */
function mergeFacts(parts: readonly StatementFacts[]): StatementFacts {
  const [first] = parts
  if (first === undefined) unsupported('IF without a statement')

  const facts = new FactBuilder(first.kind)
  for (const part of parts) addAllFacts(facts, part)
  return facts.build()
}

function analyzeStatement(statement: TsqlStatement): StatementFacts {
  if (statement.kind === 'if') {
    const branches = [statement.then, ...(statement.else === null ? [] : [statement.else])]
    const branchFacts = branches.map(analyzeStatement)
    const conditionFacts = analyzeCondition(statement.condition)
    return mergeFacts([...branchFacts, conditionFacts])
  }

  const tokenFacts = analyzeTokenStatement(statement.tokens)
  if (tokenFacts !== null) {
    // Floor words anywhere in the statement are reported too, not only its head.
    const facts = new FactBuilder(tokenFacts.kind)
    addAllFacts(facts, tokenFacts)
    scanFloorWords(statement.tokens, facts)
    return facts.build()
  }

  return analyzeParsed(statement.tokens)
}

/** Analyzes an IF condition as the WHERE clause of `SELECT 1`. */
function analyzeCondition(condition: readonly TsqlToken[]): StatementFacts {
  const select: TsqlToken[] = [
    { kind: 'word', text: 'SELECT', value: 'SELECT', start: 0 },
    { kind: 'number', text: '1', value: '1', start: 0 },
    { kind: 'word', text: 'WHERE', value: 'WHERE', start: 0 },
    ...condition,
  ]
  return analyzeParsed(select)
}

/** Analyzes a whole request. */
export function analyzeTsql(sql: string): RequestFacts {
  const tokens = lexTsql(sql)
  const statements = splitTsqlStatements(tokens)

  return Object.freeze({
    dialect: 'mssql',
    frontEnd: MSSQL_FRONT_END_NAME,
    statements: Object.freeze(
      statements.map((statement) =>
        Object.freeze({ ...analyzeStatement(statement), span: statementSpan(statement) }),
      ),
    ),
  })
}

/** Renders tokens without comments and with every string and number literal as `?`. */
function fingerprintTsql(tokens: readonly TsqlToken[]): string {
  return tokens
    .map((token) => {
      if (token.kind === 'string' || token.kind === 'number') return '?'
      if (token.kind === 'quoted-identifier') return `[${token.value.replaceAll(']', ']]')}]`
      return token.text
    })
    .join(' ')
}

/**
 * Creates the SQL Server front end (`node-sql-parser+tsql-lexer`, dialect `mssql`). Identifiers
 * fold to lower case, as under SQL Server's default case-insensitive collation; an unqualified
 * table has schema `null`, which the engine maps to `dbo`.
 */
export function createMssqlFrontEnd(): SqlFrontEnd {
  return Object.freeze({
    name: MSSQL_FRONT_END_NAME,
    dialect: 'mssql' as const,
    fingerprint(sql: string): string | null {
      try {
        return fingerprintTsql(lexTsql(sql))
      } catch {
        return null
      }
    },
    analyze(sql: string): RequestFacts {
      try {
        return analyzeTsql(sql)
      } catch (error) {
        if (isSqlgateError(error)) throw error
        // Any other exception, for example from a parser tree of an unexpected shape, denies too.
        throw new SqlParseFailed(MSSQL_FRONT_END_NAME, 'the statement could not be analyzed', {
          cause: error,
        })
      }
    },
  })
}
