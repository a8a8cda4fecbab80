/**
 * Policy lines kept in PostgreSQL through Casbin's PostgreSQL adapter (casbin-pg-adapter), so
 * several sqlgate instances share one policy. The model stays in each instance's configuration;
 * the database keeps the lines only.
 *
 * casbin-pg-adapter 1.4 always names its table `casbin` and records its migrations in
 * `public.casbin_migrations`, whatever schema the table lives in. So this store creates the
 * adapter's table itself, with the columns and constraints of the adapter's two migrations, in a
 * dedicated schema, and runs the adapter with `migrate: false` on connections whose
 * `search_path` is that schema. Reading and writing the lines is left to the adapter.
 */

import { PostgresAdapter } from 'casbin-pg-adapter/lib/adapter.js'
import pg from 'pg'
import type { ClientConfig, PoolClient } from 'pg'

import { CasbinAuthorizer } from '../../authorize/casbin-authorizer.js'
import { PolicyInvalid } from '../../errors.js'
import { createCanonicalPolicySource, type PolicyRule } from '../policy-source.js'

/** Schema of the policy table unless another is configured. */
export const DEFAULT_POLICY_SCHEMA = 'sqlgate_policy'

export interface PostgresPolicyStoreOptions {
  /**
   * Connection string of the service's own login, never an end user's. It needs CREATE on the
   * database the first time (for the schema) and then SELECT, or for pushes INSERT and DELETE, on
   * the table. A login that can write the table decides every request, so grant that to no
   * other login.
   */
  readonly connectionString: string
  /** Schema of the `casbin` table. Lower-case letters, digits and `_`. Default `sqlgate_policy`. */
  readonly schema?: string
  /** Passed to node-postgres as `ssl`. Default: the setting in the connection string. */
  readonly ssl?: ClientConfig['ssl']
}

/** Payload of the notification that a push sends: the id of the sender, which ignores it. */
export interface PolicyChangeNotice {
  readonly source: string
  readonly version: string
}

export class PostgresPolicyStore {
  readonly schema: string
  readonly #pool: pg.Pool
  readonly #adapter: PostgresAdapter

  private constructor(schema: string, pool: pg.Pool, adapter: PostgresAdapter) {
    this.schema = schema
    this.#pool = pool
    this.#adapter = adapter
  }

  /**
   * Connects and creates the schema and table when they do not exist.
   * @throws TypeError when the schema name is invalid; the driver's error when the database
   *   cannot be reached or the login lacks the privileges.
   */
  static async open(options: PostgresPolicyStoreOptions): Promise<PostgresPolicyStore> {
    const schema = options.schema ?? DEFAULT_POLICY_SCHEMA
    if (!/^[a-z_][a-z0-9_]{0,47}$/.test(schema)) {
      throw new TypeError(
        `invalid policy schema "${schema}": use 1 to 48 lower-case letters, digits or "_"`,
      )
    }
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
      application_name: 'sqlgate-policy-store',
      max: 2,
      idleTimeoutMillis: 10_000,
      // Unqualified `casbin` in the adapter's queries resolves to this schema only.
      // NOTE: a pooler that drops startup options (PgBouncer in transaction mode) breaks this,
      // so connect directly to PostgreSQL.
      options: `-c search_path=${schema}`,
    })
    // An idle client that loses its connection is removed by the pool; without a listener the
    // error would crash the process.
    pool.on('error', () => {})
    try {
      await createTable(pool, schema)
      const adapter = await PostgresAdapter.newAdapter({
        migrate: false,
        dbClient: (run: RunWithClient) => withClient(pool, run),
      })
      return new PostgresPolicyStore(schema, pool, adapter)
    } catch (error) {
      await pool.end()
      throw error
    }
  }

  /** `postgres:<schema>`, the origin of policies read from this store. */
  get origin(): string {
    return `postgres:${this.schema}`
  }

  /** Notification channel that announces a changed policy in this schema. */
  get channel(): string {
    return `${this.schema}_changed`
  }

  /**
   * Reads the stored lines through the adapter and loads them with `model`.
   * @throws PolicyInvalid when the model or the lines fail to load; the driver's error when the
   *   table cannot be read.
   */
  load(model: string): Promise<CasbinAuthorizer> {
    return CasbinAuthorizer.fromAdapter(model, this.#adapter, this.origin)
  }

  /**
   * Replaces the stored lines with the policy's lines in one transaction, and announces the
   * change on `channel` in the same transaction, so listeners hear of it only after the commit
   * and never read a half-written policy. Concurrent pushes run one after the other.
   * @returns the version that instances loading the pushed lines will compute.
   * @throws PolicyInvalid when a field cannot be stored; the driver's error otherwise.
   */
  async push(authorizer: CasbinAuthorizer, source: string): Promise<string> {
    const rules = authorizer.policyRules()
    checkStorable(rules)
    // Duplicate lines would break the table's unique constraint, and the canonical form is what
    // every reader computes, so the push returns the version that the other instances will report.
    const canonical = await CasbinAuthorizer.create(
      createCanonicalPolicySource(authorizer.source.model, rules, this.origin),
    )
    const notice: PolicyChangeNotice = { source, version: canonical.version }

    const client = await this.#pool.connect()
    try {
      await client.query('BEGIN')
      // SHARE ROW EXCLUSIVE conflicts with itself but not with readers, so pushes queue up while
      // instances keep reading the committed lines.
      await client.query('LOCK TABLE casbin IN SHARE ROW EXCLUSIVE MODE')
      const adapter = await PostgresAdapter.newAdapter({
        migrate: false,
        dbClient: (run: RunWithClient) => run(client),
      })
      await canonical.savePolicyTo(adapter)
      await client.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(notice)])
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
    return canonical.version
  }

  /** Closes the store's connections. */
  async close(): Promise<void> {
    await this.#pool.end()
  }
}

async function createTable(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    // Instances that start together would race on CREATE ... IF NOT EXISTS without the lock.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('sqlgate_policy_store'))")
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${schema}.casbin (
        id serial PRIMARY KEY,
        ptype text NOT NULL,
        rule jsonb NOT NULL,
        CONSTRAINT casbin_uniq_rule UNIQUE (rule)
      )`)
    await client.query(`CREATE INDEX IF NOT EXISTS idx_casbin_ptype ON ${schema}.casbin (ptype)`)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}

type RunWithClient = (client: PoolClient) => Promise<unknown>

async function withClient<T>(pool: pg.Pool, run: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    return await run(client)
  } finally {
    client.release()
  }
}

/**
 * Rejects fields that the adapter cannot give back unchanged. It joins a line's fields with ", "
 * and Casbin splits them again as CSV, so a comma or quote would split or merge fields, and edge
 * spaces are trimmed. The table's unique constraint covers the fields only, so a `p` and a `g`
 * line with the same fields cannot both be stored.
 */
function checkStorable(rules: readonly PolicyRule[]): void {
  const problems: string[] = []
  const seen = new Map<string, string>()
  for (const { ptype, fields } of rules) {
    const line = [ptype, ...fields].join(', ')
    if (fields.some((field) => /[",\r\n]/.test(field) || field.trim() !== field)) {
      problems.push(`${line}: a field contains a comma, quote, line break or edge space`)
    }
    const key = JSON.stringify(fields)
    const other = seen.get(key)
    if (other !== undefined && other !== ptype) {
      problems.push(`${line}: a ${other} line has the same fields, which the table cannot store`)
    }
    seen.set(key, ptype)
  }
  if (problems.length > 0) {
    throw new PolicyInvalid('the policy cannot be stored in PostgreSQL', problems)
  }
}
