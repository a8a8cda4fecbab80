/**
 * The PostgreSQL that integration tests run against: the server in DATABASE_URL when it is set,
 * else an embedded PGlite on a loopback port. Setup is idempotent, because roles are
 * cluster-wide and the suite must pass twice in a row on the same server.
 */

import pg from 'pg'

import type { PostgreSQLModuleConfig } from '../../src/dialect/postgres/postgres-delegation-module.js'
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/embedded-postgres.js'

/** Service login for the delegation module: NOINHERIT, member of the delegated roles only. */
export const SERVICE_LOGIN = 'sqlgate_service'
/** Database role of a sql-read user: SELECT on accounts, nothing on salaries. */
export const READER_ROLE = 'sqlgate_reader'
/** Database role of a sql-write user. */
export const WRITER_ROLE = 'sqlgate_writer'

export interface TestDatabase {
  readonly kind: 'server' | 'embedded'
  /** Connection settings for a delegation module, logging in as the service login on a server. */
  readonly moduleConfig: PostgreSQLModuleConfig
  /** The login a module's connections have: the service login, or the PGlite superuser. */
  readonly serviceLogin: string
  /** A superuser client for setup and for checks behind the module's back. */
  readonly admin: pg.Client
  close(): Promise<void>
}

export async function openTestDatabase(): Promise<TestDatabase> {
  const url = process.env['DATABASE_URL']
  if (url !== undefined && url !== '') return openServer(url)
  return openEmbedded(await startEmbeddedPostgres())
}

async function openServer(url: string): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await createRoles(admin)
  await createBankSchema(admin)
  const parsed = new URL(url)
  return {
    kind: 'server',
    moduleConfig: {
      host: parsed.hostname,
      port: Number(parsed.port || 5432),
      database: decodeURIComponent(parsed.pathname.slice(1)),
      user: SERVICE_LOGIN,
      pool: { max: 4 },
    },
    serviceLogin: SERVICE_LOGIN,
    admin,
    close: () => admin.end(),
  }
}

async function openEmbedded(embedded: EmbeddedPostgres): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: embedded.connectionString })
  await admin.connect()
  await createRoles(admin)
  await createBankSchema(admin)
  return {
    kind: 'embedded',
    moduleConfig: {
      host: embedded.host,
      port: embedded.port,
      database: embedded.database,
      user: embedded.user,
      // Every pglite-socket connection shares one session, so one connection at a time.
      pool: { max: 1 },
    },
    serviceLogin: embedded.user,
    admin,
    async close() {
      await admin.end()
      await embedded.stop()
    },
  }
}

async function createRole(admin: pg.Client, name: string, options: string): Promise<void> {
  await admin.query(
    `DO $$ BEGIN CREATE ROLE ${name} ${options}; ` +
      `EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
  )
}

async function createRoles(admin: pg.Client): Promise<void> {
  await createRole(admin, READER_ROLE, 'NOLOGIN')
  await createRole(admin, WRITER_ROLE, 'NOLOGIN')
  await createRole(admin, SERVICE_LOGIN, 'LOGIN NOINHERIT')
  await admin.query(`GRANT ${READER_ROLE}, ${WRITER_ROLE} TO ${SERVICE_LOGIN}`)
}

/** Creates the schema the public attack cases assume, with a few rows. */
async function createBankSchema(admin: pg.Client): Promise<void> {
  await admin.query(`
    CREATE TABLE IF NOT EXISTS public.accounts (id int PRIMARY KEY, balance numeric NOT NULL);
    CREATE TABLE IF NOT EXISTS public.salaries (id int PRIMARY KEY, amount numeric NOT NULL);
    CREATE TABLE IF NOT EXISTS public.audit_trail (id serial PRIMARY KEY, note text NOT NULL);
    CREATE SEQUENCE IF NOT EXISTS public.invoice_seq;
    TRUNCATE public.accounts, public.salaries, public.audit_trail;
    INSERT INTO public.accounts VALUES (1, 100), (2, 250), (3, 75);
    INSERT INTO public.salaries VALUES (1, 5000), (2, 7000);
    REVOKE ALL ON public.accounts, public.salaries, public.audit_trail FROM ${READER_ROLE}, ${WRITER_ROLE};
    GRANT SELECT ON public.accounts TO ${READER_ROLE};
    GRANT SELECT, INSERT, UPDATE, DELETE ON public.accounts, public.salaries, public.audit_trail
      TO ${WRITER_ROLE};
    GRANT USAGE ON SEQUENCE public.audit_trail_id_seq TO ${WRITER_ROLE};
    GRANT USAGE ON SCHEMA public TO ${READER_ROLE}, ${WRITER_ROLE};
  `)
}
