import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import fc from 'fast-check'

import { sanitizeDescription } from '../../src/token/identity-provider-text.js'
import { isValidLegacyName } from '../../src/token/legacy-name.js'

const NUM_RUNS = 2000
// Any code points, including control, format and separator characters.
const anyText = fc.string({ unit: 'binary', maxLength: 300 })

describe('sanitizeDescription properties', () => {
  test('never returns a secret or control character', () => {
    // Token-like secrets. The one such string that the output can contain by construction is
    // "redacted", from the "[redacted]" marker itself.
    const secret = fc
      .stringMatching(/^[\w-]{8,40}$/)
      .filter((value) => !'[redacted]'.includes(value))
    fc.assert(
      fc.property(anyText, secret, anyText, (before, hidden, after) => {
        const text = sanitizeDescription(`${before}${hidden}${after}`, [hidden]) ?? ''

        assert.ok(!text.includes(hidden), 'output contains the secret')
        assert.doesNotMatch(text, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u)
        assert.ok([...text].length <= 201)
      }),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('isValidLegacyName properties', () => {
  test('rejects quotes and control characters', () => {
    const forbidden = fc.constantFrom("'", '"', '`', '\u0000', '\n', '\u202e', '\u200b', '\u2028')
    fc.assert(
      fc.property(anyText, forbidden, anyText, (before, bad, after) => {
        const name = `${before}${bad}${after}`

        assert.equal(isValidLegacyName(name, 'postgres'), false)
        assert.equal(isValidLegacyName(name, 'sqlserver'), false)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  test('postgres names fit 63 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (name) => {
        if (isValidLegacyName(name, 'postgres')) {
          assert.ok(Buffer.byteLength(name, 'utf8') <= 63)
          assert.ok(!name.includes('\\'))
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })
})
