import assert from 'node:assert/strict'
import { copyFile, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'

import type { AuditEvent, PolicyReloadEvent } from '../../src/audit/audit-event.js'
import { CasbinAuthorizer } from '../../src/authorize/casbin-authorizer.js'
import { createPolicyEngine } from '../../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../../src/engine/policy-engine.js'
import { createLogger } from '../../src/logging/create-logger.js'
import { createPinoAuditSink } from '../../src/logging/pino-audit-sink.js'
import {
  watchPolicyDirectory,
  type PolicyDirectoryWatch,
} from '../../src/policy/policy-directory-watcher.js'
import { PolicyReloader } from '../../src/policy/policy-reloader.js'
import { createPolicySource } from '../../src/policy/policy-source.js'

const MODEL_FILE = new URL('../../policies/model.conf', import.meta.url)

const READ_EVERYTHING = [
  'p, sql-read, *, statement, select, allow',
  'p, sql-read, *, table:*, select, allow',
  '',
].join('\n')

const DENY_SALARIES = `${READ_EVERYTHING}p, sql-read, *, table:public.salaries, select, deny\n`

/** A deny line without its effect and a line of an unknown type: both are lint errors. */
const BROKEN = `${READ_EVERYTHING}p, sql-read, *, table:public.accounts, select\nq, sql-read, x\n`

/** Waits until `predicate` holds, polling every 10 ms, or fails after `timeoutMs`. */
async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function allowed(engine: PolicyEngine, sql: string): boolean {
  return engine.check({ dialect: 'postgres', roles: ['sql-read'], sql }).allowed
}

describe('policy directory hot reload', () => {
  let directory: string
  let engine: PolicyEngine
  let watch: PolicyDirectoryWatch
  const events: PolicyReloadEvent[] = []
  let logText = ''

  const reloadEvents = (outcome: PolicyReloadEvent['outcome']): PolicyReloadEvent[] =>
    events.filter((event) => event.outcome === outcome)

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sqlgate-policy-'))
    await copyFile(MODEL_FILE, join(directory, 'model.conf'))
    await writeFile(join(directory, 'policy.csv'), READ_EVERYTHING)
    engine = await createPolicyEngine({ policyDirectory: directory })

    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logText += chunk.toString()
          done()
        },
      }),
    })
    const logSink = createPinoAuditSink(logger)
    const audit = (event: AuditEvent): void => {
      if (event.type === 'policy_reload') events.push(event)
      logSink(event)
    }
    watch = await watchPolicyDirectory({ engine, directory, debounceMs: 30, audit })
  })

  after(async () => {
    watch.close()
    await rm(directory, { recursive: true, force: true })
  })

  it('starts with an unchanged reload', () => {
    assert.equal(events.length, 1)
    assert.equal(events[0]?.outcome, 'unchanged')
    assert.equal(events[0]?.trigger, 'start')
    assert.equal(allowed(engine, 'SELECT amount FROM salaries'), true)
  })

  it('valid edit changes decisions and version', async () => {
    const before = engine.policyVersion
    await writeFile(join(directory, 'policy.csv'), DENY_SALARIES)
    await waitFor(() => reloadEvents('applied').length === 1, 'the applied reload')

    const event = reloadEvents('applied')[0]
    assert.equal(event?.previousVersion, before)
    assert.equal(event?.version, engine.policyVersion)
    assert.equal(event?.trigger, 'file-change')
    assert.notEqual(engine.policyVersion, before)

    const decision = engine.check({
      dialect: 'postgres',
      roles: ['sql-read'],
      sql: 'SELECT amount FROM salaries',
    })
    assert.equal(decision.allowed, false)
    assert.equal(decision.policyVersion, engine.policyVersion)
    assert.equal(allowed(engine, 'SELECT balance FROM accounts'), true)
  })

  it('invalid edit keeps the old policy', async () => {
    const before = engine.policyVersion
    await writeFile(join(directory, 'policy.csv'), BROKEN)
    await waitFor(() => reloadEvents('rejected').length >= 1, 'the rejected reload')

    const event = reloadEvents('rejected').at(-1)
    assert.equal(event?.previousVersion, before)
    assert.notEqual(event?.version, before)
    assert.ok(
      event?.errors.some((error) => error.startsWith('line 3:') && error.includes('found 4')),
      JSON.stringify(event?.errors),
    )
    assert.ok(
      event?.errors.some((error) => error.includes('unknown policy type "q"')),
      JSON.stringify(event?.errors),
    )
    assert.equal(engine.policyVersion, before)
    assert.equal(allowed(engine, 'SELECT amount FROM salaries'), false)
    assert.equal(allowed(engine, 'SELECT balance FROM accounts'), true)
  })

  it('logs the rejection with its errors', () => {
    const lines = logText
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    const rejected = lines.find((line) => line['outcome'] === 'rejected')
    assert.ok(rejected, logText)
    assert.equal(rejected['level'], 50)
    assert.equal(rejected['msg'], 'policy reload rejected')
    assert.equal(rejected['type'], 'policy_reload')
    assert.ok(JSON.stringify(rejected['errors']).includes('unknown policy type'))
  })

  it('broken model keeps the old policy', async () => {
    const before = engine.policyVersion
    const rejectedBefore = reloadEvents('rejected').length
    await writeFile(join(directory, 'policy.csv'), DENY_SALARIES)
    await writeFile(join(directory, 'model.conf'), '[request_definition]\nr = sub, obj\n')
    await waitFor(() => reloadEvents('rejected').length > rejectedBefore, 'the rejected model')

    assert.ok((reloadEvents('rejected').at(-1)?.errors.length ?? 0) > 0)
    assert.equal(engine.policyVersion, before)
    assert.equal(allowed(engine, 'SELECT amount FROM salaries'), false)
  })

  it('repaired files apply again', async () => {
    const appliedBefore = reloadEvents('applied').length
    await writeFile(join(directory, 'policy.csv'), READ_EVERYTHING)
    await copyFile(MODEL_FILE, join(directory, 'model.conf'))
    await waitFor(() => reloadEvents('applied').length > appliedBefore, 'the repaired policy')
    assert.equal(allowed(engine, 'SELECT amount FROM salaries'), true)
  })
})

