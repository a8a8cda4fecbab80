import { readFileSync } from 'node:fs'

export interface AttackCase {
  readonly id: string
  readonly dialect: 'postgresql' | 'transactsql'
  readonly role: string
  readonly sql: string
  readonly expected: 'allow' | 'deny'
  readonly why: string
}

/** Bypass cases from public reports of SQL guards, with the decision the default policy must give. */
export function readAttackCases(): AttackCase[] {
  const text = readFileSync(new URL('../fixtures/attack-cases.jsonl', import.meta.url), 'utf8')
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AttackCase)
}
