import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import fc from 'fast-check'
import { parseSync } from 'libpg-query'

import type { Decision } from '../../src/authorize/decision.js'
import {
  compareFacts,
  createCrossCheckFrontEnd,
} from '../../src/dialect/postgres/cross-check-front-end.js'
import { createLibpgQueryFrontEnd } from '../../src/dialect/postgres/libpg-query-front-end.js'
import { createPgsqlAstFrontEnd } from '../../src/dialect/postgres/pgsql-ast-front-end.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import { isReadOnly, type RequestFacts } from '../../src/extract/statement-facts.js'
import type { SqlFrontEnd } from '../../src/parse/front-end.js'

/**
 * Time limit of each property in milliseconds: 9 s by default, so the suite stays under about
 * 60 s. SQLGATE_FUZZ_MS sets a longer limit for a longer local run.
 */
const PROPERTY_TIME_LIMIT = Number(process.env['SQLGATE_FUZZ_MS'] ?? 9_000)
const RUN = {
  numRuns: 1_000_000,
  interruptAfterTimeLimit: PROPERTY_TIME_LIMIT,
  markInterruptAsFailure: false,
}

// Generators ------------------------------------------------------------------------------

/** Text that goes inside a comment: quotes, dollar quotes, semicolons and nested comments. */
const commentPart = fc.constantFrom(
  "'",
  '"',
  '$$',
  '$x$',
  ';',
  ' DELETE FROM t; ',
  '--',
  '/* */',
  "E'",
  '\\',
  ' ',
  'a',
  '\u2028',
  '\n',
)
const commentBody = fc.array(commentPart, { maxLength: 6 }).map((parts) => parts.join(''))
/** A comment body that cannot close the comment early. */
const closedBody = commentBody.map((body) => body.replaceAll('*/', '* /'))

const comment = fc.oneof(
  closedBody.map((body) => `/*${body}*/`),
  closedBody.map((body) => `/* /*${body}*/ ${body} */`),
  commentBody.map((body) => `--${body.replaceAll('\n', ' ')}\n`),
)

/** Whitespace, a Unicode space that PostgreSQL does not treat as one, or a comment. */
const gap = fc.oneof(
  { weight: 3, arbitrary: fc.constant(' ') },
  { weight: 1, arbitrary: fc.constantFrom('\u00a0', '\t', '\n') },
  { weight: 1, arbitrary: comment.map((text) => ` ${text} `) },
)

const stringLiteral = fc.oneof(
  fc.constantFrom("'x'", "'it''s'", "';'", "'/*'", "'--'", "'$$'"),
  fc.constantFrom("E'\\''", "E'\\\\'", "E'a\\';'", "e'\\n'"),
  fc.constantFrom("U&'d\\0061t'", "U&'\\0041' UESCAPE '\\'", "B'101'", "X'ff'", "N'x'"),
  fc.constantFrom('$$x$$', "$$';$$", '$$ DELETE FROM t; $$'),
  fc.constantFrom('$a$ $$ ; $a$', '$a$x$a$', '$_b$;$_b$'),
)

const identifier = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('t', 'u', 'accounts', 'salaries') },
  { weight: 2, arbitrary: fc.constantFrom('"T"', '"a""b"', '"se;ect"', '"/*"') },
  { weight: 1, arbitrary: fc.constantFrom('U&"d\\0061t"', 'a$b', 'x$$') },
)
const table = fc.oneof(identifier, identifier.map((name) => `public.${name}`))
const column = fc.constantFrom('a', 'b', 'id', '"A"', 't.a', 'x.b', '*')
const functionName = fc.constantFrom(
  'lower',
  'coalesce',
  'now',
  'pg_read_file',
  'nextval',
  'set_config',
)

/** Queries with nested CTEs, sub-queries, set operations and FROM-clause functions. */
/** The mutually recursive parts of a generated query. A type alias, as `fc.letrec` requires. */
type QueryParts = {
  query: string
  select: string
  from: string
  scalar: string
  write: string
}

