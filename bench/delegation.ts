/**
 * End-to-end delegated point selects against plain `pool.query` on the same server. A delegated
 * request resolves an already verified identity (no token verification) and checks the policy
 * with the decision cache on, as a service does. It then runs BEGIN READ ONLY, SET LOCAL ROLE,
 * the statement and COMMIT on a pooled connection. The server is the PostgreSQL in DATABASE_URL,
 * or an embedded PGlite when that is not set (one shared session, so a pool of one connection,
 * labelled as embedded in the report).
 */

import pg from 'pg'

import { PostgreSQLDelegationModule } from '../src/dialect/postgres/postgres-delegation-module.js'
import { startEmbeddedPostgres } from '../src/embedded/embedded-postgres.js'
import { createPolicyEngine } from '../src/engine/create-policy-engine.js'
import type { PolicyEngine } from '../src/engine/policy-engine.js'
import type { DelegationSession } from '../src/execute/delegation-module.js'
import { interleaveRounds, runConcurrently, type Budget, type Rate } from './harness.js'

/** Database role the delegated requests run as. */
const READER_ROLE = 'sqlgate_reader'
/** Service login of the modules on a server: NOINHERIT, a member of the reader role. */
const SERVICE_LOGIN = 'sqlgate_service'
/** Table read by every request, in `public` so that the shipped policy allows sql-read on it. */
const TABLE = 'public.sqlgate_bench_points'
const ROWS = 1000
const POINT_SELECT = `SELECT id, label FROM ${TABLE} WHERE id = $1`

export interface DelegationVariantResult {
  readonly name: string
  readonly rate: Rate
  /** Rate divided by plain `pool.query` on the same pool settings, per round. */
  readonly ratio: Rate
}

export interface DelegationResults {
  readonly server: 'server' | 'embedded'
  readonly serverVersion: string
  readonly poolSize: number
  readonly concurrency: number
  readonly requestsPerRound: number
  readonly variants: readonly DelegationVariantResult[]
}

interface Target {
  readonly kind: 'server' | 'embedded'
  readonly admin: pg.Client
  readonly host: string
  readonly port: number
  readonly database: string
  readonly user: string
  readonly poolSize: number
  close(): Promise<void>
}

async function openTarget(): Promise<Target> {
  const url = process.env['DATABASE_URL']
  if (url !== undefined && url !== '') {
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    const parsed = new URL(url)
    return {
      kind: 'server',
      admin,
      host: parsed.hostname,
      port: Number(parsed.port || 5432),
      database: decodeURIComponent(parsed.pathname.slice(1)),
      user: SERVICE_LOGIN,
      poolSize: 4,
      close: () => admin.end(),
    }
  }
  const embedded = await startEmbeddedPostgres()
  const admin = new pg.Client({ connectionString: embedded.connectionString })
  await admin.connect()
  return {
    kind: 'embedded',
    admin,
    host: embedded.host,
    port: embedded.port,
    database: embedded.database,
    user: embedded.user,
    // Every pglite-socket connection shares one session, so one connection at a time.
    poolSize: 1,
    async close() {
      await admin.end()
      await embedded.stop()
    },
  }
}

