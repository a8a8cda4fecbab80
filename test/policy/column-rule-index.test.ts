import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { ColumnRuleIndex, widenColumnPattern } from '../../src/authorize/column-rule-index.js'
import { parsePolicyCsv } from '../../src/authorize/policy-csv.js'

describe('column rule index', () => {
  const index = new ColumnRuleIndex(`
p, sql-read, *, column:public.users.ssn, select, deny
p, sql-read, *, column:public.users.name, select, allow
p, hr, postgresql2, "column:hr.{salaries,bonuses}.amount", *, deny
p, auditor, *, column:*.*.card_number, select, deny
g, sql-write, sql-read, *
g, payroll, hr, *
`)

  const cases: readonly [string, string[], string, string, string, string, boolean][] = [
    ['a direct deny', ['sql-read'], 'postgresql1', 'public', 'users', 'select', true],
    ['another table', ['sql-read'], 'postgresql1', 'public', 'orders', 'select', false],
    ['another action', ['sql-read'], 'postgresql1', 'public', 'users', 'update', false],
    ['an inherited deny', ['sql-write'], 'postgresql1', 'public', 'users', 'select', true],
    ['a role without rules', ['admin'], 'postgresql1', 'public', 'users', 'select', false],
    ['a brace pattern', ['payroll'], 'postgresql2', 'hr', 'bonuses', 'update', true],
    ['another database', ['payroll'], 'postgresql1', 'hr', 'bonuses', 'update', false],
    ['a pattern over schemas', ['auditor'], 'x', 'sales', 'orders', 'select', true],
    ['one of several roles', ['admin', 'sql-read'], 'x', 'public', 'users', 'select', true],
  ]
  for (const [name, roles, domain, schema, table, action, expected] of cases) {
    it(`covers ${name}: ${expected}`, () => {
      assert.equal(index.covers(roles, domain, schema, table, action), expected)
    })
  }

  it('widens the column part of a pattern', () => {
    assert.equal(widenColumnPattern('column:public.users.ssn'), 'column:public.users.*')
    assert.equal(widenColumnPattern('column:public.{a.b,c}'), 'column:public.*')
    assert.equal(widenColumnPattern('column:public."a.b"'), 'column:public.*')
    assert.equal(widenColumnPattern('*'), '*')
    assert.equal(widenColumnPattern('statement'), null)
  })
})

describe('policy csv', () => {
  it('keeps line numbers and unquotes fields', () => {
    const lines = parsePolicyCsv(
      '# comment\n\np, r, *, "table:public.{a,b}", select, allow\r\ng, a, b, *\n',
    )
    assert.deepEqual(
      lines.map((line) => [line.line, line.type, ...line.fields]),
      [
        [3, 'p', 'r', '*', 'table:public.{a,b}', 'select', 'allow'],
        [4, 'g', 'a', 'b', '*'],
      ],
    )
  })

  it('keeps quotes inside a field', () => {
    const [line] = parsePolicyCsv('p, r, *, table:public."Users", select, allow')
    assert.equal(line?.fields[2], 'table:public."Users"')
  })
})
