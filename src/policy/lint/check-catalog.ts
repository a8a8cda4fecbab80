/**
 * Finds table and column patterns that match nothing in a catalog, usually a misspelled schema,
 * table or column, or a line written for another database.
 */

import { policyGlobMatch } from '../../authorize/casbin-authorizer.js'
import type { PolicyCsvLine } from '../../authorize/policy-csv.js'
import { formatIdentifier } from '../../authorize/policy-objects.js'
import type { ColumnCatalog } from '../../catalog/column-catalog.js'
import type { LintFinding } from './lint-finding.js'

/** Returns a no-catalog-match warning for each table or column line that matches nothing. */
export function checkCatalog(
  file: string,
  policyLines: readonly PolicyCsvLine[],
  catalog: ColumnCatalog,
): LintFinding[] {
  const tables: string[] = []
  const columns: string[] = []
  for (const table of catalog.tables()) {
    const prefix = `${formatIdentifier(table.schema)}.${formatIdentifier(table.name)}`
    tables.push(`table:${prefix}`)
    for (const column of catalog.columnsOf(table.schema, table.name) ?? []) {
      columns.push(`column:${prefix}.${formatIdentifier(column)}`)
    }
  }

  const findings: LintFinding[] = []
  for (const line of policyLines) {
    const object = line.fields[2] ?? ''
    const candidates = object.startsWith('table:')
      ? tables
      : object.startsWith('column:')
        ? columns
        : null
    if (candidates === null || candidates.some((candidate) => policyGlobMatch(candidate, object))) {
      continue
    }
    const kind = object.startsWith('table:') ? 'table' : 'column'
    findings.push({
      severity: 'warning',
      check: 'no-catalog-match',
      file,
      line: line.line,
      message: `"${object}" matches no ${kind} in the catalog`,
    })
  }
  return findings
}
