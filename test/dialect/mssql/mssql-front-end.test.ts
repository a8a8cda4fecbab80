import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createMssqlFrontEnd } from '../../../src/dialect/mssql/mssql-front-end.js'
import { isSqlgateError } from '../../../src/errors.js'
import type { StatementFacts } from '../../../src/extract/statement-facts.js'

const frontEnd = createMssqlFrontEnd()

function only(sql: string): StatementFacts {
  const facts = frontEnd.analyze(sql)
  assert.equal(facts.statements.length, 1, 'statement count')
  return facts.statements[0] as StatementFacts
}

function tables(statement: StatementFacts): string[] {
  return statement.tables.map((table) => `${table.schema ?? '-'}.${table.name}:${table.action}`)
}

function columns(statement: StatementFacts): string[] {
  return statement.columns.map(
    (column) => `${column.schema ?? '-'}.${column.table}.${column.column}:${column.action}`,
  )
}

function floor(statement: StatementFacts): string[] {
  return statement.floor.map((fact) => fact.rule)
}

describe('mssql front end', () => {
  it('reports its name and dialect', () => {
    assert.equal(frontEnd.name, 'node-sql-parser+tsql-lexer')
    assert.equal(frontEnd.dialect, 'mssql')
    assert.equal(frontEnd.analyze('SELECT 1').frontEnd, 'node-sql-parser+tsql-lexer')
  })

  it('reads SELECT*FROM', () => {
    const statement = only('SELECT*FROM dbo.users')
    assert.equal(statement.kind, 'select')
    assert.deepEqual(tables(statement), ['dbo.users:select'])
    assert.deepEqual(columns(statement), ['dbo.users.*:select'])
  })

  it('folds bracketed names to lower case', () => {
    const statement = only('SELECT [u].[Id] FROM [dbo].[Users] AS [u]')
    assert.deepEqual(tables(statement), ['dbo.users:select'])
    assert.deepEqual(columns(statement), ['dbo.users.id:select'])
  })

  it('leaves an unqualified table without schema', () => {
    assert.deepEqual(tables(only('SELECT id FROM Users')), ['-.users:select'])
  })

  it('reads TOP and NOLOCK as a plain read', () => {
    const statement = only('SELECT TOP (10) Id FROM dbo.Users WITH (NOLOCK) ORDER BY Id')
    assert.deepEqual(tables(statement), ['dbo.users:select'])
    assert.deepEqual(floor(statement), [])
  })

  it('reports lock hints as a lock', () => {
    const statement = only('SELECT Id FROM dbo.Users WITH (UPDLOCK, ROWLOCK) WHERE Id = 1')
    assert.deepEqual(tables(statement), ['dbo.users:select', 'dbo.users:lock'])
  })

  it('denies an unknown table hint', () => {
    assert.throws(
      () => frontEnd.analyze('SELECT Id FROM dbo.Users WITH (FANCYLOCK)'),
      (error: unknown) => isSqlgateError(error) && error.code.startsWith('ERR_SQL_'),
    )
  })

  it('reads OUTPUT INSERTED as a read of the target', () => {
    const statement = only(
      'INSERT INTO [dbo].[Users] ([Name]) OUTPUT INSERTED.[Id] VALUES (@Name)',
    )
    assert.equal(statement.kind, 'insert')
    assert.deepEqual(tables(statement), ['dbo.users:insert', 'dbo.users:select'])
    assert.ok(columns(statement).includes('dbo.users.id:select'))
    assert.ok(columns(statement).includes('dbo.users.name:insert'))
  })

  it('reads OUTPUT of a constant', () => {
    const statement = only('UPDATE [Users] SET [Name] = @p0 OUTPUT 1 WHERE [Id] = @p1')
    assert.deepEqual(tables(statement), ['-.users:update'])
  })

  it('denies OUTPUT INTO', () => {
    assert.throws(() => frontEnd.analyze('DELETE FROM dbo.t OUTPUT DELETED.* INTO dbo.log'), {
      code: 'ERR_SQL_UNSUPPORTED',
    })
  })

  it('reads MERGE actions', () => {
    const statement = only(
      'MERGE dbo.Accounts AS target USING (SELECT @Id AS Id FROM dbo.Staging) AS source ' +
        'ON target.Id = source.Id WHEN MATCHED THEN UPDATE SET Balance = 0 ' +
        'WHEN NOT MATCHED BY SOURCE THEN DELETE ' +
        'WHEN NOT MATCHED THEN INSERT (Id) VALUES (source.Id);',
    )
    assert.equal(statement.kind, 'merge')
    assert.deepEqual(statement.kinds, ['merge'])
    assert.deepEqual(tables(statement).sort(), [
      'dbo.accounts:delete',
      'dbo.accounts:insert',
      'dbo.accounts:select',
      'dbo.accounts:update',
      'dbo.staging:select',
    ])
  })

  it('reads MERGE with hints, conditions and $action', () => {
    const statement = only(
      'MERGE dbo.t WITH (HOLDLOCK) AS t USING dbo.s AS s ON t.id = s.id ' +
        'WHEN MATCHED THEN UPDATE SET t.v = s.v ' +
        'WHEN NOT MATCHED BY TARGET THEN INSERT (id, v) VALUES (s.id, s.v) ' +
        'WHEN NOT MATCHED BY SOURCE AND t.v > 0 THEN DELETE ' +
        'OUTPUT $action, INSERTED.id;',
    )
    assert.deepEqual(tables(statement).sort(), [
      'dbo.s:select',
      'dbo.t:delete',
      'dbo.t:insert',
      'dbo.t:lock',
      'dbo.t:select',
      'dbo.t:update',
    ])
    assert.ok(columns(statement).includes('dbo.t.id:select'))
  })

  it('keeps CTE names out of the tables', () => {
    const statement = only(
      'WITH Ranked AS (SELECT Id FROM dbo.Orders) SELECT r.Id FROM Ranked r JOIN dbo.Users u ON u.Id = r.Id',
    )
    assert.deepEqual(tables(statement), ['dbo.orders:select', 'dbo.users:select'])
  })

  it('reads SELECT INTO as create', () => {
    const statement = only('SELECT * INTO dbo.stolen FROM dbo.users')
    assert.equal(statement.kind, 'create')
    assert.deepEqual(tables(statement), ['dbo.users:select', 'dbo.stolen:create'])
  })

  it('reports SELECT INTO a temp table as session state', () => {
    const statement = only('SELECT * INTO #copy FROM dbo.users')
    assert.equal(statement.kind, 'create')
    assert.deepEqual(floor(statement), ['session-state'])
  })

  it('reads UPDATE ... FROM joins', () => {
    const statement = only(
      "UPDATE o SET o.Status = 'x' FROM dbo.Orders o INNER JOIN dbo.Users u ON u.Id = o.UserId",
    )
    assert.deepEqual(tables(statement), ['dbo.orders:update', 'dbo.users:select'])
    assert.ok(columns(statement).includes('dbo.orders.status:update'))
  })

  it('reads DELETE ... FROM joins', () => {
    const statement = only(
      'DELETE oi FROM dbo.OrderItems oi INNER JOIN dbo.Orders o ON o.Id = oi.OrderId',
    )
    assert.deepEqual(tables(statement), ['dbo.orderitems:delete', 'dbo.orders:select'])
  })

  it('reads a comma join after an ON condition', () => {
    const statement = only('SELECT 1 FROM dbo.users u JOIN dbo.orders o ON o.uid = u.id, customers')
    assert.deepEqual(tables(statement), [
      'dbo.users:select',
      'dbo.orders:select',
      '-.customers:select',
    ])
  })

  it('reads DELETE TOP', () => {
    const statement = only('DELETE TOP (1000) FROM dbo.AuditLog WHERE CreatedAt < @cutoff')
    assert.deepEqual(tables(statement), ['dbo.auditlog:delete'])
  })

  it('reads table-valued functions in FROM', () => {
    const statement = only("SELECT value FROM STRING_SPLIT(@ids, ',') s")
    assert.deepEqual(statement.tables, [])
    assert.deepEqual(
      statement.functions.map((fn) => fn.name),
      ['string_split'],
    )
  })

  it('reads subqueries and correlated columns', () => {
    const statement = only(
      'SELECT u.Id FROM dbo.Users u WHERE EXISTS (SELECT 1 FROM dbo.Orders o WHERE o.UserId = u.Id)',
    )
    assert.deepEqual(tables(statement), ['dbo.users:select', 'dbo.orders:select'])
    assert.ok(columns(statement).includes('dbo.users.id:select'))
  })

  it('reads system functions written with @@', () => {
    const statement = only('SELECT @@TRANCOUNT AS depth, @@ROWCOUNT rows_read')
    assert.equal(statement.kind, 'select')
    assert.deepEqual(statement.tables, [])
  })

  it('reads OPENJSON with a column list', () => {
    const statement = only(
      "SELECT [o].[Id] FROM [Orders] AS [o] WHERE [o].[Id] IN (SELECT [i].[value] FROM OPENJSON(@ids) WITH ([value] int '$') AS [i])",
    )
    assert.deepEqual(tables(statement), ['-.orders:select'])
    assert.deepEqual(
      statement.functions.map((fn) => fn.name),
      ['openjson'],
    )
  })

  it('reads COLLATE', () => {
    const statement = only("SELECT Id FROM dbo.Users WHERE Name = N'x' COLLATE Latin1_General_CS_AS")
    assert.deepEqual(tables(statement), ['dbo.users:select'])
  })

  it('reads name = expression as an alias', () => {
    const statement = only('SELECT total = SUM(amount) FROM dbo.payroll ORDER BY total')
    assert.deepEqual(columns(statement), ['dbo.payroll.amount:select'])
  })

  it('resolves ORDER BY to select-list aliases first', () => {
    const statement = only('SELECT name AS ssn FROM dbo.users ORDER BY ssn')
    assert.deepEqual(columns(statement), ['dbo.users.name:select'])
  })

  it('reads INSERT DEFAULT VALUES', () => {
    const statement = only('INSERT INTO dbo.t OUTPUT INSERTED.id DEFAULT VALUES')
    assert.deepEqual(tables(statement), ['dbo.t:insert', 'dbo.t:select'])
    assert.ok(columns(statement).includes('dbo.t.*:insert'))
  })

  it('reads DELETE without FROM', () => {
    assert.deepEqual(tables(only('DELETE dbo.t WHERE id = 1')), ['dbo.t:delete'])
  })

  it('reports NEXT VALUE FOR as a modifying function', () => {
    const statement = only('SELECT NEXT VALUE FOR dbo.OrderNumbers')
    assert.deepEqual(statement.functions, [{ schema: null, name: 'next value for', action: 'modify' }])
  })

  it('reports EXEC of a procedure as a call', () => {
    const statement = only("EXEC dbo.usp_report @from = '2024-01-01', @rows = @n OUTPUT")
    assert.equal(statement.kind, 'call')
    assert.deepEqual(statement.functions, [{ schema: 'dbo', name: 'usp_report', action: 'execute' }])
  })

  it('merges IF branches and the condition', () => {
    const statement = only(
      'IF EXISTS (SELECT 1 FROM dbo.Users WHERE Id = @id) SELECT 1 ELSE DELETE FROM dbo.Log',
    )
    assert.deepEqual(statement.kinds, ['select', 'delete'])
    assert.deepEqual(tables(statement), ['dbo.log:delete', 'dbo.users:select'])
  })

  it('reports statement spans', () => {
    const sql = "SELECT 1 /* c */ ;\nIF 1 = 1 SELECT 'x' ELSE SELECT 2 -- end"
    const spans = frontEnd.analyze(sql).statements.map((statement) => statement.span)
    assert.deepEqual(
      spans.map((span) => sql.slice(span?.start, span?.end)),
      ['SELECT 1', "IF 1 = 1 SELECT 'x' ELSE SELECT 2"],
    )
  })

  it('splits a statement hidden behind a backslash quote', () => {
    const facts = frontEnd.analyze("SELECT '\\'; DELETE FROM dbo.users; --'")
    assert.deepEqual(
      facts.statements.map((statement) => statement.kind),
      ['select', 'delete'],
    )
  })

  it('keeps keywords inside literals as data', () => {
    const statement = only("SELECT 'please DELETE FROM dbo.users; REVERT' AS note FROM dbo.users")
    assert.deepEqual(tables(statement), ['dbo.users:select'])
    assert.deepEqual(floor(statement), [])
  })

  const floorCases: Array<[string, string, string]> = [
    ['REVERT', 'REVERT', 'identity-change'],
    ['EXECUTE AS USER', "EXECUTE AS USER = 'dbo'", 'identity-change'],
    ['EXECUTE AS LOGIN', "EXEC AS LOGIN = 'sa'", 'identity-change'],
    ['SETUSER', "SETUSER 'dbo'", 'identity-change'],
    ['USE', 'USE master', 'session-state'],
    ['SET option', 'SET NOCOUNT ON', 'session-state'],
    ['EXEC of a string', "EXEC('DELETE FROM dbo.users')", 'dynamic-sql'],
    ['EXEC of a variable', 'EXEC @sql', 'dynamic-sql'],
    ['sp_executesql', "EXEC sp_executesql N'SELECT 1'", 'dynamic-sql'],
    ['sp_prepexec', 'EXEC sp_prepexec @h OUTPUT, NULL, N\'SELECT 1\'', 'dynamic-sql'],
    ['sp_cursoropen', 'EXEC sp_cursoropen @c OUTPUT, N\'SELECT 1\'', 'dynamic-sql'],
    ['xp_cmdshell', "EXEC master..xp_cmdshell 'whoami'", 'server-programs'],
    ['OPENROWSET', "SELECT * FROM OPENROWSET('SQLNCLI', 'Server=x;', 'SELECT 1') AS r", 'remote-access'],
    ['OPENQUERY', "SELECT * FROM OPENQUERY(srv, 'SELECT 1')", 'remote-access'],
    ['OPENDATASOURCE', "SELECT * FROM OPENDATASOURCE('SQLNCLI', 'x').db.dbo.t", 'remote-access'],
    ['OPENROWSET BULK', "SELECT * FROM OPENROWSET(BULK 'C:\\x.txt', SINGLE_CLOB) AS f", 'server-files'],
    ['BULK INSERT', "BULK INSERT dbo.users FROM 'C:\\x.csv'", 'server-files'],
    ['WAITFOR', "WAITFOR DELAY '01:00:00'", 'denial-of-service'],
    ['SHUTDOWN', 'SHUTDOWN WITH NOWAIT', 'denial-of-service'],
    ['KILL', 'KILL 53', 'server-processes'],
    ['DBCC', 'DBCC FREEPROCCACHE', 'server-processes'],
    ['RECONFIGURE', 'RECONFIGURE', 'server-processes'],
    ['BEGIN TRAN', 'BEGIN TRAN', 'transaction-control'],
    ['COMMIT', 'COMMIT', 'transaction-control'],
    ['ROLLBACK', 'ROLLBACK TRANSACTION', 'transaction-control'],
    ['SAVE TRAN', 'SAVE TRAN sp1', 'transaction-control'],
    ['four-part name', 'SELECT * FROM srv.db.dbo.users', 'remote-access'],
    ['EXEC AT', "EXEC dbo.p 1 AT linked_srv", 'remote-access'],
  ]
  for (const [name, sql, rule] of floorCases) {
    it(`reports ${name} as ${rule}`, () => {
      const rules = frontEnd.analyze(sql).statements.flatMap((statement) => floor(statement))
      assert.ok(rules.includes(rule), `floor rules: ${rules.join(', ')}`)
    })
  }

  const denied: Array<[string, string, string]> = [
    ['GO', 'SELECT 1\nGO', 'ERR_SQL_PARSE_FAILED'],
    ['three-part name', 'SELECT * FROM otherdb.dbo.payroll', 'ERR_SQL_UNSUPPORTED'],
    ['table variable', 'SELECT * FROM @t', 'ERR_SQL_UNSUPPORTED'],
    ['BEGIN END block', 'BEGIN SELECT 1 END', 'ERR_SQL_UNSUPPORTED'],
    ['WHILE', 'WHILE 1 = 1 SELECT 1', 'ERR_SQL_UNSUPPORTED'],
    ['bare procedure call', "sp_executesql N'DELETE FROM dbo.users'", 'ERR_SQL_UNSUPPORTED'],
    ['EXEC with a subquery argument', 'EXEC dbo.p @a = (SELECT 1)', 'ERR_SQL_UNSUPPORTED'],
    ['SET @variable', 'SET @x = (SELECT amount FROM dbo.payroll)', 'ERR_SQL_UNSUPPORTED'],
    ['CREATE PROCEDURE', 'CREATE PROCEDURE p AS DELETE FROM dbo.users', 'ERR_SQL_UNSUPPORTED'],
    ['INSERT EXEC', "INSERT INTO dbo.t EXEC('SELECT 1')", 'ERR_SQL_PARSE_FAILED'],
    ['ODBC escape', '{call dbo.p}', 'ERR_SQL_PARSE_FAILED'],
    ['odd quoted identifier', "SELECT [a'b] FROM dbo.t", 'ERR_SQL_UNSUPPORTED'],
    ['reserved word as a table alias', 'SELECT name FROM dbo.users FILE', 'ERR_SQL_PARSE_FAILED'],
    ['reserved word as a column alias', 'SELECT name LINENO FROM dbo.users', 'ERR_SQL_PARSE_FAILED'],
  ]
  for (const [name, sql, code] of denied) {
    it(`denies ${name}`, () => {
      assert.throws(
        () => frontEnd.analyze(sql),
        (error: unknown) =>
          isSqlgateError(error) && error.code === code && !error.message.includes(sql),
      )
    })
  }

  it('allows a bracketed reserved word as an alias', () => {
    assert.deepEqual(tables(only('SELECT name AS [key] FROM dbo.users')), ['dbo.users:select'])
  })

  it('names the construct it does not support', () => {
    assert.throws(() => frontEnd.analyze('WHILE 1 = 1 SELECT 1'), { construct: 'WHILE' })
  })

  it('fingerprints without literals', () => {
    assert.equal(
      frontEnd.fingerprint?.("SELECT 'secret', 42 FROM [dbo].[t] -- x"),
      'SELECT ? , ? FROM [dbo] . [t]',
    )
    assert.equal(frontEnd.fingerprint?.("SELECT 'open"), null)
  })
})
