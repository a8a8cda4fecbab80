/**
 * The one batch that runs an approved statement under the end user's database identity:
 *
 * ```sql
 * DECLARE @sqlgate_login sysname = SUSER_SNAME(), @sqlgate_self sysname = USER_NAME();
 * DECLARE @sqlgate_cookie varbinary(8000);
 * EXECUTE AS USER = @sqlgate_user WITH COOKIE INTO @sqlgate_cookie;
 * EXEC sp_executesql @sqlgate_statement, @sqlgate_params, @customerId = @customerId;
 * REVERT WITH COOKIE = @sqlgate_cookie;
 * SET @sqlgate_reverted = CASE WHEN ... THEN 1 ELSE 0 END;
 * ```
 *
 * The user name, the statement text and the parameter declaration list are parameters of the
 * batch, never part of its text. Only parameter names are written into the text, after
 * validation. Because the context switch carries a cookie, a `REVERT` inside the statement
 * fails instead of returning to the service login. `@sqlgate_reverted` is 1 only when the batch
 * reached its end and the identity is the service login's again.
 */

import sql from 'mssql'

/** Parameter names are T-SQL identifiers; the `sqlgate_` prefix is reserved for the batch. */
const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/u
const RESERVED_PREFIX = /^sqlgate_/iu

const INT_MIN = -2_147_483_648
const INT_MAX = 2_147_483_647
const BIGINT_MIN = -(2n ** 63n)
const BIGINT_MAX = 2n ** 63n - 1n

/** One user parameter with the SQL Server type inferred from its JavaScript value. */
export interface BatchParameter {
  readonly name: string
  /** The type as sp_executesql declares it, for example `int` or `nvarchar(4000)`. */
  readonly declaration: string
  /** The node-mssql type used to send the value. */
  readonly type: sql.ISqlType | (() => sql.ISqlType)
  readonly value: unknown
}

/**
 * Infers the type of one value: booleans are `bit`, safe integers `int` or `bigint`, other
 * numbers `float`, bigints `bigint`, strings `nvarchar(4000)` or `nvarchar(max)`, dates
 * `datetime2(7)`, buffers `varbinary(max)`, and `null` an `nvarchar(4000)` NULL.
 * @throws TypeError for any other value, a non-finite number or a bigint out of range.
 */
export function inferParameter(name: string, value: unknown): BatchParameter {
  if (!PARAMETER_NAME.test(name) || RESERVED_PREFIX.test(name)) {
    throw new TypeError(
      'parameter names must be 1 to 128 letters, digits or "_", ' +
        'not starting with a digit or "sqlgate_"',
    )
  }

  if (value === null || value === undefined) {
    return { name, declaration: 'nvarchar(4000)', type: sql.NVarChar(4000), value: null }
  }
  if (typeof value === 'boolean') return { name, declaration: 'bit', type: sql.Bit, value }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`parameter "${name}" must be a finite number`)
    if (Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX) {
      return { name, declaration: 'int', type: sql.Int, value }
    }
    if (Number.isSafeInteger(value)) return { name, declaration: 'bigint', type: sql.BigInt, value }
    return { name, declaration: 'float', type: sql.Float, value }
  }
  if (typeof value === 'bigint') {
    if (value < BIGINT_MIN || value > BIGINT_MAX) {
      throw new TypeError(`parameter "${name}" is out of the bigint range`)
    }
    // node-mssql sends bigint values as strings to keep all 64 bits.
    return { name, declaration: 'bigint', type: sql.BigInt, value: value.toString() }
  }
  if (typeof value === 'string') {
    return value.length <= 4000
      ? { name, declaration: 'nvarchar(4000)', type: sql.NVarChar(4000), value }
      : { name, declaration: 'nvarchar(max)', type: sql.NVarChar(sql.MAX), value }
  }
  if (value instanceof Date) {
    return { name, declaration: 'datetime2(7)', type: sql.DateTime2(7), value }
  }
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value)
    return { name, declaration: 'varbinary(max)', type: sql.VarBinary(sql.MAX), value: bytes }
  }
  throw new TypeError(`parameter "${name}" has an unsupported type`)
}

/** Infers every parameter of a `{ name: value }` object, in key order. */
export function inferParameters(params: Readonly<Record<string, unknown>>): BatchParameter[] {
  return Object.entries(params).map(([name, value]) => inferParameter(name, value))
}

/** Builds the `@params` argument of sp_executesql, for example `@id int, @name nvarchar(4000)`. */
export function parameterDeclarations(parameters: readonly BatchParameter[]): string {
  return parameters.map((parameter) => `@${parameter.name} ${parameter.declaration}`).join(', ')
}

/** Builds the batch text for the given (validated) parameters. */
export function buildExecuteAsBatch(parameters: readonly BatchParameter[]): string {
  const passed = parameters.map((parameter) => `@${parameter.name} = @${parameter.name}`)
  const call =
    parameters.length === 0
      ? 'EXEC sp_executesql @sqlgate_statement;'
      : `EXEC sp_executesql @sqlgate_statement, @sqlgate_params, ${passed.join(', ')};`

  return [
    'DECLARE @sqlgate_login sysname = SUSER_SNAME(), @sqlgate_self sysname = USER_NAME();',
    'DECLARE @sqlgate_cookie varbinary(8000);',
    'EXECUTE AS USER = @sqlgate_user WITH COOKIE INTO @sqlgate_cookie;',
    call,
    'REVERT WITH COOKIE = @sqlgate_cookie;',
    'SET @sqlgate_reverted = CASE WHEN SUSER_SNAME() = @sqlgate_login ' +
      'AND USER_NAME() = @sqlgate_self THEN 1 ELSE 0 END;',
  ].join('\n')
}
