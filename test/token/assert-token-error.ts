/**
 * Assertions shared by the token tests: the error class and code, and that no secret appears in
 * the message, `String(error)` or `util.inspect(error)` (which includes the cause chain).
 */

import assert from 'node:assert/strict'
import { inspect } from 'node:util'

import type { ErrorCode, SqlgateError } from '../../src/errors.js'

type ErrorClass = abstract new (...args: never[]) => SqlgateError

/** Awaits `promise`, expects a rejection of `errorClass` with `code`, and returns the error. */
export async function expectTokenError<T extends SqlgateError>(
  promise: Promise<unknown>,
  errorClass: abstract new (...args: never[]) => T,
  code: ErrorCode,
  secrets: readonly string[],
): Promise<T> {
  let caught: unknown
  try {
    await promise
  } catch (error) {
    caught = error
  }

  const expected = errorClass as ErrorClass
  assert.ok(caught instanceof expected, `expected ${errorClass.name}, got ${String(caught)}`)
  const error = caught as T
  assert.equal(error.code, code)
  assertNoSecrets(error, secrets)

  return error
}

/** Asserts that none of `secrets` appears in the error's message, string or inspection. */
export function assertNoSecrets(error: Error, secrets: readonly string[]): void {
  const renderings = {
    message: error.message,
    string: String(error),
    inspect: inspect(error, { depth: 10 }),
    json: JSON.stringify(error),
  }

  for (const secret of secrets) {
    for (const [form, text] of Object.entries(renderings)) {
      assert.ok(!text.includes(secret), `${form} of ${error.name} contains a secret`)
    }
  }
}
