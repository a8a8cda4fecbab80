import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import fc from 'fast-check'

import { createMssqlFrontEnd } from '../../../src/dialect/mssql/mssql-front-end.js'
import { lexTsql, type TsqlToken } from '../../../src/dialect/mssql/tsql-lexer.js'
import { isSqlgateError } from '../../../src/errors.js'
import type { RequestFacts } from '../../../src/extract/statement-facts.js'
import { FLOOR_RULES } from '../../../src/floor/floor-rules.js'

const frontEnd = createMssqlFrontEnd()

/** Fragments that mix valid clauses with quoting and comment tricks. */
const FRAGMENTS = [
  'SELECT',
  'SELECT name FROM dbo.users',
  'SELECT*FROM dbo.payroll',
  'FROM dbo.users u',
  'WHERE id = 1',
  'UNION ALL',
  'REVERT',
  "EXECUTE AS USER = 'dbo'",
  "EXEC AS LOGIN = 'sa'",
  "SETUSER 'dbo'",
  "WAITFOR DELAY '00:00:01'",
  'INSERT INTO dbo.t (a) VALUES (1)',
  'UPDATE dbo.t SET a = 2',
  'DELETE FROM dbo.t',
  'CASE WHEN 1 = 1 THEN 1 ELSE 0 END',
  'IF 1 = 1',
  'ELSE',
  'BEGIN',
  'END',
  'GO',
  'EXEC',
  'sp_executesql',
  ';',
  '(',
  ')',
  ',',
  "'text'",
  "'\\'",
  "''",
  "N'x'",
  "'it''s'",
  '[br]]acket]',
  '"quoted"',
  '/* c */',
  "/* ' */",
  '/* /* nested */ */',
  '-- line\n',
  '\n',
  '@id',
  '#tmp',
  'x.REVERT',
  "OPENQUERY(srv, 'x')",
  'WITH (NOLOCK)',
  'TOP (5)',
  'MERGE dbo.t AS t USING dbo.s AS s ON t.id = s.id WHEN MATCHED THEN DELETE',
  'WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)',
  'OUTPUT INSERTED.id',
  'OUTPUT DELETED.*',
  "EXEC('x')",
  'EXEC dbo.p 1',
  "EXEC sp_executesql N'x'",
  'INTO #x',
  'INTO dbo.copy',
  'SELECT 1 WHERE 1 = 1',
  'BEGIN TRAN',
  'COMMIT',
  'SET NOCOUNT ON',
  'USE master',
  'GRANT SELECT ON dbo.t TO r',
  "OPENROWSET(BULK 'x', SINGLE_CLOB) AS f",
  'WITH c AS (SELECT 1 AS a)',
]

const text = fc
  .array(
    fc.tuple(fc.constantFrom(...FRAGMENTS), fc.constantFrom(' ', '', '\n', '\t')),
    { minLength: 1, maxLength: 14 },
  )
  .map((parts) => parts.map(([fragment, glue]) => fragment + glue).join(''))

/** Analyzes `sql`, returning `null` when the front end denied it with a typed error. */
function analyze(sql: string): RequestFacts | null {
  try {
    return frontEnd.analyze(sql)
  } catch (error) {
    assert.ok(isSqlgateError(error), `untyped error: ${String(error)}`)
    return null
  }
}

function lexed(sql: string): TsqlToken[] | null {
  try {
    return lexTsql(sql)
  } catch {
    return null
  }
}

/** Words at positions where they are keywords: not after a dot. */
function keywords(tokens: readonly TsqlToken[]): string[] {
  return tokens
    .filter((token, index) => token.kind === 'word' && tokens[index - 1]?.text !== '.')
    .map((token) => token.value)
}

function floorRules(facts: RequestFacts): Set<string> {
  return new Set(facts.statements.flatMap((statement) => statement.floor.map((fact) => fact.rule)))
}

/** Tells whether a floor rule that no policy line can lift denies the request. */
function hasFixedFloor(facts: RequestFacts): boolean {
  return facts.statements.some((statement) =>
    statement.floor.some((fact) => !FLOOR_RULES[fact.rule].liftable),
  )
}

