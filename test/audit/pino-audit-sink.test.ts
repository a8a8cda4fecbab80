import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import type { AuditEvent } from '../../src/audit/audit-event.js'
import { createLogger, parseLogLevel } from '../../src/logging/create-logger.js'
import { createPinoAuditSink } from '../../src/logging/pino-audit-sink.js'

function bufferLogger(level?: string, env: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = []
  const logger = createLogger({
    ...(level === undefined ? {} : { level }),
    env,
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  })
  return { logger, lines }
}

const reload: AuditEvent = {
  type: 'policy_reload',
  time: '2026-01-02T03:04:05.000Z',
  origin: '/etc/sqlgate',
  trigger: 'file-change',
  outcome: 'rejected',
  previousVersion: 'aaaaaaaaaaaaaaaa',
  version: 'bbbbbbbbbbbbbbbb',
  errors: ['line 3: unknown policy type "q"'],
  durationMs: 1.5,
}

describe('createLogger', () => {
  it('reads SQLGATE_LOG_LEVEL', () => {
    const { logger } = bufferLogger(undefined, { SQLGATE_LOG_LEVEL: 'WARN' })
    assert.equal(logger.level, 'warn')
  })

  it('prefers the option over the environment', () => {
    const { logger } = bufferLogger('debug', { SQLGATE_LOG_LEVEL: 'error' })
    assert.equal(logger.level, 'debug')
  })

  it('defaults to info', () => {
    assert.equal(bufferLogger().logger.level, 'info')
  })

  it('rejects an unknown level', () => {
    assert.throws(() => parseLogLevel('verbose'), {
      name: 'TypeError',
      message: /^invalid log level "verbose": use one of trace, debug, info, warn, error, fatal/,
    })
  })

  it('removes credential keys', () => {
    const { logger, lines } = bufferLogger()
    logger.info({ session: { teJwt: 'eyJ.secret.jwt' }, params: ['secret'] }, 'request')
    assert.equal(JSON.stringify(lines).includes('secret'), false)
  })
})

describe('createPinoAuditSink', () => {
  it('logs a rejected reload as an error', () => {
    const { logger, lines } = bufferLogger()
    createPinoAuditSink(logger)(reload)
    const line = lines[0]
    assert.equal(line?.['level'], 50)
    assert.equal(line?.['msg'], 'policy reload rejected')
    assert.equal(line?.['eventTime'], reload.time)
    assert.deepEqual(line?.['errors'], ['line 3: unknown policy type "q"'])
    assert.equal(typeof line?.['time'], 'string')
  })

  it('respects the level', () => {
    const { logger, lines } = bufferLogger('error')
    const sink = createPinoAuditSink(logger)
    sink({ ...reload, outcome: 'applied', errors: [] })
    sink(reload)
    assert.equal(lines.length, 1)
    assert.equal(lines[0]?.['outcome'], 'rejected')
  })
})
