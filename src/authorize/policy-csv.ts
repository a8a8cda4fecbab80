/**
 * Reads policy.csv the way Casbin's file and string adapters read it (casbin 5.x). A line
 * starting with `#` is a comment. Fields are split on commas and trimmed. A field wrapped in
 * double quotes may contain commas (`"table:public.{users,orders}"`), and so may parentheses. Keeping the line numbers lets lint, explain and
 * denial reasons point at the line a DBA wrote.
 */

/** One non-comment line of policy.csv. */
export interface PolicyCsvLine {
  /** 1-based line number in the file. */
  readonly line: number
  /** The first field: `p`, `g`, or whatever else the line starts with. */
  readonly type: string
  /** The fields after the type, trimmed and unquoted. */
  readonly fields: readonly string[]
  /** The line as written, without the line break. */
  readonly text: string
}

/** Splits policy text into lines with their fields. Blank and comment lines are skipped. */
export function parsePolicyCsv(text: string): PolicyCsvLine[] {
  const lines: PolicyCsvLine[] = []
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '')
    if (line.trim() === '' || line.trimStart().startsWith('#')) return
    const [type = '', ...fields] = splitFields(line)
    lines.push(Object.freeze({ line: index + 1, type, fields: Object.freeze(fields), text: line }))
  })
  return lines
}

/** Formats the fields of a `p` line the way the authorizer reports a deciding rule. */
export function formatPolicyRule(fields: readonly string[]): string {
  return `p, ${fields.join(', ')}`
}

function splitFields(line: string): string[] {
  const fields: string[] = []
  let current = ''
  let quoted = false
  let depth = 0
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index] as string
    if (char === '"') {
      // A doubled quote inside a quoted field is one literal quote.
      if (quoted && line[index + 1] === '"') {
        current += '"'
        index += 1
        continue
      }
      if (quoted || current.trim() === '') {
        quoted = !quoted
        continue
      }
    }
    if (!quoted && char === '(') depth += 1
    if (!quoted && char === ')') depth -= 1
    if (char === ',' && !quoted && depth <= 0) {
      fields.push(current.trim())
      current = ''
      continue
    }
    current += char
  }
  fields.push(current.trim())
  return fields
}
