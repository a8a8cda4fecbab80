import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import {
  MAX_DESCRIPTION_LENGTH,
  readErrorCode,
  sanitizeDescription,
} from '../../src/token/identity-provider-text.js'

const SECRET = 'client-secret-7f3a9c1e'
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl'

describe('sanitizeDescription', () => {
  test('redacts secrets and tokens', () => {
    const text = sanitizeDescription(`token ${TOKEN} with secret ${SECRET} rejected`, [
      TOKEN,
      SECRET,
    ])

    assert.equal(text, 'token [redacted] with secret [redacted] rejected')
  })

  test('redacts unknown JWTs and opaque runs', () => {
    const opaque = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7'
    const text = sanitizeDescription(`saw eyJhbGciOiJub25lIn0.e30. and ${opaque}`, [])

    assert.equal(text, 'saw [redacted] and [redacted]')
  })

  test('strips control characters', () => {
    const text = sanitizeDescription('bad\r\nInjected: header\u0007\u202e end', [])

    assert.equal(text, 'bad Injected: header end')
  })

  test('caps the length', () => {
    const text = sanitizeDescription('word '.repeat(100), [])

    assert.equal([...(text ?? '')].length, MAX_DESCRIPTION_LENGTH + 1)
    assert.ok(text?.endsWith('…'))
  })

  test('drops missing or blank text', () => {
    assert.equal(sanitizeDescription(undefined, []), undefined)
    assert.equal(sanitizeDescription(42, []), undefined)
    assert.equal(sanitizeDescription(' \u0000 ', []), undefined)
  })
})

describe('readErrorCode', () => {
  test('keeps RFC 6749 codes', () => {
    assert.equal(readErrorCode('invalid_grant', [SECRET]), 'invalid_grant')
  })

  test('replaces unusable codes', () => {
    for (const value of [undefined, 7, '', 'bad"quote', 'line\nbreak', 'x'.repeat(65), SECRET]) {
      assert.equal(readErrorCode(value, [SECRET]), 'unrecognized_error')
    }
  })
})