const query = fc.letrec<QueryParts>((tie) => ({
  query: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'query' },
    tie('select'),
    fc
      .tuple(fc.oneof(tie('select'), tie('write')), tie('select'))
      .map(([cte, main]) => `WITH c AS (${cte}) ${main}`),
    fc
      .tuple(tie('select'), tie('select'), fc.oneof(tie('select'), tie('write')))
      .map(([first, second, main]) => `WITH c AS (${first}), d AS (${second}) ${main}`),
    fc.tuple(tie('select'), tie('select')).map(([left, right]) => `${left} UNION ALL ${right}`),
  ),
  select: fc
    .tuple(
      fc.array(fc.oneof(column, tie('scalar')), { minLength: 1, maxLength: 3 }),
      fc.option(tie('from'), { freq: 4 }),
      fc.option(tie('scalar'), { freq: 3 }),
      gap,
    )
    .map(([items, from, where, space]) => {
      const fromText = from === null ? '' : `${space}FROM ${from}`
      const whereText = where === null ? '' : ` WHERE ${where}`
      return `SELECT ${items.join(', ')}${fromText}${whereText}`
    }),
  from: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'query' },
    table,
    table.map((name) => `${name} x`),
    fc.constantFrom('generate_series(1, 3) g', "pg_ls_dir('.') f", "dblink('x', 'y') d", 'c'),
    tie('query').map((inner) => `(${inner}) s`),
    fc.tuple(table, table).map(([left, right]) => `${left} JOIN ${right} x ON true`),
  ),
  scalar: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'query' },
    fc.constantFrom('a', 'b', 't.a', '1', '$1', 'NULL', '"A"'),
    stringLiteral,
    fc.tuple(functionName, tie('scalar')).map(([name, argument]) => `${name}(${argument})`),
    fc
      .tuple(tie('scalar'), fc.constantFrom('=', '+', '||', 'AND'), tie('scalar'))
      .map(([left, operator, right]) => `${left} ${operator} ${right}`),
    tie('query').map((inner) => `(${inner})`),
    tie('query').map((inner) => `EXISTS (${inner})`),
  ),
  write: fc.oneof(
    table.map((name) => `DELETE FROM ${name} RETURNING *`),
    fc
      .tuple(table, tie('scalar'))
      .map(([name, where]) => `DELETE FROM ${name} WHERE ${where} RETURNING *`),
    table.map((name) => `UPDATE ${name} SET a = 1 RETURNING a`),
    fc
      .tuple(table, tie('scalar'), tie('from'))
      .map(([name, value, from]) => `UPDATE ${name} SET a = ${value} FROM ${from} RETURNING a`),
    table.map((name) => `INSERT INTO ${name} (a) VALUES (1) RETURNING a`),
    fc
      .tuple(table, tie('select'))
      .map(([name, select]) => `INSERT INTO ${name} ${select} RETURNING *`),
    table.map((name) => `INSERT INTO ${name} (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET b = 2`),
  ),
})).query

/** Statements that change data or break the floor. */
const dangerous = fc.constantFrom(
  'DELETE FROM accounts',
  'UPDATE t SET a = 1',
  'INSERT INTO t VALUES (1)',
  'TRUNCATE t',
  'SET ROLE admin',
  'SET role = admin',
  'COMMIT',
  "SELECT pg_read_file('x')",
  "SELECT set_config('role', 'x', false)",
  'DROP TABLE t',
  'SELECT * FROM accounts FOR UPDATE',
  "UPDATE pg_settings SET setting = 'x'",
  "SELECT nextval('s')",
  'CREATE VIEW pg_temp.v AS SELECT 1',
  'PREPARE p AS DELETE FROM t',
)

