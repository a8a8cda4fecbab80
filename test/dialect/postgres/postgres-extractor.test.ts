import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { createLibpgQueryFrontEnd } from '../../../src/dialect/postgres/libpg-query-front-end.js'
import { SqlParseFailed, SqlUnsupported } from '../../../src/errors.js'
import type { StatementFacts } from '../../../src/extract/statement-facts.js'
import type { SqlFrontEnd } from '../../../src/parse/front-end.js'

let frontEnd: SqlFrontEnd

function single(sql: string): StatementFacts {
  const facts = frontEnd.analyze(sql)
  assert.equal(facts.statements.length, 1, `expected one statement in ${sql}`)
  return facts.statements[0] as StatementFacts
}

function tables(facts: StatementFacts): string[] {
  return facts.tables.map((table) => `${table.action} ${table.schema ?? ''}.${table.name}`).sort()
}

function functions(facts: StatementFacts): string[] {
  return facts.functions.map((fn) => `${fn.action} ${fn.schema === null ? '' : `${fn.schema}.`}${fn.name}`).sort()
}

function floors(facts: StatementFacts): string[] {
  return facts.floor.map((fact) => fact.rule).sort()
}

describe('PostgreSQL extractor', () => {
  before(async () => {
    frontEnd = await createLibpgQueryFrontEnd()
  })

  describe('kinds by effect', () => {
    const cases: readonly [string, readonly string[]][] = [
      ['SELECT 1', ['select']],
      ['WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x', ['select', 'delete']],
      ['WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x', ['select', 'insert']],
      ['EXPLAIN ANALYZE DELETE FROM t', ['explain', 'delete']],
      ['EXPLAIN (ANALYZE) UPDATE t SET a = 1', ['explain', 'update']],
      ['EXPLAIN (ANALYZE false) DELETE FROM t', ['explain']],
      ['EXPLAIN (ANALYZE off) DELETE FROM t', ['explain']],
      ['EXPLAIN DELETE FROM t', ['explain']],
      ['EXPLAIN ANALYZE SELECT * INTO t2 FROM t', ['explain', 'select', 'create']],
      ['SELECT * INTO t2 FROM t', ['select', 'create']],
      ['CREATE TABLE t2 AS SELECT * FROM t', ['create', 'select']],
      ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', ['merge']],
      ['TRUNCATE t', ['truncate']],
      ['COPY t TO STDOUT', ['copy']],
      ['CALL p(1)', ['call']],
      ['GRANT SELECT ON t TO r', ['grant']],
      ['REVOKE SELECT ON t FROM r', ['revoke']],
      ['VACUUM t', ['vacuum']],
      ['SHOW search_path', ['show']],
      ['LOCK TABLE t', ['lock']],
    ]
    for (const [sql, kinds] of cases) {
      it(sql, () => {
        assert.deepEqual([...single(sql).kinds].sort(), [...kinds].sort())
      })
    }
  })

  describe('tables and actions', () => {
    const cases: readonly [string, readonly string[]][] = [
      ['SELECT * FROM public.accounts a JOIN s.b ON a.id = b.id', ['select .b', 'select public.accounts'].map((t) => t.replace('.b', 's.b'))],
      ['WITH c AS (SELECT * FROM real_table) SELECT * FROM c', ['select .real_table']],
      // A CTE name is visible only after its definition, unless WITH RECURSIVE.
      ['WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a, b', ['select .b']],
      ['WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT * FROM r) SELECT * FROM r', []],
      ['SELECT * FROM "Mixed"."Case Table"', ['select Mixed.Case Table']],
      ['SELECT * FROM t WHERE id IN (SELECT id FROM u)', ['select .t', 'select .u']],
      ['SELECT (SELECT max(x) FROM u) FROM t', ['select .t', 'select .u']],
      ['SELECT * FROM t, LATERAL (SELECT * FROM u WHERE u.id = t.id) s', ['select .t', 'select .u']],
      ['SELECT id FROM accounts FOR UPDATE', ['lock .accounts', 'select .accounts']],
      ['SELECT a.id FROM accounts a, b FOR SHARE OF a', ['lock .accounts', 'select .accounts', 'select .b']],
      ['INSERT INTO t (a) SELECT a FROM u', ['insert .t', 'select .u']],
      ['INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2', ['insert .t', 'update .t']],
      ['UPDATE t SET a = u.a FROM u WHERE t.id = u.id', ['select .t', 'select .u', 'update .t']],
      ['DELETE FROM t USING u WHERE t.id = u.id RETURNING t.*', ['delete .t', 'select .t', 'select .u']],
      [
        'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT VALUES (s.id)',
        ['insert .t', 'select .s', 'select .t', 'update .t'],
      ],
      ['DROP TABLE a, s.b', ['drop .a', 'drop s.b']],
      ['TRUNCATE a, b', ['truncate .a', 'truncate .b']],
      ['CREATE TABLE t (id int REFERENCES parent (id))', ['create .t', 'references .parent']],
      ['CREATE VIEW v AS SELECT * FROM t', ['create .v', 'select .t']],
      ['COPY t FROM STDIN', ['insert .t']],
      ['EXPLAIN DELETE FROM t', ['select .t']],
      ['SELECT * FROM t TABLESAMPLE BERNOULLI (10)', ['select .t']],
    ]
    for (const [sql, expected] of cases) {
      it(sql, () => {
        assert.deepEqual(tables(single(sql)), [...expected].sort())
      })
    }
  })

  describe('functions anywhere', () => {
    const cases: readonly [string, readonly string[]][] = [
      ['SELECT lower(name) FROM t', ['execute lower']],
      ['SELECT * FROM generate_series(1, 3)', ['execute generate_series']],
      ['SELECT * FROM t, LATERAL unnest(t.a) u', ['execute unnest']],
      ['SELECT * FROM ROWS FROM (f(1), g(2))', ['execute f', 'execute g']],
      ['SELECT 1 FROM t WHERE x = any(array_agg_fn(1))', ['execute array_agg_fn']],
      ['SELECT 1 ORDER BY random()', ['execute random']],
      ['INSERT INTO t VALUES (upper($1)) RETURNING md5(a)', ['execute md5', 'execute upper']],
      ['SELECT pg_catalog.now()', ['execute pg_catalog.now']],
      ['SELECT nextval($1)', ['modify nextval']],
      ['SELECT count(*) FILTER (WHERE f(x)) OVER (PARTITION BY g(y)) FROM t', ['execute count', 'execute f', 'execute g']],
      ['CREATE TABLE t (id int DEFAULT nextval($$s$$))', ['modify nextval']],
    ]
    for (const [sql, expected] of cases) {
      it(sql, () => {
        assert.deepEqual(functions(single(sql)), [...expected].sort())
      })
    }
  })

  describe('columns', () => {
    it('resolves aliases', () => {
      const facts = single('SELECT a.ssn FROM users a')
      assert.deepEqual(
        facts.columns.map((column) => `${column.table}.${column.column}`),
        ['users.ssn'],
      )
    })

    it('marks star reads', () => {
      const facts = single('SELECT u.* FROM users u')
      assert.ok(facts.columns.some((column) => column.table === 'users' && column.column === '*'))
    })

    it('marks whole-row references as star', () => {
      const facts = single('SELECT row_to_json(u) FROM users u')
      assert.ok(facts.columns.some((column) => column.table === 'users' && column.column === '*'))
    })

    it('records updated and inserted columns', () => {
      const update = single('UPDATE users SET ssn = $1 WHERE id = $2')
      assert.ok(update.columns.some((column) => column.column === 'ssn' && column.action === 'update'))
      const insert = single('INSERT INTO users (id, ssn) VALUES ($1, $2)')
      assert.ok(insert.columns.some((column) => column.column === 'ssn' && column.action === 'insert'))
    })
  })

  describe('floor', () => {
    const cases: readonly [string, readonly string[]][] = [
      ['SET ROLE postgres', ['identity-change']],
      ['SET role = none', ['identity-change']],
      ['SET "role" TO DEFAULT', ['identity-change']],
      ['SET LOCAL ROLE x', ['identity-change']],
      ['RESET ROLE', ['identity-change']],
      ['SET SESSION AUTHORIZATION DEFAULT', ['identity-change']],
      ['RESET SESSION AUTHORIZATION', ['identity-change']],
      ['RESET ALL', ['identity-change']],
      ['SET search_path = evil', ['session-state']],
      ['SET transaction_read_only = off', ['transaction-control']],
      ['SET TRANSACTION READ WRITE', ['transaction-control']],
      ['SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE', ['transaction-control']],
      ['BEGIN READ WRITE', ['transaction-control']],
      ['COMMIT', ['transaction-control']],
      ['SAVEPOINT a', ['transaction-control']],
      ['DISCARD ALL', ['session-state']],
      ["SELECT set_config('search_path', 'x', true)", ['session-state']],
      ["SELECT set_config('role', 'x', false)", ['identity-change', 'session-state']],
      ['SELECT set_config($1, $2, false)', ['identity-change', 'session-state']],
      ['DO $$BEGIN NULL; END$$', ['dynamic-sql']],
      ['PREPARE p AS SELECT 1', ['dynamic-sql']],
      ['EXECUTE p', ['dynamic-sql']],
      ["SELECT query_to_xml('select 1', true, false, '')", ['dynamic-sql']],
      ["SELECT * FROM pg_read_file('/etc/passwd')", ['server-files']],
      ["SELECT lo_import('/etc/passwd')", ['server-files']],
      ["COPY t FROM '/etc/passwd'", ['server-files']],
      ["COPY (SELECT 1) TO PROGRAM 'id'", ['server-programs']],
      ["LOAD 'plugin'", ['server-programs']],
      ["ALTER SYSTEM SET archive_command = 'x'", ['server-programs']],
      ['SELECT pg_terminate_backend(1)', ['server-processes']],
      ["SELECT dblink_exec('x', 'y')", ['remote-access']],
      ['LISTEN c', ['session-state']],
      ['DECLARE c CURSOR WITH HOLD FOR SELECT 1', ['session-state']],
      ['CREATE TEMP TABLE t (a int)', ['session-state']],
      ['SELECT * INTO TEMP t FROM u', ['session-state']],
      ['SELECT pg_advisory_lock(1)', ['session-state']],
      ['EXPLAIN SELECT pg_read_file($1)', ['server-files']],
    ]
    for (const [sql, expected] of cases) {
      it(sql, () => {
        assert.deepEqual(floors(single(sql)), [...expected].sort())
      })
    }

    it('temporary table dropped at commit is allowed', () => {
      assert.deepEqual(floors(single('CREATE TEMP TABLE t (a int) ON COMMIT DROP')), [])
    })
  })

  describe('statement boundaries', () => {
    const cases: readonly [string, number][] = [
      ["SELECT 1 /* ' */ ; DELETE FROM t; -- ' */", 2],
      ["SELECT '\\'; DELETE FROM t; --'", 2],
      ["SELECT E'\\''; DELETE FROM t; --'", 2],
      ["SELECT E'\\'; DELETE FROM t; --'", 1],
      ['SELECT $$ ; DELETE FROM t; $$', 1],
      ['SELECT $tag$ $$ ; $tag$; DELETE FROM t', 2],
      ['SELECT 1 /* nested /* comment */ ; DELETE */ ', 1],
      ['SELECT "a;b" FROM t', 1],
    ]
    for (const [sql, count] of cases) {
      it(sql, () => {
        assert.equal(frontEnd.analyze(sql).statements.length, count)
      })
    }
  })

  describe('failures deny', () => {
    it('syntax error is SqlParseFailed', () => {
      assert.throws(() => frontEnd.analyze('SELEC 1'), SqlParseFailed)
    })

    it('parse error message leaves out the input', () => {
      try {
        frontEnd.analyze("SELECT 'secret-value")
        assert.fail('expected a parse failure')
      } catch (error) {
        assert.ok(error instanceof SqlParseFailed)
        assert.ok(!error.message.includes('secret-value'), error.message)
      }
    })

    it('empty text is SqlParseFailed', () => {
      assert.throws(() => frontEnd.analyze(''), SqlParseFailed)
    })

    it('unknown node type is SqlUnsupported', () => {
      try {
        frontEnd.analyze('ALTER TEXT SEARCH DICTIONARY d (x = 1)')
        assert.fail('expected SqlUnsupported')
      } catch (error) {
        assert.ok(error instanceof SqlUnsupported, String(error))
        assert.equal(error.code, 'ERR_SQL_UNSUPPORTED')
        assert.equal(error.construct, 'AlterTSDictionaryStmt')
      }
    })
  })
})
