import assert from 'node:assert/strict'
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { DEFAULT_POLICY_DIRECTORY } from '../../src/engine/create-policy-engine.js'
import { runCli } from './run-cli.js'

const BROKEN_TESTS = `cases:
  - name: sql-read selects
    roles: [sql-read]
    sql: SELECT id FROM accounts
    expect: allow
  - name: sql-read may not select
    roles: [sql-read]
    sql: SELECT id FROM accounts
    expect: deny
    reason: select on table
`

const COLUMN_POLICY = `p, sql-read, *, statement, select, allow
p, sql-read, *, table:public.*, select, allow
p, sql-read, *, column:public.users.ssn, select, deny
`

const COLUMN_TESTS = `catalog:
  public.users: [id, name, ssn]
defaults: { roles: sql-read, database: postgresql1 }
cases:
  - name: star over users is denied
    sql: SELECT * FROM users
    expect: deny
    denied: { object: column:public.users.ssn, action: select }
  - name: named columns are allowed
    sql: SELECT id, name FROM users
    expect: allow
`

describe('sqlgate test', () => {
  let directory: string

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sqlgate-policy-tests-'))
  })

  after(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  async function policyDirectory(
    name: string,
    policy: string | null,
    tests: string,
  ): Promise<string> {
    const path = join(directory, name)
    await mkdir(join(path, 'tests'), { recursive: true })
    await copyFile(join(DEFAULT_POLICY_DIRECTORY, 'model.conf'), join(path, 'model.conf'))
    const policyFile = join(path, 'policy.csv')
    if (policy === null) await copyFile(join(DEFAULT_POLICY_DIRECTORY, 'policy.csv'), policyFile)
    else await writeFile(policyFile, policy)
    await writeFile(join(path, 'tests', 'cases.yaml'), tests)
    return path
  }

  it('passes the shipped policy tests', async () => {
    const result = await runCli(['test', DEFAULT_POLICY_DIRECTORY])
    assert.equal(result.code, 0, result.stdout)
    assert.match(result.stdout, /^PASS {2}tests\/role-ladder\.yaml:\d+ {2}sql-read selects$/m)
    assert.match(result.stdout, /^\d+ passed, 0 failed$/m)
    assert.doesNotMatch(result.stdout, /^FAIL/m)
  })

  it('shows a diff for a failed case', async () => {
    const path = await policyDirectory('broken', null, BROKEN_TESTS)
    const result = await runCli(['test', path])
    assert.equal(result.code, 1)
    assert.match(result.stdout, /^PASS {2}tests\/cases\.yaml:2 {2}sql-read selects$/m)
    assert.match(result.stdout, /^FAIL {2}tests\/cases\.yaml:6 {2}sql-read may not select$/m)
    assert.match(result.stdout, /^ {6}--- expected$/m)
    assert.match(result.stdout, /^ {6}\+\+\+ actual$/m)
    assert.match(result.stdout, /^ {6}- decision: deny$/m)
    assert.match(result.stdout, /^ {6}- denial containing: "select on table"$/m)
    assert.match(result.stdout, /^ {6}\+ decision: allow$/m)
    assert.match(result.stdout, /^ {6}\+ allowed: select on table:public\.accounts by p, sql-read/m)
    assert.match(result.stdout, /^1 passed, 1 failed$/m)
  })

  it('reports an invalid case with its line', async () => {
    const path = await policyDirectory('invalid', null, 'cases:\n  - name: x\n    sql: SELECT 1\n')
    const result = await runCli(['test', path])
    assert.equal(result.code, 1)
    const problem = /^FAIL {2}tests\/cases\.yaml:2 {2}case 1: missing or invalid "roles"/m
    assert.match(result.stdout, problem)
    assert.match(result.stdout, /^0 passed, 1 failed$/m)
  })

  it('expands star from the file catalog', async () => {
    const path = await policyDirectory('columns', COLUMN_POLICY, COLUMN_TESTS)
    const result = await runCli(['test', path])
    assert.equal(result.code, 0, result.stdout)
    assert.match(result.stdout, /^2 passed, 0 failed$/m)
  })

  it('fails without test files', async () => {
    const path = join(directory, 'empty')
    await mkdir(path, { recursive: true })
    await copyFile(join(DEFAULT_POLICY_DIRECTORY, 'model.conf'), join(path, 'model.conf'))
    await copyFile(join(DEFAULT_POLICY_DIRECTORY, 'policy.csv'), join(path, 'policy.csv'))
    const result = await runCli(['test', path])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /no test cases/)
  })
})
