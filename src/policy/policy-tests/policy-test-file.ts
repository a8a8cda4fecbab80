/**
 * Policy test files: YAML or JSON files in a policy directory's `tests/` folder, each with a list
 * of cases that state roles, database, dialect, SQL and the expected decision. A DBA runs them
 * with `sqlgate test` after every policy change.
 *
 * ```yaml
 * defaults: { database: postgresql1, dialect: postgres }
 * catalog: { public.users: [id, name, ssn] }
 * cases:
 *   - name: sql-read cannot read ssn
 *     roles: [sql-read]
 *     sql: SELECT * FROM users
 *     expect: deny
 *     denied: { object: column:public.users.ssn, action: select }
 * ```
 */

import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { LineCounter, parseDocument, isMap, isSeq, type Node } from 'yaml'

import {
  createColumnCatalog,
  type CatalogEntry,
  type ColumnCatalog,
} from '../../catalog/column-catalog.js'
import type { Dialect } from '../../parse/front-end.js'

/** One case: the request and what the policy must decide. */
export interface PolicyTestCase {
  /** File the case came from, relative to the policy directory. */
  readonly file: string
  /** 1-based line of the case in its file. */
  readonly line: number
  readonly name: string
  readonly roles: readonly string[]
  /** Policy domain: the delegation module name. Default `default`. */
  readonly database: string
  readonly dialect: Dialect
  readonly sql: string
  readonly expect: 'allow' | 'deny'
  /** Text that some denial's action, object, rule or reason must contain. */
  readonly reason?: string
  /** A denial that must be present, by exact object and, when given, action. */
  readonly denied?: { readonly object: string; readonly action?: string }
  /** Column lists for `*` over tables with column rules, from the file's `catalog`. */
  readonly catalog?: ColumnCatalog
}

/** A file that could not be read as policy tests, with the place and the problem. */
export interface PolicyTestFileProblem {
  readonly file: string
  readonly line: number
  readonly message: string
}

/** Folder of the test files inside a policy directory. */
export const POLICY_TESTS_FOLDER = 'tests'

const DIALECTS: Readonly<Record<string, Dialect>> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mssql: 'mssql',
  tsql: 'mssql',
  transactsql: 'mssql',
}

const CASE_FIELDS = new Set([
  'name',
  'role',
  'roles',
  'database',
  'dialect',
  'sql',
  'expect',
  'reason',
  'denied',
])

/** Reads every `.yaml`, `.yml` and `.json` file in `DIR/tests/`, in name order. */
export async function readPolicyTests(
  directory: string,
): Promise<{ cases: PolicyTestCase[]; problems: PolicyTestFileProblem[] }> {
  const folder = join(directory, POLICY_TESTS_FOLDER)
  let names: string[]
  try {
    names = (await readdir(folder)).filter((name) => /\.(ya?ml|json)$/.test(name)).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    names = []
  }
  const cases: PolicyTestCase[] = []
  const problems: PolicyTestFileProblem[] = []
  for (const name of names) {
    const file = join(POLICY_TESTS_FOLDER, name)
    const parsed = parsePolicyTests(await readFile(join(folder, name), 'utf8'), file)
    cases.push(...parsed.cases)
    problems.push(...parsed.problems)
  }
  return { cases, problems }
}

