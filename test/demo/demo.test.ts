import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'

describe('demo', () => {
  it('prints the decision table on embedded PGlite', () => {
    const environment = { ...process.env }
    delete environment['DATABASE_URL']
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'demo/main.ts'], {
      env: environment,
      encoding: 'utf8',
      timeout: 120_000,
    })
    assert.equal(run.status, 0, run.stderr)

    const lines = run.stdout.split('\n')
    assert.match(lines[0] ?? '', /embedded PGlite/)
    const row = (prefix: string): string => {
      const found = lines.find((line) => line.includes(prefix))
      assert.ok(found, `no row for ${prefix}`)
      return found
    }
    assert.match(row('SELECT region, count(*)'), /\| ALLOW +\| 4 /)
    assert.match(row('DELETE FROM orders WHERE id'), /\| DENY /)
    assert.match(row('WITH gone AS (DELETE'), /\| DENY /)
    assert.match(row('FROM payroll'), /table:shop\.payroll/)
    assert.match(row("set_config('role'"), /floor:identity-change/)
    assert.match(row('DROP TABLE orders; --'), /floor:multiple-statements/)
    assert.match(row('INSERT INTO orders'), /\| ALLOW +\| 1 changed/)
    assert.match(row('DELETE FROM customers'), /database refused it.*42501/)
    assert.match(row('SET ROLE postgres'), /floor:identity-change/)
    assert.match(row('mallory'), /ERR_TOKEN_INVALID/)
  })
})
