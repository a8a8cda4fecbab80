/**
 * The pino logger of the command line and the demo: JSON lines, one per event. Library code never
 * logs; it reports through audit sinks and diagnostics channels, which this logger can receive.
 */

import pino from 'pino'
import type { DestinationStream, Logger } from 'pino'

/** Levels that `SQLGATE_LOG_LEVEL` and `--log-level` accept, from most to least verbose. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

export type LogLevel = (typeof LOG_LEVELS)[number]

export interface CreateLoggerOptions {
  /** Minimum level. Default: `SQLGATE_LOG_LEVEL` from the environment, else `info`. */
  readonly level?: string
  /** Destination of the lines. Default: standard output. */
  readonly destination?: DestinationStream
  /** Environment to read `SQLGATE_LOG_LEVEL` from. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

/**
 * Keys that are removed from every logged object wherever they appear one level deep, as a second
 * line of defence: audit events never contain them, but a caller's own log calls might.
 */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'teJwt',
  '*.teJwt',
  'subjectToken',
  '*.subjectToken',
  'params',
  '*.params',
  'authorization',
  '*.authorization',
]

/**
 * Creates a logger that writes JSON lines with ISO 8601 times.
 * @throws TypeError when the level is not one of `LOG_LEVELS`.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const env = options.env ?? process.env
  const level = parseLogLevel(options.level ?? env['SQLGATE_LOG_LEVEL'] ?? 'info')
  const settings = {
    name: 'sqlgate',
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, remove: true },
  }
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination)
}

/**
 * Checks a level name, ignoring case and surrounding spaces.
 * @throws TypeError when the name is not one of `LOG_LEVELS`.
 */
export function parseLogLevel(value: string): LogLevel {
  const level = value.trim().toLowerCase()
  const known = LOG_LEVELS.find((candidate) => candidate === level)
  if (known === undefined) {
    throw new TypeError(`invalid log level "${value}": use one of ${LOG_LEVELS.join(', ')}`)
  }
  return known
}