/** Parses one test file's text (YAML, which includes JSON). */
export function parsePolicyTests(
  text: string,
  file: string,
): { cases: PolicyTestCase[]; problems: PolicyTestFileProblem[] } {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter })
  const problems: PolicyTestFileProblem[] = []
  const lineOf = (node: Node | null | undefined): number =>
    node?.range == null ? 1 : lineCounter.linePos(node.range[0]).line
  const problem = (node: Node | null | undefined, message: string): void => {
    problems.push({ file, line: lineOf(node), message })
  }

  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const line = error.linePos?.[0]?.line ?? 1
      problems.push({ file, line, message: `invalid YAML: ${error.message.split('\n')[0]}` })
    }
    return { cases: [], problems }
  }

  const root = document.contents
  if (!isMap(root) || !isSeq(root.get('cases', true))) {
    problem(root, 'expected a mapping with a "cases" list')
    return { cases: [], problems }
  }
  const data = asRecord(root.toJSON()) ?? {}
  const defaults = asRecord(data['defaults']) ?? {}
  const catalog = readCatalog(data['catalog'], (message) => problem(root, message))
  const caseNodes = root.get('cases', true) as unknown as { items: Node[] }

  const cases: PolicyTestCase[] = []
  caseNodes.items.forEach((node, index) => {
    const fields = asRecord((node as { toJSON(): unknown }).toJSON())
    const report = (message: string): void => problem(node, `case ${index + 1}: ${message}`)
    if (fields === null) return report('expected a mapping')
    const testCase = readCase({ ...defaults, ...fields }, report)
    if (testCase === null) return
    cases.push({
      file,
      line: lineOf(node),
      ...testCase,
      ...(catalog === null ? {} : { catalog }),
    })
  })
  return { cases, problems }
}

type CaseFields = Omit<PolicyTestCase, 'file' | 'line' | 'catalog'>

function readCase(
  fields: Record<string, unknown>,
  report: (message: string) => void,
): CaseFields | null {
  for (const key of Object.keys(fields)) {
    if (!CASE_FIELDS.has(key)) report(`unknown field "${key}"`)
  }
  const roles = readRoles(fields['roles'] ?? fields['role'])
  const sql = fields['sql']
  const expect = fields['expect']
  const dialect = DIALECTS[String(fields['dialect'] ?? 'postgres').toLowerCase()]
  const database = fields['database'] ?? 'default'
  const reason = fields['reason']
  const denied = asRecord(fields['denied'])

  const missing: string[] = []
  if (roles === null) missing.push('"roles" (a list or a comma-separated string)')
  if (typeof sql !== 'string' || sql.trim() === '') missing.push('"sql"')
  if (expect !== 'allow' && expect !== 'deny') missing.push('"expect" (allow or deny)')
  if (dialect === undefined) missing.push('"dialect" (postgres or mssql)')
  if (typeof database !== 'string') missing.push('"database" as a string')
  if (reason !== undefined && typeof reason !== 'string') missing.push('"reason" as a string')
  if (fields['denied'] !== undefined && typeof denied?.['object'] !== 'string') {
    missing.push('"denied" as { object, action }')
  }
  if (missing.length > 0) {
    report(`missing or invalid ${missing.join(', ')}`)
    return null
  }

  const name = typeof fields['name'] === 'string' ? fields['name'] : String(sql)
  return {
    name,
    roles: roles as string[],
    database: database as string,
    dialect: dialect as Dialect,
    sql: sql as string,
    expect: expect as 'allow' | 'deny',
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(denied === null
      ? {}
      : {
          denied: {
            object: String(denied['object']),
            ...(typeof denied['action'] === 'string' ? { action: denied['action'] } : {}),
          },
        }),
  }
}

function readRoles(value: unknown): string[] | null {
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null
  if (list === null || !list.every((role) => typeof role === 'string')) return null
  const roles = (list as string[]).map((role) => role.trim()).filter((role) => role !== '')
  return roles.length === 0 ? null : roles
}

/** Reads `catalog: { schema.table: [columns] }`. */
function readCatalog(value: unknown, report: (message: string) => void): ColumnCatalog | null {
  if (value === undefined) return null
  const record = asRecord(value)
  if (record === null) {
    report('"catalog" must map schema.table to a list of columns')
    return null
  }
  const entries: CatalogEntry[] = []
  for (const [table, columns] of Object.entries(record)) {
    const dot = table.indexOf('.')
    const names = Array.isArray(columns) ? columns : []
    if (dot <= 0 || names.length === 0 || !names.every((name) => typeof name === 'string')) {
      report(`"catalog" entry "${table}" must be schema.table with a list of column names`)
      continue
    }
    entries.push({ schema: table.slice(0, dot), name: table.slice(dot + 1), columns: names })
  }
  return createColumnCatalog(entries)
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null
}
