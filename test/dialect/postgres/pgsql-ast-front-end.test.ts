import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { SqlParseFailed, SqlTooLarge, SqlUnsupported } from '../../../src/errors.js'
import {
  compareFacts,
  describeDisagreement,
} from '../../../src/dialect/postgres/cross-check-front-end.js'
import { createLibpgQueryFrontEnd } from '../../../src/dialect/postgres/libpg-query-front-end.js'
import {
  createPgsqlAstFrontEnd,
  PGSQL_AST_MAX_SQL_BYTES,
} from '../../../src/dialect/postgres/pgsql-ast-front-end.js'
import type { SqlFrontEnd } from '../../../src/parse/front-end.js'

/** Statements both parsers read; their facts must be equal. */
const AGREEING: readonly string[] = [
  'SELECT * FROM accounts',
  'SELECT a.id, b.name FROM s1.accounts a JOIN users b ON a.owner = b.id WHERE b.x > 1',
  'SELECT id FROM accounts LEFT JOIN users USING (id), orders',
  'SELECT a FROM t WHERE a IN (SELECT b FROM u WHERE u.c = t.c)',
  'SELECT EXISTS (SELECT 1 FROM t WHERE t.a = 1)',
  'SELECT count(*), count(t.*), count(DISTINCT a) FROM t',
  'SELECT t FROM t',
  'WITH x AS (SELECT a FROM t), y AS (SELECT * FROM x) SELECT * FROM y JOIN t ON true',
  'WITH x AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM x',
  'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r',
  'SELECT * FROM (SELECT a FROM t) s WHERE s.a = 1',
  'SELECT * FROM generate_series(1, 3) g(x) JOIN t ON t.a = g.x',
  "SELECT extract(year FROM d), substring(s FROM 1 FOR 2), d AT TIME ZONE 'utc' FROM t",
  "SELECT position('a' IN s), trim(s), normalize(s), coalesce(a, b), nullif(a, b) FROM t",
  'SELECT a FROM t WHERE a = ANY($1::bigint[])',
  'SELECT a, grouping(a), sum(b) FROM t GROUP BY ROLLUP (a)',
  'SELECT rank() OVER (PARTITION BY a ORDER BY b), sum(c) FILTER (WHERE d) FROM t',
  'SELECT pg_catalog.lower(a), public.f(b), "Mixed"(c) FROM "Schema"."Table"',
  'SELECT "a""b" FROM "T""x"',
  `SELECT ${'c'.repeat(70)} FROM ${'t'.repeat(70)}`,
  'SELECT "exists"(1)',
  "SELECT set_config('role', 'x', false)",
  "SELECT pg_read_file('x'), nextval('s')",
  'SELECT id FROM accounts WHERE id = $1 FOR UPDATE',
  'SELECT * FROM t, (SELECT * FROM u JOIN v ON true) s FOR UPDATE',
  'SELECT * FROM (SELECT a FROM u UNION SELECT b FROM v UNION SELECT c FROM w) s FOR SHARE',
  'WITH c AS (SELECT 1) SELECT * FROM c, t FOR UPDATE',
  'SELECT t1.a FROM j1 t1 (a, b), j2 AS t2 (d, e) WHERE t1.a = t2.d',
  "UPDATE pg_settings SET setting = 'x' WHERE name = 'y'",
  'CREATE VIEW pg_temp.v AS SELECT 1',
  'CREATE SCHEMA pg_temp',
  "CREATE TABLE s.t (id int PRIMARY KEY, a text DEFAULT lower('x') NOT NULL, " +
    'b int REFERENCES u(id), c int GENERATED ALWAYS AS (id * 2) STORED, ' +
    "CHECK (a <> ''), CONSTRAINT f FOREIGN KEY (b) REFERENCES v(id), LIKE w INCLUDING ALL) " +
    'INHERITS (p)',
  'CREATE TEMP TABLE t (a int)',
  'CREATE TABLE pg_temp.x (a int)',
  'CREATE UNIQUE INDEX IF NOT EXISTS i ON s.t USING btree (a, lower(b) DESC) WHERE c > 0',
  "CREATE INDEX ON t ((a + nextval('s')))",
  'SELECT 1 UNION ALL SELECT a FROM t',
  'SELECT a FROM t UNION SELECT b FROM u ORDER BY b LIMIT 1',
  'SELECT a FROM t UNION (SELECT b FROM u ORDER BY b)',
  'SELECT a FROM t UNION SELECT b FROM u UNION ALL SELECT c FROM v ORDER BY c',
  'VALUES (1, 2), (3, 4)',
  'INSERT INTO t VALUES (1, 2)',
  'INSERT INTO t (a, b) SELECT a, b FROM u RETURNING a',
  'INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET b = excluded.b WHERE t.c > 1',
  'INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING',
  'UPDATE t SET a = 1, b = u.b FROM u WHERE t.id = u.id RETURNING t.a',
  'UPDATE t SET a = 1',
  'DELETE FROM t WHERE id IN (SELECT id FROM u) RETURNING *',
  'DELETE FROM t',
  'SHOW search_path',
  'SET search_path = a, b',
  'SET LOCAL statement_timeout = 5',
  'SET role = admin',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'START TRANSACTION',
  'PREPARE p AS DELETE FROM t',
  'DEALLOCATE p',
  'DO $$ BEGIN END $$',
  'TRUNCATE a, s.b',
  'DROP TABLE a, s.b',
  'DROP INDEX i',
  'DROP TYPE ty',
  'REFRESH MATERIALIZED VIEW m',
  'CREATE VIEW v AS SELECT a FROM t',
  'CREATE MATERIALIZED VIEW m AS SELECT a FROM t',
  'CREATE SCHEMA s',
  "COMMENT ON TABLE t IS 'x'",
  'SELECT 1; SELECT 2',
]

