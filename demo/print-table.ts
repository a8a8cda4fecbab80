/** Prints the demo results as a fixed-width table. */

export interface DemoRow {
  readonly user: string
  readonly sql: string
  readonly decision: 'allow' | 'deny'
  readonly why: string
  readonly rows: string
}

const WIDTHS = { user: 18, sql: 44, decision: 8, rows: 9, why: 96 }

function fit(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length <= width ? flat.padEnd(width) : `${flat.slice(0, width - 1)}…`
}

export function printTable(rows: readonly DemoRow[], out: { write(text: string): unknown }): void {
  const line = (user: string, sql: string, decision: string, count: string, why: string): string =>
    `${fit(user, WIDTHS.user)} | ${fit(sql, WIDTHS.sql)} | ${fit(decision, WIDTHS.decision)} | ` +
    `${fit(count, WIDTHS.rows)} | ${fit(why, WIDTHS.why)}\n`

  out.write(line('user', 'SQL', 'decision', 'rows', 'why'))
  out.write(`${'-'.repeat(WIDTHS.user + WIDTHS.sql + WIDTHS.decision + WIDTHS.rows + WIDTHS.why + 12)}\n`)
  for (const row of rows) out.write(line(row.user, row.sql, row.decision.toUpperCase(), row.rows, row.why))
}
