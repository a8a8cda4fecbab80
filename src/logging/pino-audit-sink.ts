/**
 * Writes audit events to a pino logger, one JSON line each, for the command line and the demo.
 */

import type { Logger } from 'pino'

import type { AuditEvent, AuditSink } from '../audit/audit-event.js'

type Level = 'info' | 'warn' | 'error'

/**
 * Creates an audit sink that logs each event with its fields at the top level of the line. The
 * event's own `time` becomes `eventTime`, because pino writes its own `time` key. Levels: denials,
 * failed executions and lost connections are `warn`, rejected policies are `error`, and everything
 * else is `info`.
 */
export function createPinoAuditSink(logger: Logger): AuditSink {
  return (event) => {
    const { time, ...fields } = event
    logger[levelOf(event)]({ ...fields, eventTime: time }, messageOf(event))
  }
}

function levelOf(event: AuditEvent): Level {
  switch (event.type) {
    case 'decision':
      return event.decision === 'allow' ? 'info' : 'warn'
    case 'execution':
      return event.outcome === 'succeeded' ? 'info' : 'warn'
    case 'policy_reload':
      return event.outcome === 'rejected' ? 'error' : 'info'
    case 'policy_sync':
      return event.state === 'listening' ? 'info' : 'warn'
  }
}

function messageOf(event: AuditEvent): string {
  switch (event.type) {
    case 'decision':
      return `${event.action} ${event.decision === 'allow' ? 'allowed' : 'denied'}`
    case 'execution':
      return `execution ${event.outcome}`
    case 'policy_reload':
      return `policy reload ${event.outcome}`
    case 'policy_sync':
      return `policy notifications ${event.state}`
  }
}
