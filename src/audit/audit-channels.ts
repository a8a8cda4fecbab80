/**
 * Audit events are published on `node:diagnostics_channel` as well as to the injected sink, so
 * an application can subscribe without configuring sqlgate. Events are built only when someone
 * listens.
 */

import diagnosticsChannel from 'node:diagnostics_channel'

import type { AuditEvent, AuditSink } from './audit-event.js'

/** Channel of decision events. */
export const DECISION_CHANNEL = diagnosticsChannel.channel('sqlgate:authorize:decision')
/** Channel of execution events. */
export const EXECUTION_CHANNEL = diagnosticsChannel.channel('sqlgate:execute:result')

/** Delivers an event to the sink and its channel; `build` runs only when there is a consumer. */
export function emitAuditEvent(sink: AuditSink | undefined, build: () => AuditEvent): void {
  const channelHasSubscribers = DECISION_CHANNEL.hasSubscribers || EXECUTION_CHANNEL.hasSubscribers
  if (sink === undefined && !channelHasSubscribers) return

  const event = build()
  const channel = event.type === 'decision' ? DECISION_CHANNEL : EXECUTION_CHANNEL
  if (channel.hasSubscribers) channel.publish(event)
  if (sink === undefined) return
  try {
    sink(event)
  } catch {
    // A failing sink must not change the outcome of a request.
  }
}
