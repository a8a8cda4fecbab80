/**
 * Checks that Casbin does not make when it loads a policy. Casbin skips a line of a type the
 * model does not define, and accepts a line with too few or too many fields, so a typo can
 * silently drop a deny line. These checks turn such lines into errors before a policy serves.
 */

import type { CasbinAuthorizer } from '../authorize/casbin-authorizer.js'

/**
 * Returns one message per problem in the loaded policy text, with its line number, or an empty
 * list. A policy without any `p` line is a problem too, because it denies every request.
 */
export function checkPolicyBasics(authorizer: CasbinAuthorizer): string[] {
  const definitions = authorizer.policyDefinitions()
  const problems: string[] = []
  let policyLines = 0

  authorizer.source.policy.split(/\r?\n/).forEach((text, index) => {
    const line = text.trim()
    if (line === '' || line.startsWith('#')) return

    const [ptype = '', ...fields] = splitCsvLine(line)
    const at = `line ${index + 1}`
    const definition = definitions.get(ptype)
    if (definition === undefined) {
      const known = [...definitions.keys()].join(', ')
      problems.push(`${at}: unknown policy type "${ptype}", the model defines ${known}`)
      return
    }
    if (ptype.startsWith('p')) policyLines += 1
    if (fields.length !== definition.fieldCount) {
      const expected = `${definition.fieldCount} fields after the type`
      problems.push(`${at}: a ${ptype} line needs ${expected}, found ${fields.length}`)
      return
    }
    const effect = definition.effectIndex === null ? undefined : fields[definition.effectIndex]
    if (effect !== undefined && effect !== 'allow' && effect !== 'deny') {
      problems.push(`${at}: the effect must be allow or deny, found "${effect}"`)
    }
  })

  if (policyLines === 0) problems.push('the policy has no p lines, so it would deny every request')
  return problems
}

/** Splits one CSV line into trimmed fields; a double-quoted field may contain commas. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = []
  let field = ''
  let quoted = false
  for (let index = 0; index < line.length; index += 1) {
    const character = line[index]
    if (character === '"') {
      if (quoted && line[index + 1] === '"') {
        field += '"'
        index += 1
      } else {
        quoted = !quoted
      }
    } else if (character === ',' && !quoted) {
      fields.push(field.trim())
      field = ''
    } else {
      field += character
    }
  }
  fields.push(field.trim())
  return fields
}
