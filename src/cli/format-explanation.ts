/**
 * Renders a decision as a tree of the facts the check extracted (statement kinds, tables,
 * columns, functions, floor) with the policy.csv line or floor rule that decided each one.
 */

import type { CasbinAuthorizer } from '../authorize/casbin-authorizer.js'
import type { Decision } from '../authorize/decision.js'
import { columnObject, functionObject, tableObject } from '../authorize/policy-objects.js'
import type { ColumnCatalog } from '../catalog/column-catalog.js'
import type { StatementFacts } from '../extract/statement-facts.js'
import { floorObject } from '../floor/floor-rules.js'

/** A node of the tree: one line of text and its children. */
interface TreeNode {
  readonly text: string
  readonly children: readonly TreeNode[]
}

export interface ExplanationContext {
  readonly authorizer: CasbinAuthorizer
  /** Schema that unqualified names resolve to, as in the check. */
  readonly defaultSchema: string
  readonly catalog?: ColumnCatalog | undefined
  /** Header fields, for example roles and database. */
  readonly header: string
}

/** Formats the decision as a tree, one root per statement. */
export function formatExplanation(decision: Decision, context: ExplanationContext): string {
  const lines = [`${decision.allowed ? 'ALLOW' : 'DENY'}  ${context.header}`]
  if (decision.facts === null) {
    for (const denial of decision.denials) lines.push(`  ${denial.reason}`)
    return `${lines.join('\n')}\n`
  }

  const verdict = new Verdicts(decision, context.authorizer)
  decision.facts.statements.forEach((statement, index) => {
    const root = statementNode(statement, index, verdict, context)
    lines.push(...renderTree(root))
  })
  const extra = decision.denials.filter((denial) => denial.object === 'floor:multiple-statements')
  for (const denial of extra) lines.push(`request: ${verdict.of(denial.object, denial.action)}`)
  lines.push(`policy version ${decision.policyVersion}`)
  return `${lines.join('\n')}\n`
}

function statementNode(
  statement: StatementFacts,
  index: number,
  verdict: Verdicts,
  context: ExplanationContext,
): TreeNode {
  const schema = context.defaultSchema
  const kinds = statement.kinds.map((kind) =>
    leaf(`statement ${kind}`, verdict.of('statement', kind)),
  )
  const tables = statement.tables.map((table) => {
    const object = tableObject(table, schema)
    return leaf(`${object} ${table.action}`, verdict.of(object, table.action))
  })
  const columns = statement.columns.map((column) => {
    const object = columnObject(column, schema)
    const text = `${object} ${column.action}`
    if (column.column !== '*') return leaf(text, verdict.ofColumn(object, column.action))

    const names = context.catalog?.columnsOf(column.schema ?? schema, column.table)
    const expanded = (names ?? []).map((name) => {
      const named = columnObject({ ...column, column: name }, schema)
      return leaf(`${named} ${column.action}`, verdict.ofColumn(named, column.action))
    })
    return { text: `${text}  ${verdict.ofColumn(object, column.action)}`, children: expanded }
  })
  const functions = statement.functions.map((fn) => {
    const object = functionObject(fn)
    return leaf(`${object} ${fn.action}`, verdict.of(object, fn.action))
  })
  const floor = statement.floor.map((fact) => {
    const object = floorObject(fact.rule)
    return leaf(`${object} (${fact.construct})`, verdict.of(object, 'lift'))
  })

  const groups: TreeNode[] = [
    { text: 'kinds', children: kinds },
    { text: 'tables', children: tables },
    { text: 'columns', children: columns },
    { text: 'functions', children: functions },
    { text: 'floor', children: floor },
  ].filter((group) => group.children.length > 0)
  return { text: `statement ${index + 1}: ${statement.kind}`, children: groups }
}

function leaf(text: string, verdict: string): TreeNode {
  return { text: `${text}  ${verdict}`, children: [] }
}

/** Looks up the grant or denial of each object and action in the decision. */
class Verdicts {
  readonly #entries = new Map<string, string>()
  readonly #authorizer: CasbinAuthorizer

  constructor(decision: Decision, authorizer: CasbinAuthorizer) {
    this.#authorizer = authorizer
    for (const grant of decision.grants) {
      this.#entries.set(key(grant.object, grant.action), `allow  ${this.#where(grant.rule)}`)
    }
    for (const denial of decision.denials) {
      const text =
        denial.rule === 'no matching allow' || denial.rule === 'catalog-unavailable'
          ? `DENY  ${denial.reason}`
          : denial.rule.startsWith('floor:')
            ? `DENY  built-in floor rule: ${denial.reason}`
            : `DENY  ${this.#where(denial.rule)}`
      this.#entries.set(key(denial.object, denial.action), text)
    }
  }

  of(object: string, action: string): string {
    return this.#entries.get(key(object, action)) ?? 'not checked'
  }

  /** Columns are decided by deny lines only; without one the table's decision covers them. */
  ofColumn(object: string, action: string): string {
    return this.#entries.get(key(object, action)) ?? 'no column rule (the table decides)'
  }

  #where(rule: string): string {
    const line = this.#authorizer.lineOf(rule)
    return line === undefined ? rule : `policy.csv:${line}  ${rule}`
  }
}

function key(object: string, action: string): string {
  return `${object}\0${action}`
}

/** Draws a tree with box-drawing characters. */
function renderTree(root: TreeNode): string[] {
  const lines = [root.text]
  const walk = (node: TreeNode, prefix: string): void => {
    node.children.forEach((child, index) => {
      const last = index === node.children.length - 1
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${child.text}`)
      walk(child, `${prefix}${last ? '   ' : '│  '}`)
    })
  }
  walk(root, '')
  return lines
}