/** Creates the roles and the table idempotently, so the suite can run again on the same server. */
async function prepare(admin: pg.Client): Promise<void> {
  for (const [role, options] of [
    [READER_ROLE, 'NOLOGIN'],
    [SERVICE_LOGIN, 'LOGIN NOINHERIT'],
  ] as const) {
    await admin.query(
      `DO $$ BEGIN CREATE ROLE ${role} ${options}; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
    )
  }
  await admin.query(`GRANT ${READER_ROLE} TO ${SERVICE_LOGIN}`)
  await admin.query(`
    CREATE TABLE IF NOT EXISTS ${TABLE} (id int PRIMARY KEY, label text NOT NULL);
    INSERT INTO ${TABLE} SELECT n, 'point ' || n FROM generate_series(1, ${ROWS}) AS n
      ON CONFLICT (id) DO NOTHING;
    GRANT USAGE ON SCHEMA public TO ${READER_ROLE}, ${SERVICE_LOGIN};
    GRANT SELECT ON ${TABLE} TO ${READER_ROLE};
  `)
  // The plain baseline runs as the service login itself, so it needs its own grant on this
  // table (and only on this table, which no other test reads).
  await admin.query(`GRANT SELECT ON ${TABLE} TO ${SERVICE_LOGIN}`)
}

async function createModule(
  target: Target,
  engine: PolicyEngine,
  name: string,
  options: { pipeline: boolean; preparedStatements: boolean },
): Promise<PostgreSQLDelegationModule> {
  const module = new PostgreSQLDelegationModule(name, { engine })
  await module.initialize({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    pool: { max: target.poolSize },
    options,
  })
  return module
}

const session: DelegationSession = {
  identity: {
    subject: 'bench-user',
    legacyName: READER_ROLE,
    roles: ['sql-read'],
    issuer: 'https://idp.bench',
    audience: 'sqlgate',
    expiresAt: new Date(Date.now() + 24 * 3600 * 1000),
  },
}

/** Measures every variant in interleaved rounds. */
export async function measureDelegation(
  budget: Budget,
  log: (line: string) => void,
): Promise<DelegationResults> {
  const target = await openTarget()
  const modules: PostgreSQLDelegationModule[] = []
  try {
    await prepare(target.admin)
    const version = await target.admin.query<{ server_version: string }>('SHOW server_version')
    const engine = await createPolicyEngine()
    const plainModule = await createModule(target, engine, 'bench-default', {
      pipeline: false,
      preparedStatements: false,
    })
    const pipelined = await createModule(target, engine, 'bench-pipeline', {
      pipeline: true,
      preparedStatements: false,
    })
    const prepared = await createModule(target, engine, 'bench-pipeline-prepared', {
      pipeline: true,
      preparedStatements: true,
    })
    modules.push(plainModule, pipelined, prepared)

    // A wrong row or a wrong identity would make the figures meaningless, so check once first.
    const check = await prepared.delegate(session, 'query', {
      sql: `SELECT current_user AS who, label FROM ${TABLE} WHERE id = $1`,
      params: [7],
    })
    if (check.rows[0]?.['who'] !== READER_ROLE || check.rows[0]?.['label'] !== 'point 7') {
      throw new Error('the delegated point select returned an unexpected row')
    }

    const requests = budget.quick ? 100 : 2000
    const concurrency = Math.max(2, target.poolSize * 2)
    const point = (index: number): number => (index % ROWS) + 1
    const delegated = (module: PostgreSQLDelegationModule) => () =>
      runConcurrently(requests, concurrency, (index) =>
        module.delegate(session, 'query', { sql: POINT_SELECT, params: [point(index)] }),
      )
    const plain = (module: PostgreSQLDelegationModule) => () =>
      runConcurrently(requests, concurrency, (index) => module.pool.query(POINT_SELECT, [point(index)]))

    const rounds = await interleaveRounds(
      {
        'plain pool.query': plain(plainModule),
        'plain pool.query, pipelined pool': plain(prepared),
        'delegated, four round trips': delegated(plainModule),
        'delegated, pipeline': delegated(pipelined),
        'delegated, pipeline + prepared': delegated(prepared),
      },
      requests,
      budget.quick ? { rounds: 2, warmup: 1 } : { rounds: 9, warmup: 2 },
    )

    const baselineOf = (name: string): 'plain pool.query' | 'plain pool.query, pipelined pool' =>
      name === 'delegated, pipeline + prepared' || name === 'plain pool.query, pipelined pool'
        ? 'plain pool.query, pipelined pool'
        : 'plain pool.query'
    const variants = (Object.keys(rounds.rates) as (keyof typeof rounds.rates)[]).map((name) => ({
      name,
      rate: rounds.rates[name],
      ratio: rounds.ratio(name, baselineOf(name)),
    }))
    for (const variant of variants) {
      log(`  ${variant.name}: ${Math.round(variant.rate.median)} q/s, ${variant.ratio.median.toFixed(2)}x`)
    }
    return {
      server: target.kind,
      serverVersion: version.rows[0]?.server_version ?? 'unknown',
      poolSize: target.poolSize,
      concurrency,
      requestsPerRound: requests,
      variants,
    }
  } finally {
    for (const module of modules) await module.close()
    await target.close()
  }
}
