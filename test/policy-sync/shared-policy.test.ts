import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'

import type { Watcher } from 'casbin'
import pg from 'pg'

import type { AuditEvent, PolicyReloadEvent } from '../../src/audit/audit-event.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import { PolicyInvalid } from '../../src/errors.js'
import { createPolicySource } from '../../src/policy/policy-source.js'
import { PostgresPolicyWatcher } from '../../src/policy/sync/postgres-policy-watcher.js'
import { pushPolicy, SharedPolicy } from '../../src/policy/sync/shared-policy.js'

const DATABASE_URL = process.env['DATABASE_URL'] ?? ''
const skip =
  DATABASE_URL === '' ? 'DATABASE_URL is not set; shared policies need a PostgreSQL server' : false

const MODEL = readFileSync(new URL('../../policies/model.conf', import.meta.url), 'utf8')

const READ_EVERYTHING = [
  'p, sql-read, *, statement, select, allow',
  'p, sql-read, *, table:*, select, allow',
  '',
].join('\n')
const DENY_SALARIES = `${READ_EVERYTHING}p, sql-read, *, table:public.salaries, select, deny\n`
const DENY_ACCOUNTS = `${READ_EVERYTHING}p, sql-read, *, table:public.accounts, select, deny\n`
const BROKEN = `${READ_EVERYTHING}p, sql-read, *, table:public.accounts, select\n`

const SALARIES = 'SELECT amount FROM salaries'
const ACCOUNTS = 'SELECT balance FROM accounts'

/** Waits until `predicate` holds, polling every 5 ms; returns the milliseconds it took. */
async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<number> {
  const start = performance.now()
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) assert.fail(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return performance.now() - start
}

function allowed(engine: PolicyEngine, sql: string): boolean {
  return engine.check({ dialect: 'postgres', roles: ['sql-read'], sql }).allowed
}

interface Instance {
  readonly engine: PolicyEngine
  readonly shared: SharedPolicy
  readonly events: AuditEvent[]
}