describe('policy directory mounted like a ConfigMap', () => {
  it('reloads when the ..data link is swapped', async () => {
    // Kubernetes layout: policy.csv -> ..data/policy.csv, ..data -> ..<version>/.
    const directory = await mkdtemp(join(tmpdir(), 'sqlgate-configmap-'))
    const writeVersion = async (name: string, policy: string): Promise<void> => {
      await mkdir(join(directory, name))
      await copyFile(MODEL_FILE, join(directory, name, 'model.conf'))
      await writeFile(join(directory, name, 'policy.csv'), policy)
    }
    await writeVersion('..v1', READ_EVERYTHING)
    await symlink('..v1', join(directory, '..data'))
    await symlink('..data/model.conf', join(directory, 'model.conf'))
    await symlink('..data/policy.csv', join(directory, 'policy.csv'))

    const engine = await createPolicyEngine({ policyDirectory: directory })
    const events: PolicyReloadEvent[] = []
    const watch = await watchPolicyDirectory({
      engine,
      directory,
      debounceMs: 30,
      audit: (event) => {
        if (event.type === 'policy_reload') events.push(event)
      },
    })
    try {
      assert.equal(allowed(engine, 'SELECT amount FROM salaries'), true)
      await writeVersion('..v2', DENY_SALARIES)
      await symlink('..v2', join(directory, '..data_tmp'))
      await rename(join(directory, '..data_tmp'), join(directory, '..data'))

      await waitFor(() => events.some((event) => event.outcome === 'applied'), 'the reload')
      assert.equal(allowed(engine, 'SELECT amount FROM salaries'), false)
    } finally {
      watch.close()
      await rm(directory, { recursive: true, force: true })
    }
  })
})

describe('PolicyReloader', () => {
  it('coalesces a burst into two loads', async () => {
    const model = await import('node:fs/promises').then((fs) => fs.readFile(MODEL_FILE, 'utf8'))
    const engine = await createPolicyEngine({ policy: createPolicySource(model, READ_EVERYTHING) })
    let loads = 0
    const reloader = new PolicyReloader({
      engine,
      origin: 'test',
      load: async () => {
        loads += 1
        await new Promise((resolve) => setTimeout(resolve, 20))
        return CasbinAuthorizer.create(createPolicySource(model, DENY_SALARIES))
      },
    })
    const results = await Promise.all(Array.from({ length: 10 }, () => reloader.reload('burst')))
    assert.equal(loads, 2)
    assert.equal(results[0]?.outcome, 'applied')
    assert.equal(results[9]?.outcome, 'unchanged')
  })

  it('rejects a load error without throwing', async () => {
    const model = await import('node:fs/promises').then((fs) => fs.readFile(MODEL_FILE, 'utf8'))
    const engine = await createPolicyEngine({ policy: createPolicySource(model, READ_EVERYTHING) })
    const before = engine.policyVersion
    const reloader = new PolicyReloader({
      engine,
      origin: 'test',
      load: () => Promise.reject(new Error('connection refused')),
    })
    const result = await reloader.reload('manual')
    assert.equal(result.outcome, 'rejected')
    assert.equal(result.version, before)
    assert.deepEqual(result.errors, ['the policy could not be read: connection refused'])
  })

  it('rejects an empty policy', async () => {
    const model = await import('node:fs/promises').then((fs) => fs.readFile(MODEL_FILE, 'utf8'))
    const engine = await createPolicyEngine({ policy: createPolicySource(model, READ_EVERYTHING) })
    const reloader = new PolicyReloader({
      engine,
      origin: 'test',
      load: () => CasbinAuthorizer.create(createPolicySource(model, '# nothing\n')),
    })
    const result = await reloader.reload('manual')
    assert.equal(result.outcome, 'rejected')
    assert.match(result.errors[0] ?? '', /no p lines/)
  })
})