/** Requests: one query, or several statements with comments and stray semicolons between them. */
const request = fc.oneof(
  query,
  fc
    .array(fc.tuple(fc.oneof(query, dangerous), gap, fc.constantFrom(';', ' ;', '; ;', ';\n')), {
      minLength: 1,
      maxLength: 3,
    })
    .map((parts) =>
      parts.map(([statement, space, separator]) => `${statement}${space}${separator}`).join(' '),
    ),
  fc
    .tuple(query, comment, dangerous, comment)
    .map(([first, open, hidden, close]) => `${first} ${open}; ${hidden}; ${close}`),
)

// Helpers ---------------------------------------------------------------------------------

/** Statement count by PostgreSQL's own grammar, or `null` when the server would reject the text. */
function serverStatementCount(sql: string): number | null {
  try {
    const result = parseSync(sql) as { stmts?: unknown[] }
    return (result.stmts ?? []).length
  } catch {
    return null
  }
}

function analyzeOrNull(frontEnd: SqlFrontEnd, sql: string): RequestFacts | null {
  try {
    return frontEnd.analyze(sql)
  } catch {
    return null
  }
}

function writesOrBreaksFloor(facts: RequestFacts): boolean {
  return !isReadOnly(facts) || facts.statements.some((statement) => statement.floor.length > 0)
}

// Properties ------------------------------------------------------------------------------

describe('PostgreSQL front ends under generated SQL', () => {
  const engines: Record<string, PolicyEngine> = {}
  let libpgQuery: SqlFrontEnd
  // A short parse time limit keeps slow generated texts from eating the time budget.
  const pgsqlAst = createPgsqlAstFrontEnd({ parseTimeoutMs: 500 })
  before(async () => {
    libpgQuery = await createLibpgQueryFrontEnd()
    const frontEnds = {
      'libpg-query': libpgQuery,
      'pgsql-ast-parser': pgsqlAst,
      'cross-check': createCrossCheckFrontEnd(libpgQuery, pgsqlAst),
    }
    for (const [name, postgres] of Object.entries(frontEnds)) {
      engines[name] = await createPolicyEngine({ frontEnds: { postgres }, cache: false })
    }
  })

  const check = (name: string, role: string, sql: string): Decision => {
    const engine = engines[name]
    if (engine === undefined) throw new TypeError(`no engine ${name}`)
    return engine.check({ dialect: 'postgres', roles: [role], sql })
  }

  it('never crashes and denies every failure', () => {
    fc.assert(
      fc.property(request, (sql) => {
        for (const name of Object.keys(engines)) {
          const decision = check(name, 'admin', sql)
          if (decision.error !== null) assert.equal(decision.allowed, false, name)
        }
      }),
      RUN,
    )
  })

  it('never allows several statements as one', () => {
    fc.assert(
      fc.property(request, (sql) => {
        const count = serverStatementCount(sql)
        if (count === null || count < 2) return
        for (const name of Object.keys(engines)) {
          const decision = check(name, 'admin', sql)
          assert.equal(decision.allowed, false, `${name} allowed ${count} statements`)
          if (decision.facts !== null) assert.equal(decision.facts.statements.length, count, name)
        }
      }),
      RUN,
    )
  })

  it('never allows a write either parser sees', () => {
    fc.assert(
      fc.property(request, (sql) => {
        const seen = [analyzeOrNull(libpgQuery, sql), analyzeOrNull(pgsqlAst, sql)]
        if (!seen.some((facts) => facts !== null && writesOrBreaksFloor(facts))) return
        for (const name of ['libpg-query', 'cross-check', 'pgsql-ast-parser']) {
          assert.equal(check(name, 'sql-read', sql).allowed, false, `${name} allowed a write`)
        }
      }),
      RUN,
    )
  })

  it('cross-check denies any difference', () => {
    fc.assert(
      fc.property(request, (sql) => {
        const first = analyzeOrNull(libpgQuery, sql)
        const second = analyzeOrNull(pgsqlAst, sql)
        const differ = first === null || second === null || compareFacts(first, second) !== null
        if (differ) assert.equal(check('cross-check', 'admin', sql).allowed, false)
      }),
      RUN,
    )
  })
})
