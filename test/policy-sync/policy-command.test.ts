import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'

import pg from 'pg'

import { main } from '../../src/cli/main.js'

const DATABASE_URL = process.env['DATABASE_URL'] ?? ''
const skip =
  DATABASE_URL === '' ? 'DATABASE_URL is not set; policy push needs a PostgreSQL server' : false

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

async function run(args: readonly string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await main(['node', 'sqlgate', ...args], {
    stdin: Readable.from(['']),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  })
  return { code, stdout, stderr }
}

async function policyDirectory(policy: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'sqlgate-push-'))
  const model = new URL('../../policies/model.conf', import.meta.url)
  await copyFile(model, join(directory, 'model.conf'))
  await writeFile(join(directory, 'policy.csv'), policy)
  return directory
}

describe('sqlgate policy push', () => {
  const schema = `sqlgate_policy_cli_${randomBytes(4).toString('hex')}`
  const directories: string[] = []

  before(async () => {
    directories.push(await policyDirectory('p, sql-read, *, statement, select, allow\n'))
    directories.push(await policyDirectory('p, sql-read, *, statement, select\nx, y\n'))
  })

  after(async () => {
    for (const directory of directories) await rm(directory, { recursive: true, force: true })
    if (DATABASE_URL === '') return
    const admin = new pg.Client({ connectionString: DATABASE_URL })
    await admin.connect()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  })

  it('exits 2 without a database URL', async () => {
    const saved = process.env['SQLGATE_DATABASE_URL']
    delete process.env['SQLGATE_DATABASE_URL']
    try {
      const result = await run(['policy', 'push', directories[0] ?? ''])
      assert.equal(result.code, 2)
      assert.match(result.stderr, /missing --database-url/)
    } finally {
      if (saved !== undefined) process.env['SQLGATE_DATABASE_URL'] = saved
    }
  })

  it('exits 2 on an invalid log level', async () => {
    const args = ['--database-url', 'postgres://x', '--log-level', 'loud']
    const result = await run(['policy', 'push', 'x', ...args])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /invalid log level "loud"/)
  })

  it('stores the lines and prints the version', { skip }, async () => {
    const args = ['--database-url', DATABASE_URL, '--schema', schema]
    const result = await run(['policy', 'push', directories[0] ?? '', ...args])
    assert.equal(result.code, 0, result.stderr)
    const expected = new RegExp(`^pushed policy version [0-9a-f]{16} to postgres:${schema}\\n$`)
    assert.match(result.stdout, expected)

    const logLine = JSON.parse(result.stderr.trim()) as Record<string, unknown>
    assert.equal(logLine['msg'], 'policy pushed')
    assert.equal(logLine['level'], 30)

    const admin = new pg.Client({ connectionString: DATABASE_URL })
    await admin.connect()
    try {
      const rows = await admin.query(`SELECT ptype, rule FROM ${schema}.casbin`)
      const rule = ['sql-read', '*', 'statement', 'select', 'allow']
      assert.deepEqual(rows.rows, [{ ptype: 'p', rule }])
    } finally {
      await admin.end()
    }
  })

  it('exits 1 and lists the problems of a bad policy', { skip }, async () => {
    const args = ['--database-url', DATABASE_URL, '--schema', schema, '--log-level', 'silent']
    const result = await run(['policy', 'push', directories[1] ?? '', ...args])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /line 1: a p line needs 5 fields after the type, found 4/)
    assert.match(result.stderr, /line 2: unknown policy type "x"/)
    assert.equal(result.stdout, '')
  })

  it('exits 2 when the database is unreachable', async () => {
    const url = 'postgres://sqlgate_nobody:secret-password@127.0.0.1:1/none'
    const result = await run(['policy', 'push', directories[0] ?? '', '--database-url', url])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /the push failed/)
    assert.ok(!result.stderr.includes('secret-password'))
  })
})
