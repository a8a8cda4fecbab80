import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { PolicyInvalid } from '../../src/errors.js'
import { readRowLimits, RowLimits } from '../../src/policy/row-limits.js'

const LIMITS = `# role, database, max_rows
sql-read, *, 1000
sql-read, reporting, 50000
contractor, *, 10
`

describe('row limits', () => {
  const limits = RowLimits.parse(LIMITS)

  it('finds the limit of a role', () => {
    assert.equal(limits.limitFor(['sql-read'], 'postgresql1'), 1000)
  })

  it('takes the smallest of matching lines', () => {
    assert.equal(limits.limitFor(['sql-read'], 'reporting'), 1000)
  })

  it('takes the smallest of several roles', () => {
    assert.equal(limits.limitFor(['sql-read', 'contractor'], 'postgresql1'), 10)
  })

  it('leaves unlisted roles unlimited', () => {
    assert.equal(limits.limitFor(['admin'], 'postgresql1'), null)
  })

  it('does not apply to inheriting roles', () => {
    assert.equal(limits.limitFor(['sql-write'], 'postgresql1'), null)
  })

  it('lists every malformed line', () => {
    const text = 'sql-read, *, 0\nsql-write, *\nadmin, *, 12x\n'
    assert.throws(
      () => RowLimits.parse(text, 'limits.csv'),
      (error: unknown) => {
        assert.ok(error instanceof PolicyInvalid)
        assert.equal(error.code, 'ERR_POLICY_INVALID')
        assert.deepEqual(
          error.problems.map((problem) => problem.split(':').slice(0, 2).join(':')),
          ['limits.csv:1', 'limits.csv:2', 'limits.csv:3'],
        )
        return true
      },
    )
  })

  it('reads limits.csv from a directory', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sqlgate-limits-'))
    try {
      assert.equal((await readRowLimits(directory)).lines.length, 0)
      await writeFile(join(directory, 'limits.csv'), LIMITS)
      assert.equal((await readRowLimits(directory)).limitFor(['contractor'], 'x'), 10)
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})
