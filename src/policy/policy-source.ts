/**
 * The text of a policy: a Casbin model and its policy lines, with a version hash. Loading reads
 * the files once and hands strings to Casbin, so the version always describes what is enforced.
 */

import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface PolicySource {
  /** Casbin model text (model.conf). */
  readonly model: string
  /** Policy lines (policy.csv), comments and blank lines included. */
  readonly policy: string
  /** Origin of the policy, for messages: a directory or `inline`. */
  readonly origin: string
  /** First 16 hex digits of the SHA-256 of model and policy. */
  readonly version: string
}

/** Builds a policy source from strings. */
export function createPolicySource(model: string, policy: string, origin = 'inline'): PolicySource {
  const version = createHash('sha256')
    .update(model)
    .update('\0')
    .update(policy)
    .digest('hex')
    .slice(0, 16)
  return Object.freeze({ model, policy, origin, version })
}

/** One policy line: its type (`p`, `g`, `g2`, ...) and its fields. */
export interface PolicyRule {
  readonly ptype: string
  readonly fields: readonly string[]
}

/**
 * Builds a policy source from lines read out of a store. Duplicate lines are dropped and the rest
 * sorted, so the version depends only on the model and the set of lines.
 */
export function createCanonicalPolicySource(
  model: string,
  rules: readonly PolicyRule[],
  origin: string,
): PolicySource {
  const lines = new Set(rules.map((rule) => [rule.ptype, ...rule.fields].map(csvField).join(', ')))
  const policy = [...lines].sort().join('\n')
  return createPolicySource(model, policy === '' ? '' : `${policy}\n`, origin)
}

/** Quotes a field for Casbin's CSV reader when it contains a comma, quote or edge space. */
function csvField(field: string): string {
  if (!/[",\r\n]|^\s|\s$/.test(field)) return field
  return `"${field.replaceAll('"', '""')}"`
}

/** Reads `model.conf` and `policy.csv` from a directory. */
export async function readPolicyDirectory(directory: string): Promise<PolicySource> {
  const [model, policy] = await Promise.all([
    readFile(join(directory, 'model.conf'), 'utf8'),
    readFile(join(directory, 'policy.csv'), 'utf8'),
  ])
  return createPolicySource(model, policy, directory)
}