describe('pgsql-ast-parser front end', () => {
  let libpgQuery: SqlFrontEnd
  const pgsqlAst = createPgsqlAstFrontEnd()
  before(async () => {
    libpgQuery = await createLibpgQueryFrontEnd()
  })

  for (const sql of AGREEING) {
    it(`agrees with libpg-query: ${sql.slice(0, 70)}`, () => {
      const disagreement = compareFacts(libpgQuery.analyze(sql), pgsqlAst.analyze(sql))
      const words =
        disagreement === null
          ? ''
          : describeDisagreement(disagreement, 'libpg-query', 'pgsql-ast-parser')
      assert.equal(disagreement, null, words)
    })
  }

  it('gives each of several statements its span', () => {
    const sql = "SELECT 1; /* c */ SELECT ';' ;"
    const spans = pgsqlAst.analyze(sql).statements.map((statement) => statement.span)
    // libpg-query starts a span at the first token; this one starts after the semicolon.
    assert.deepEqual(
      spans.map((span) => sql.slice(span?.start, span?.end)),
      ['SELECT 1', " /* c */ SELECT ';' "],
    )
  })

  it('names its facts after itself', () => {
    assert.equal(pgsqlAst.analyze('SELECT 1').frontEnd, 'pgsql-ast-parser')
  })

  it('reads a quoted keyword function as a function', () => {
    const [statement] = pgsqlAst.analyze('SELECT "exists"(1), exists(SELECT 1)').statements
    assert.deepEqual(statement?.functions, [{ schema: null, name: 'exists', action: 'execute' }])
  })

  it('cuts long identifiers to 63 bytes', () => {
    const [statement] = pgsqlAst.analyze(`SELECT 1 FROM "${'é'.repeat(40)}"`).statements
    assert.equal(statement?.tables[0]?.name, 'é'.repeat(31))
  })

  const gaps: readonly (readonly [string, string])[] = [
    ['EXPLAIN SELECT 1', 'EXPLAIN'],
    ['MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN DELETE', 'MERGE'],
    ['WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT 1 FROM r) SELECT * FROM r', 'WITH RECURSIVE'],
    ['DELETE FROM t USING u WHERE t.a = u.a', 'DELETE ... USING'],
    ['SELECT rank() OVER w FROM t WINDOW w AS (ORDER BY a)', 'WINDOW clause'],
    ['SELECT $tag$ x $tag$', 'dollar quoting with a tag'],
    ["SELECT E'\\''", "E'' string with an escaped quote"],
  ]
  for (const [sql, construct] of gaps) {
    it(`denies ${construct} naming the front end`, () => {
      assert.throws(
        () => pgsqlAst.analyze(sql),
        (error: unknown) =>
          error instanceof SqlUnsupported &&
          error.frontEnd === 'pgsql-ast-parser' &&
          error.construct === construct &&
          error.message.includes('pgsql-ast-parser') &&
          error.message.includes(construct),
      )
    })
  }

  it('reports a parse failure without the SQL text', () => {
    const sql = "SELECT FROM WHERE 'hunter2' ((("
    assert.throws(
      () => pgsqlAst.analyze(sql),
      (error: unknown) =>
        error instanceof SqlParseFailed &&
        error.frontEnd === 'pgsql-ast-parser' &&
        !error.message.includes('hunter2') &&
        error.cause === undefined,
    )
  })

  for (const sql of [
    "SELECT count(*) FROM t /* ' */ ; DELETE FROM t; -- ' */",
    'SELECT 1 /* $$ */ ; DELETE FROM t; -- $$',
    'SELECT 1 /* " */ ; DELETE FROM t; -- " */',
    "SELECT (SELECT a) /* /*--*/ -- */ FROM dblink('x', 'y') d",
    "SELECT 1 /* -- */ FROM pg_ls_dir('.') f",
  ]) {
    it(`denies an unsafe block comment: ${sql}`, () => {
      assert.throws(
        () => pgsqlAst.analyze(sql),
        (error: unknown) =>
          error instanceof SqlUnsupported &&
          error.construct === 'block comment with quotes or comment marks',
      )
    })
  }

  it('denies a dollar sign in an identifier', () => {
    assert.throws(
      () => pgsqlAst.analyze("SELECT x$$, pg_read_file('x'), y$$ FROM t"),
      (error: unknown) =>
        error instanceof SqlUnsupported && error.construct === 'identifier with a dollar sign',
    )
  })

  for (const sql of ['SELECT a\u00a0FROM t', 'SELECT 1 -- x\u2028 FROM t']) {
    it(`denies a Unicode space: ${JSON.stringify(sql)}`, () => {
      assert.throws(
        () => pgsqlAst.analyze(sql),
        (error: unknown) => error instanceof SqlUnsupported && error.construct === 'Unicode space',
      )
    })
  }

  it('reads Unicode spaces in literals', () => {
    assert.equal(pgsqlAst.analyze("SELECT 'a\u00a0b'").statements.length, 1)
  })

  it('reads quotes in line comments', () => {
    const facts = pgsqlAst.analyze("SELECT a -- don't $$\nFROM t")
    assert.equal(facts.statements.length, 1)
    assert.deepEqual(facts.statements[0]?.tables, [{ schema: null, name: 't', action: 'select' }])
  })

  it('denies an unterminated comment', () => {
    assert.throws(
      () => pgsqlAst.analyze('SELECT 1 /* /* */'),
      (error: unknown) => error instanceof SqlParseFailed && error.frontEnd === 'pgsql-ast-parser',
    )
  })

  it('denies text over its own limit before parsing', () => {
    const sql = `SELECT 1 -- ${'x'.repeat(PGSQL_AST_MAX_SQL_BYTES)}`
    assert.throws(
      () => pgsqlAst.analyze(sql),
      (error: unknown) =>
        error instanceof SqlTooLarge &&
        error.limit === PGSQL_AST_MAX_SQL_BYTES &&
        error.frontEnd === 'pgsql-ast-parser' &&
        error.message.includes('pgsql-ast-parser limit'),
    )
  })

  it('denies a parse over its time limit', () => {
    const quick = createPgsqlAstFrontEnd({ parseTimeoutMs: 200 })
    // 5,000 nested parentheses take the parser over a second.
    const started = performance.now()
    assert.throws(
      () => quick.analyze(`SELECT ${'('.repeat(5_000)}1${')'.repeat(5_000)}`),
      (error: unknown) =>
        error instanceof SqlUnsupported &&
        error.frontEnd === 'pgsql-ast-parser' &&
        error.construct === 'parse time',
    )
    assert.ok(performance.now() - started < 5_000)
    assert.equal(quick.analyze('SELECT 1').statements.length, 1)
  })

  it('takes a lower limit', () => {
    const small = createPgsqlAstFrontEnd({ maxSqlBytes: 8 })
    assert.throws(() => small.analyze('SELECT 12345'), SqlTooLarge)
    assert.throws(() => createPgsqlAstFrontEnd({ maxSqlBytes: 0 }), TypeError)
    assert.throws(() => createPgsqlAstFrontEnd({ parseTimeoutMs: 1.5 }), TypeError)
  })
})
