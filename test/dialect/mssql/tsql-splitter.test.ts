import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { SqlParseFailed } from '../../../src/errors.js'
import { lexTsql } from '../../../src/dialect/mssql/tsql-lexer.js'
import { splitTsqlStatements, type TsqlStatement } from '../../../src/dialect/mssql/tsql-splitter.js'

function heads(sql: string): string[] {
  const describe = (statement: TsqlStatement): string =>
    statement.kind === 'if'
      ? `IF(${describe(statement.then)}${statement.else === null ? '' : `|${describe(statement.else)}`})`
      : (statement.tokens[0]?.value ?? '')
  return splitTsqlStatements(lexTsql(sql)).map(describe)
}

describe('splitTsqlStatements', () => {
  const cases: Array<[string, string, string[]]> = [
    ['reserved word after a table', 'SELECT name FROM dbo.users REVERT; SELECT 1', ['SELECT', 'REVERT', 'SELECT']],
    ['statements without semicolons', 'SELECT 1\nWAITFOR DELAY \'01:00:00\'', ['SELECT', 'WAITFOR']],
    ['UNION ALL SELECT', 'SELECT a FROM t UNION ALL SELECT b FROM u', ['SELECT']],
    ['INSERT ... SELECT', 'INSERT INTO t (a) SELECT a FROM u', ['INSERT']],
    ['INSERT VALUES then SELECT', 'INSERT INTO t VALUES (1) SELECT 2', ['INSERT', 'SELECT']],
    ['UPDATE ... SET ... FROM', 'UPDATE o SET o.a = 1 FROM t o', ['UPDATE']],
    ['second SET', 'UPDATE t SET a = 1 SET NOCOUNT ON', ['UPDATE', 'SET']],
    ['CTE then DELETE', 'WITH x AS (SELECT 1 a) DELETE FROM t', ['WITH']],
    ['CTE then two SELECTs', 'WITH x AS (SELECT 1 a) SELECT * FROM x SELECT 2', ['WITH', 'SELECT']],
    ['table hint WITH', 'SELECT a FROM t WITH (NOLOCK) WHERE a = 1', ['SELECT']],
    ['TOP WITH TIES', 'SELECT TOP 5 WITH TIES a FROM t ORDER BY a', ['SELECT']],
    ['CASE ... ELSE ... END', 'SELECT CASE WHEN a = 1 THEN 1 ELSE 0 END FROM t', ['SELECT']],
    ['OFFSET FETCH', 'SELECT a FROM t ORDER BY a OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY', ['SELECT']],
    [
      'MERGE actions',
      'MERGE t USING s ON t.a = s.a WHEN MATCHED THEN UPDATE SET b = 1 WHEN NOT MATCHED THEN INSERT (a) VALUES (s.a);',
      ['MERGE'],
    ],
    ['IF ... ELSE', 'IF EXISTS (SELECT 1 FROM t) SELECT 1 ELSE SELECT 0', ['IF(SELECT|SELECT)']],
    ['IF with semicolon before ELSE', 'IF 1 = 1 SELECT 1; ELSE REVERT', ['IF(SELECT|REVERT)']],
    ['IF then another statement', 'IF 1 = 1 SELECT 1 SELECT 2', ['IF(SELECT)', 'SELECT']],
    ['EXECUTE AS after SELECT', "SELECT 1 EXECUTE AS LOGIN = 'sa'", ['SELECT', 'EXECUTE']],
    ['GRANT permission list', 'GRANT SELECT, INSERT ON dbo.t TO r', ['GRANT']],
    ['REVERT inside a permission list', 'GRANT SELECT REVERT', ['GRANT', 'REVERT']],
    ['qualified word after a dot', 'SELECT t.update FROM t', ['SELECT']],
    ['empty statements', ';;SELECT 1;;', ['SELECT']],
  ]
  for (const [name, sql, expected] of cases) {
    it(`splits ${name}`, () => {
      assert.deepEqual(heads(sql), expected)
    })
  }

  const failures: Array<[string, string]> = [
    ['GO', 'SELECT 1\nGO\nSELECT 2'],
    ['ELSE without IF', 'ELSE SELECT 1'],
    ['IF without a statement', 'IF 1 = 1'],
    ['unbalanced parenthesis', 'SELECT (1'],
    ['extra closing parenthesis', 'SELECT 1)'],
  ]
  for (const [name, sql] of failures) {
    it(`rejects ${name}`, () => {
      assert.throws(() => splitTsqlStatements(lexTsql(sql)), SqlParseFailed)
    })
  }
})
