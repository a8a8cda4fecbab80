import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { runCli } from './run-cli.js'

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'explain')

function explain(...args: string[]) {
  return runCli(['explain', '--policy', FIXTURE, ...args])
}

describe('sqlgate explain', () => {
  it('shows each fact with its deciding line', async () => {
    const result = await explain('--roles', 'sql-read', 'SELECT name, lower(name) FROM users')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^ALLOW {2}roles sql-read {2}database default/)
    assert.match(result.stdout, /^statement 1: select$/m)
    const kind = /^│ {2}└─ statement select {2}allow {2}policy\.csv:2 {2}p, sql-read, \*, stat/m
    assert.match(result.stdout, kind)
    assert.match(result.stdout, /└─ table:public\.users select {2}allow {2}policy\.csv:3 /)
    assert.match(result.stdout, /column:public\.users\.name select {2}no column rule/)
    assert.match(result.stdout, /function:lower execute {2}allow {2}policy\.csv:4 /)
  })

  it('names the deny line of a column', async () => {
    const result = await explain('--roles', 'sql-read', 'SELECT u.ssn FROM users u')
    assert.equal(result.code, 1)
    assert.match(result.stdout, /^DENY/)
    assert.match(result.stdout, /column:public\.users\.ssn select {2}DENY {2}policy\.csv:5 /)
  })

  it('expands star from a catalog dump', async () => {
    const catalog = join(FIXTURE, 'catalog.json')
    const result = await explain('--roles', 'sql-read', '--catalog', catalog, 'SELECT * FROM users')
    assert.equal(result.code, 1)
    assert.match(result.stdout, /column:public\.users\.\* select {2}no column rule/)
    assert.match(result.stdout, / {3}├─ column:public\.users\.id select {2}no column rule/)
    const ssn = / {3}└─ column:public\.users\.ssn select {2}DENY {2}policy\.csv:5 /
    assert.match(result.stdout, ssn)
  })

  it('says when star needs the catalog', async () => {
    const result = await explain('--roles', 'sql-read', 'SELECT * FROM users')
    assert.equal(result.code, 1)
    const needs = /column:public\.users\.\* select {2}DENY {2}table:public\.users has column rules/
    assert.match(result.stdout, needs)
  })

  it('applies the database given', async () => {
    const sql = 'SELECT amount FROM salaries'
    const elsewhere = await explain('--roles', 'sql-read', '--database', 'postgresql1', sql)
    assert.equal(elsewhere.code, 0)
    const reporting = await explain('--roles', 'sql-read', '--database', 'reporting', sql)
    assert.equal(reporting.code, 1)
    assert.match(reporting.stdout, /table:public\.salaries select {2}DENY {2}policy\.csv:6 /)
  })

  it('names the floor rule', async () => {
    const result = await explain('--roles', 'sql-read', "SELECT pg_read_file('x')")
    assert.equal(result.code, 1)
    const floor = /floor:server-files \(function pg_read_file\) {2}DENY {2}built-in floor rule/
    assert.match(result.stdout, floor)
  })

  it('explains T-SQL', async () => {
    const sql = 'SELECT TOP 1 id FROM dbo.users'
    const result = await explain('--roles', 'sql-read', '--dialect', 'mssql', sql)
    assert.match(result.stdout, /table:dbo\.users select {2}DENY {2}no policy line allows/)
  })

  it('exits 2 without roles', async () => {
    const result = await explain('SELECT 1')
    assert.equal(result.code, 2)
    assert.match(result.stderr, /missing --roles/)
  })
})