describe('shared policy across instances', { skip }, () => {
  // A schema of its own per run, so runs and other suites never share the adapter's table.
  const schema = `sqlgate_policy_test_${randomBytes(4).toString('hex')}`
  let admin: pg.Client
  let instanceA: Instance
  let instanceB: Instance

  const reloads = (
    instance: Instance,
    outcome: PolicyReloadEvent['outcome'],
  ): PolicyReloadEvent[] =>
    instance.events.filter(
      (event): event is PolicyReloadEvent =>
        event.type === 'policy_reload' && event.outcome === outcome,
    )

  async function openInstance(): Promise<Instance> {
    const engine = await createPolicyEngine()
    const events: AuditEvent[] = []
    const shared = await SharedPolicy.open({
      engine,
      connectionString: DATABASE_URL,
      schema,
      model: MODEL,
      audit: (event) => events.push(event),
      watcher: { reconnectDelayMs: 300 },
    })
    return { engine, shared, events }
  }

  before(async () => {
    admin = new pg.Client({ connectionString: DATABASE_URL })
    await admin.connect()
    await pushPolicy(createPolicySource(MODEL, READ_EVERYTHING, 'test'), {
      connectionString: DATABASE_URL,
      schema,
    })
    instanceA = await openInstance()
    instanceB = await openInstance()
  })

  after(async () => {
    await instanceA?.shared.close()
    await instanceB?.shared.close()
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin?.end()
  })

  it('instances start from the stored policy', () => {
    assert.equal(instanceA.engine.policyVersion, instanceB.engine.policyVersion)
    assert.equal(reloads(instanceB, 'applied')[0]?.trigger, 'start')
    assert.equal(allowed(instanceB.engine, SALARIES), true)
    assert.ok(instanceA.shared.listening)
    assert.ok(instanceB.shared.listening)
  })

  it('push on A reaches B within a second', async () => {
    const before = instanceB.engine.policyVersion
    const result = await instanceA.shared.push(createPolicySource(MODEL, DENY_SALARIES, 'edit'))
    assert.equal(result.outcome, 'applied')
    assert.equal(allowed(instanceA.engine, SALARIES), false)

    const elapsed = await waitFor(() => !allowed(instanceB.engine, SALARIES), 'B to deny salaries')
    assert.ok(elapsed < 1000, `B took ${elapsed} ms`)
    assert.notEqual(instanceB.engine.policyVersion, before)
    assert.equal(instanceB.engine.policyVersion, instanceA.engine.policyVersion)
    assert.equal(reloads(instanceB, 'applied').at(-1)?.trigger, 'notification')
    assert.equal(allowed(instanceB.engine, ACCOUNTS), true)
  })

  it('A ignores its own notification', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200))
    const triggers = instanceA.events
      .filter((event): event is PolicyReloadEvent => event.type === 'policy_reload')
      .map((event) => event.trigger)
    assert.ok(!triggers.includes('notification'), triggers.join(', '))
  })

  it('invalid push changes nothing', async () => {
    const version = instanceA.engine.policyVersion
    await assert.rejects(
      instanceA.shared.push(createPolicySource(MODEL, BROKEN, 'broken edit')),
      (error: unknown) => {
        assert.ok(error instanceof PolicyInvalid)
        assert.match(error.problems[0] ?? '', /line 3: a p line needs 5 fields/)
        return true
      },
    )
    const rows = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.casbin`)
    assert.equal(rows.rows[0]?.n, 3)
    assert.equal(instanceA.engine.policyVersion, version)
    assert.equal(instanceB.engine.policyVersion, version)
  })

  it('broken stored lines keep the old policy', async () => {
    const version = instanceB.engine.policyVersion
    const rejected = reloads(instanceB, 'rejected').length
    // Written behind sqlgate's back: a deny line without its effect.
    await admin.query(`INSERT INTO ${schema}.casbin (ptype, rule) VALUES ('p', $1::jsonb)`, [
      JSON.stringify(['sql-read', '*', 'table:public.accounts', 'select']),
    ])
    await admin.query(`NOTIFY ${instanceB.shared.channel}`)
    await waitFor(() => reloads(instanceB, 'rejected').length > rejected, 'the rejected reload')

    assert.equal(instanceB.engine.policyVersion, version)
    assert.equal(allowed(instanceB.engine, SALARIES), false)
    assert.match(reloads(instanceB, 'rejected').at(-1)?.errors[0] ?? '', /needs 5 fields/)
    await admin.query(`DELETE FROM ${schema}.casbin WHERE jsonb_array_length(rule) = 4`)
  })

  it('stray notifications do no harm', async () => {
    const version = instanceB.engine.policyVersion
    const before = instanceB.events.length
    const channel = instanceB.shared.channel
    for (const payload of [null, 'null', 'not json', '{"source":42}', '[]']) {
      const sql = payload === null ? `NOTIFY ${channel}` : `SELECT pg_notify('${channel}', $1)`
      await admin.query(sql, payload === null ? [] : [payload])
    }
    await waitFor(() => instanceB.events.length > before, 'a reload after the notifications')
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(instanceB.engine.policyVersion, version)
    assert.ok(instanceB.shared.listening)
  })

  it('push missed while disconnected arrives', async () => {
    const disconnected = (instance: Instance): number =>
      instance.events.filter(
        (event) => event.type === 'policy_sync' && event.state === 'disconnected',
      ).length
    const lostBefore = disconnected(instanceB)
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'sqlgate-policy-watcher' AND query = $1`,
      [`LISTEN ${instanceB.shared.channel}`],
    )
    await waitFor(() => disconnected(instanceB) > lostBefore, 'B to notice the lost connection')
    assert.equal(instanceB.shared.listening, false)

    // Pushed while B reconnects, so B never hears this notification and must resynchronize.
    const version = await pushPolicy(createPolicySource(MODEL, DENY_ACCOUNTS, 'edit'), {
      connectionString: DATABASE_URL,
      schema,
    })
    await waitFor(() => instanceB.engine.policyVersion === version, 'B to load the missed push')
    await waitFor(() => instanceA.engine.policyVersion === version, 'A to load the push')
    assert.equal(allowed(instanceB.engine, ACCOUNTS), false)
    assert.equal(allowed(instanceB.engine, SALARIES), true)
    assert.ok(instanceB.shared.listening)
    assert.ok(
      instanceB.events.some((event) => event.type === 'policy_sync' && event.state === 'listening'),
    )
  })
})

describe('PostgresPolicyWatcher', { skip }, () => {
  it('implements the Casbin watcher', async () => {
    const channel = `sqlgate_watch_${randomBytes(4).toString('hex')}`
    const first = await PostgresPolicyWatcher.open({ connectionString: DATABASE_URL, channel })
    const second = await PostgresPolicyWatcher.open({ connectionString: DATABASE_URL, channel })
    try {
      const asCasbinWatcher: Watcher = first
      let firstCalls = 0
      let secondCalls = 0
      first.setUpdateCallback(() => {
        firstCalls += 1
      })
      second.setUpdateCallback(() => {
        secondCalls += 1
      })
      assert.equal(await asCasbinWatcher.update(), true)
      await waitFor(() => secondCalls === 1, 'the other watcher to be called')
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(firstCalls, 0)
    } finally {
      await first.close()
      await second.close()
    }
  })

  it('rejects an invalid channel name', async () => {
    await assert.rejects(
      PostgresPolicyWatcher.open({ connectionString: DATABASE_URL, channel: 'bad; channel' }),
      TypeError,
    )
  })
})