describe('mssql front end properties', () => {
  it('denies only with typed errors', () => {
    fc.assert(
      fc.property(text, (sql) => {
        analyze(sql)
      }),
      { numRuns: 3000 },
    )
  })

  it('reports every identity change it lets through', () => {
    fc.assert(
      fc.property(text, (sql) => {
        const facts = analyze(sql)
        const tokens = lexed(sql)
        if (facts === null || tokens === null) return

        const words = keywords(tokens)
        const executeAs = tokens.some((token, index) => {
          const exec = token.value === 'EXEC' || token.value === 'EXECUTE'
          return exec && tokens[index + 1]?.value === 'AS'
        })
        if (words.includes('REVERT') || words.includes('SETUSER') || executeAs) {
          assert.ok(floorRules(facts).has('identity-change'), sql)
        }
        if (words.includes('WAITFOR')) assert.ok(floorRules(facts).has('denial-of-service'), sql)
      }),
      { numRuns: 3000 },
    )
  })

  it('reports every data change it lets through', () => {
    fc.assert(
      fc.property(text, (sql) => {
        const facts = analyze(sql)
        const tokens = lexed(sql)
        if (facts === null || tokens === null) return

        // Facts under a rule that is never lifted may stop at the floor construct.
        if (hasFixedFloor(facts)) return

        const effects = new Set<string>(
          facts.statements.flatMap((statement) => [
            ...statement.kinds,
            ...statement.tables.map((table) => table.action),
          ]),
        )
        for (const verb of ['INSERT', 'UPDATE', 'DELETE']) {
          if (keywords(tokens).includes(verb)) assert.ok(effects.has(verb.toLowerCase()), sql)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('counts one statement per lexer split', () => {
    fc.assert(
      fc.property(text, (sql) => {
        const facts = analyze(sql)
        const tokens = lexed(sql)
        if (facts === null || tokens === null) return

        let depth = 0
        let verbs = 0
        for (const [index, token] of tokens.entries()) {
          if (token.text === '(') depth += 1
          if (token.text === ')') depth -= 1
          const keyword = token.kind === 'word' && tokens[index - 1]?.text !== '.'
          if (depth === 0 && keyword && ['REVERT', 'SETUSER', 'WAITFOR'].includes(token.value)) {
            verbs += 1
          }
        }
        // Each of these words at statement level starts its own statement.
        assert.ok(facts.statements.length >= verbs, sql)
      }),
      { numRuns: 2000 },
    )
  })
})

/** A query generator that records every table it writes into the text. */
const TABLES = ['dbo.orders', 'dbo.users', 'sales.invoices', 'customers', '[dbo].[Payroll]']

function tableKey(written: string): string {
  const parts = written.replaceAll('[', '').replaceAll(']', '').toLowerCase().split('.')
  return parts[parts.length - 1] ?? ''
}

interface Query {
  readonly sql: string
  readonly tables: readonly string[]
}

const source: fc.Arbitrary<Query> = fc.constantFrom(...TABLES).map((table) => ({
  sql: table,
  tables: [tableKey(table)],
}))

const query: fc.Arbitrary<Query> = fc.letrec<{ query: Query; from: Query }>((tie) => ({
  from: fc.oneof(
    { depthSize: 'small' },
    source,
    fc.tuple(tie('from'), source).map(([left, right]) => ({
      sql: `${left.sql} JOIN ${right.sql} ON 1 = 1`,
      tables: [...left.tables, ...right.tables],
    })),
    fc.tuple(tie('from'), source).map(([left, right]) => ({
      sql: `${left.sql}, ${right.sql}`,
      tables: [...left.tables, ...right.tables],
    })),
    tie('query').map((inner) => ({ sql: `(${inner.sql}) AS d`, tables: inner.tables })),
  ),
  query: fc.oneof(
    { depthSize: 'small' },
    tie('from').map((from) => ({ sql: `SELECT 1 AS one FROM ${from.sql}`, tables: from.tables })),
    fc.tuple(tie('from'), tie('query')).map(([from, inner]) => ({
      sql: `SELECT 1 AS one FROM ${from.sql} WHERE EXISTS (${inner.sql})`,
      tables: [...from.tables, ...inner.tables],
    })),
    fc.tuple(tie('query'), tie('query')).map(([left, right]) => ({
      sql: `${left.sql} UNION ALL ${right.sql}`,
      tables: [...left.tables, ...right.tables],
    })),
    fc.tuple(tie('from'), tie('query')).map(([from, inner]) => ({
      sql: `SELECT (${inner.sql}) AS nested FROM ${from.sql}`,
      tables: [...from.tables, ...inner.tables],
    })),
    fc.tuple(tie('from'), tie('query')).map(([from, inner]) => ({
      sql: `SELECT 1 AS one FROM ${from.sql} CROSS APPLY (${inner.sql}) AS applied`,
      tables: [...from.tables, ...inner.tables],
    })),
    fc.tuple(tie('from'), tie('query')).map(([from, inner]) => ({
      sql: `SELECT CASE WHEN 1 IN (${inner.sql}) THEN 1 ELSE 0 END AS flag FROM ${from.sql}`,
      tables: [...from.tables, ...inner.tables],
    })),
    fc.tuple(tie('query'), tie('from')).map(([inner, from]) => ({
      sql: `WITH c AS (${inner.sql}) SELECT 1 AS one FROM c, ${from.sql}`,
      tables: [...inner.tables, ...from.tables],
    })),
  ),
})).query

/** Data-changing statements around generated queries. */
const statement: fc.Arbitrary<Query> = fc.oneof(
  query,
  fc.tuple(source, query).map(([target, inner]) => ({
    sql: `INSERT INTO ${target.sql} (a) ${inner.sql}`,
    tables: [...target.tables, ...inner.tables],
  })),
  fc.tuple(source, query).map(([target, inner]) => ({
    sql: `UPDATE ${target.sql} SET a = (${inner.sql}) WHERE EXISTS (${inner.sql})`,
    tables: [...target.tables, ...inner.tables],
  })),
  fc.tuple(source, query).map(([target, inner]) => ({
    sql: `DELETE FROM ${target.sql} WHERE 1 IN (${inner.sql})`,
    tables: [...target.tables, ...inner.tables],
  })),
  fc.tuple(source, source, query).map(([target, joined, inner]) => ({
    sql: `UPDATE t SET a = 1 FROM ${target.sql} AS t JOIN ${joined.sql} AS j ON 1 = 1 WHERE EXISTS (${inner.sql})`,
    tables: [...target.tables, ...joined.tables, ...inner.tables],
  })),
)

describe('mssql front end table completeness', () => {
  it('reports every table of a generated query or denies it', () => {
    fc.assert(
      fc.property(statement, (generated) => {
        const facts = analyze(generated.sql)
        if (facts === null) return

        const reported = new Set(facts.statements.flatMap((item) => item.tables.map((t) => t.name)))
        for (const table of generated.tables) assert.ok(reported.has(table), generated.sql)
      }),
      { numRuns: 1500 },
    )
  })

  it('accepts most generated queries', () => {
    const samples = fc.sample(statement, 300)
    const accepted = samples.filter((generated) => analyze(generated.sql) !== null).length
    // Denials are safe but should be rare for plain joins, unions and subqueries.
    assert.ok(accepted > samples.length * 0.8, `${accepted} of ${samples.length} accepted`)
  })
})

/** Expressions with scalar subqueries in function arguments, CASE, BETWEEN and OVER. */
const expression: fc.Arbitrary<Query> = fc.letrec<{ expression: Query }>((tie) => ({
  expression: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('a', 'x.b', '1', "N'k'", '@p').map((sql) => ({ sql, tables: [] })),
    source.map((table) => ({ sql: `(SELECT TOP 1 v FROM ${table.sql})`, tables: table.tables })),
    fc.tuple(tie('expression'), tie('expression')).map(([left, right]) => ({
      sql: `COALESCE(${left.sql}, ${right.sql})`,
      tables: [...left.tables, ...right.tables],
    })),
    fc.tuple(tie('expression'), tie('expression')).map(([left, right]) => ({
      sql: `IIF(${left.sql} > ${right.sql}, 1, 0)`,
      tables: [...left.tables, ...right.tables],
    })),
    fc.tuple(tie('expression'), tie('expression')).map(([left, right]) => ({
      sql: `CASE WHEN ${left.sql} = 1 THEN ${right.sql} END`,
      tables: [...left.tables, ...right.tables],
    })),
    tie('expression').map((inner) => ({
      sql: `CONVERT(nvarchar(20), ${inner.sql})`,
      tables: inner.tables,
    })),
    tie('expression').map((inner) => ({
      sql: `SUM(${inner.sql}) OVER (PARTITION BY x.b ORDER BY a)`,
      tables: inner.tables,
    })),
  ),
})).expression

describe('mssql front end expression completeness', () => {
  it('reports the tables of subqueries in expressions', () => {
    fc.assert(
      fc.property(expression, expression, (selected, filter) => {
        const sql = `SELECT ${selected.sql} AS c1 FROM dbo.base x WHERE ${filter.sql} > 0`
        const facts = analyze(sql)
        if (facts === null) return

        const reported = new Set(facts.statements.flatMap((item) => item.tables.map((t) => t.name)))
        for (const table of [...selected.tables, ...filter.tables]) assert.ok(reported.has(table), sql)
      }),
      { numRuns: 1000 },
    )
  })
})
