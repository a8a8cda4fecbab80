import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { openTestDatabase, type TestDatabase } from '../support/test-database.js'
import { runCli } from './run-cli.js'

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'policies')

describe('sqlgate lint', () => {
  it('exits 0 on the shipped policy', async () => {
    const result = await runCli(['lint'])
    assert.equal(result.code, 0, result.stdout)
    assert.match(result.stdout, /^0 error\(s\), \d+ warning\(s\)$/m)
  })

  it('exits 1 with file and line on errors', async () => {
    const result = await runCli(['lint', join(FIXTURES, 'unknown-action')])
    assert.equal(result.code, 1)
    assert.match(result.stdout, /^policy\.csv:2: error \[unknown-action\] action "selct"/m)
  })

  it('exits 0 on warnings only', async () => {
    const result = await runCli(['lint', join(FIXTURES, 'duplicate-line')])
    assert.equal(result.code, 0)
    assert.match(result.stdout, /^policy\.csv:3: warning \[duplicate-line\] same as line 1$/m)
  })

  it('prints JSON findings', async () => {
    const result = await runCli(['lint', '--json', join(FIXTURES, 'role-cycle')])
    const findings = JSON.parse(result.stdout) as { check: string; line: number }[]
    assert.deepEqual(
      findings.map((finding) => [finding.check, finding.line]),
      [['role-cycle', 3]],
    )
  })

  it('reads a catalog dump', async () => {
    const directory = join(FIXTURES, 'no-catalog-match')
    const result = await runCli(['lint', '--catalog', join(directory, 'catalog.json'), directory])
    assert.equal(result.code, 0)
    assert.match(result.stdout, /^policy\.csv:5: warning \[no-catalog-match\]/m)
  })

  it('exits 2 on an unreadable catalog', async () => {
    const directory = join(FIXTURES, 'no-catalog-match')
    const result = await runCli(['lint', '--catalog', join(directory, 'missing.json'), directory])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /reading the catalog failed/)
  })

  describe('with a live catalog', () => {
    let database: TestDatabase
    let url: string

    before(async () => {
      database = await openTestDatabase()
      const config = database.moduleConfig
      url =
        process.env['DATABASE_URL'] ||
        `postgres://${config.user}@${config.host}:${config.port}/${config.database}`
      await database.admin.query(
        'CREATE TABLE IF NOT EXISTS public.lint_users (id int PRIMARY KEY, name text, ssn text)',
      )
    })

    after(async () => {
      await database.close()
    })

    it('reads tables from the database', async () => {
      const directory = join(FIXTURES, 'no-catalog-match')
      const result = await runCli(['lint', '--catalog', url, directory])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /"table:public\.acounts" matches no table/)
    })
  })
})
