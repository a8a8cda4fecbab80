/**
 * PostgreSQL without a server: PGlite (PostgreSQL compiled to WebAssembly) served on a loopback
 * port through pglite-socket, so the same `pg` executor runs against it as against a server.
 *
 * > [!NOTE]
 * > Every pglite-socket connection shares one PostgreSQL session, so a pool on it must have one
 * > connection, and the login is always the PGlite superuser. Use it for the demo and for tests
 * > on a machine without a server, not for production.
 */

import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

export interface EmbeddedPostgres {
  readonly host: string
  readonly port: number
  readonly database: string
  readonly user: string
  /** A connection string for `pg`. */
  readonly connectionString: string
  stop(): Promise<void>
}

/** Starts PGlite in memory and serves it on 127.0.0.1 at a free port (or `port`). */
export async function startEmbeddedPostgres(port = 0): Promise<EmbeddedPostgres> {
  const db = await PGlite.create()
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 4 })
  await server.start()
  const address = server.getServerConn()
  const actualPort = Number(address.slice(address.lastIndexOf(':') + 1))
  if (!Number.isInteger(actualPort) || actualPort <= 0) {
    await server.stop()
    await db.close()
    throw new Error(`embedded PostgreSQL reported an unusable address: ${address}`)
  }
  return {
    host: '127.0.0.1',
    port: actualPort,
    database: 'postgres',
    user: 'postgres',
    connectionString: `postgres://postgres@127.0.0.1:${actualPort}/postgres`,
    async stop() {
      await server.stop()
      await db.close()
    },
  }
}
