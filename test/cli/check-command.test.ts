import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'

import { main } from '../../src/cli/main.js'

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

async function run(args: readonly string[], input = ''): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await main(['node', 'sqlgate', ...args], {
    stdin: Readable.from([input]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  })
  return { code, stdout, stderr }
}

describe('sqlgate check', () => {
  it('exits 0 on allow', async () => {
    const result = await run(['check', '--roles', 'sql-read', 'SELECT * FROM accounts'])
    assert.equal(result.code, 0)
    assert.match(result.stdout, /^ALLOW/)
  })

  it('exits 1 on deny and names the fact', async () => {
    const result = await run(['check', '--roles', 'sql-read', 'DELETE FROM accounts'])
    assert.equal(result.code, 1)
    assert.match(result.stdout, /^DENY/)
    assert.match(result.stdout, /delete on table:public\.accounts/)
  })

  it('exits 2 without roles', async () => {
    const result = await run(['check', 'SELECT 1'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /missing --roles/)
  })

  it('exits 2 on an unknown dialect', async () => {
    const result = await run(['check', '--dialect', 'oracle', '--roles', 'sql-read', 'SELECT 1'])
    assert.equal(result.code, 2)
  })

  it('prints JSON with --json', async () => {
    const result = await run(['check', '--json', '--roles', 'sql-read', 'RESET ROLE'])
    assert.equal(result.code, 1)
    const output = JSON.parse(result.stdout) as { decision: string; reasons: string[] }
    assert.equal(output.decision, 'deny')
    assert.ok(output.reasons.some((reason) => reason.includes('floor:identity-change')))
  })

  it('decides one case per line with --jsonl', async () => {
    const input = [
      JSON.stringify({ dialect: 'postgres', roles: 'sql-read', sql: 'SELECT 1' }),
      JSON.stringify({ dialect: 'postgresql', roles: ['sql-read'], sql: 'DELETE FROM t' }),
      'not json',
      JSON.stringify({ dialect: 'postgres', roles: 'sql-write,sql-read', sql: 'DELETE FROM t' }),
      JSON.stringify({ dialect: 'postgresql', role: 'sql-read', sql: 'DELETE FROM t' }),
    ].join('\n')
    const result = await run(['check', '--jsonl'], input)
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { decision: string })
    assert.deepEqual(
      lines.map((line) => line.decision),
      ['allow', 'deny', 'error', 'allow', 'deny'],
    )
    assert.equal(result.code, 2)
  })
})
