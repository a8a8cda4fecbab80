/**
 * Audit events are published on `node:diagnostics_channel` as well as to the injected sink, so
 * an application can subscribe without configuring sqlgate. Events are built only when someone
 * listens.
 */

import diagnosticsChannel from 'node:diagnostics_channel'

import { isSqlgateError } from '../errors.js'
import type { AuditEvent, AuditSink } from './audit-event.js'

/** Channel of decision events. */
export const DECISION_CHANNEL = diagnosticsChannel.channel('sqlgate:authorize:decision')
/** Channel of execution events. */
export const EXECUTION_CHANNEL = diagnosticsChannel.channel('sqlgate:execute:result')
/** Channel of policy reload events. */
export const POLICY_RELOAD_CHANNEL = diagnosticsChannel.channel('sqlgate:policy:reload')
/** Channel of events about the connection that receives policy change notifications. */
export const POLICY_SYNC_CHANNEL = diagnosticsChannel.channel('sqlgate:policy:sync')

const CHANNELS: Readonly<Record<AuditEvent['type'], diagnosticsChannel.Channel>> = {
  decision: DECISION_CHANNEL,
  execution: EXECUTION_CHANNEL,
  policy_reload: POLICY_RELOAD_CHANNEL,
  policy_sync: POLICY_SYNC_CHANNEL,
}

/**
 * Delivers an event to the sink and the channel of its type. `build` runs only when there is a
 * consumer, and it runs for every type whenever any channel has subscribers.
 */
export function emitAuditEvent(sink: AuditSink | undefined, build: () => AuditEvent): void {
  const channelHasSubscribers = Object.values(CHANNELS).some((channel) => channel.hasSubscribers)
  if (sink === undefined && !channelHasSubscribers) return

  const event = build()
  const channel = CHANNELS[event.type]
  if (channel.hasSubscribers) channel.publish(event)
  if (sink === undefined) return
  try {
    sink(event)
  } catch {
    // A failing sink must not change the outcome of a request.
  }
}

/** Emits the execution event of one request; `error` is `null` when the statement succeeded. */
export function emitExecutionEvent(
  sink: AuditSink | undefined,
  moduleName: string,
  requestId: string,
  startedAt: number,
  rowCount: number | null,
  error: unknown,
): void {
  emitAuditEvent(sink, () => {
    let errorCode: string | null = null
    if (isSqlgateError(error)) errorCode = error.code
    else if (error !== null) errorCode = 'ERR_EXECUTION_FAILED'

    return {
      type: 'execution',
      time: new Date().toISOString(),
      requestId,
      module: moduleName,
      outcome: error === null ? 'succeeded' : 'failed',
      rowCount,
      sqlState: (error as { sqlState?: string } | null)?.sqlState ?? null,
      errorCode,
      durationMs: performance.now() - startedAt,
    }
  })
}
