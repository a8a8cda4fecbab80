/**
 * The demo's shop database: customers, products, orders and a payroll table, filled with
 * generated rows, and three database roles with different grants.
 */

import type pg from 'pg'

/** Database roles the demo users impersonate. */
export const DEMO_ROLES = {
  analyst: 'demo_analyst',
  clerk: 'demo_clerk',
  dba: 'demo_dba',
} as const

/** A small deterministic generator, so every run shows the same rows. */
function createRandom(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
}

const FIRST_NAMES = ['Ada', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia']
const LAST_NAMES = ['Lovelace', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson']
const PRODUCTS = ['keyboard', 'monitor', 'desk lamp', 'notebook', 'headphones', 'webcam']

async function createRole(client: pg.Client, name: string): Promise<void> {
  await client.query(
    `DO $$ BEGIN CREATE ROLE ${name} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
  )
}

/** Creates (or recreates) the demo schema, its data and its grants. */
export async function createDemoSchema(client: pg.Client): Promise<void> {
  for (const role of Object.values(DEMO_ROLES)) await createRole(client, role)

  await client.query(`
    DROP SCHEMA IF EXISTS shop CASCADE;
    CREATE SCHEMA shop;
    CREATE TABLE shop.customers (
      id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, region text NOT NULL);
    CREATE TABLE shop.products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL);
    CREATE TABLE shop.orders (
      id serial PRIMARY KEY, customer_id int REFERENCES shop.customers,
      product_id int REFERENCES shop.products, quantity int NOT NULL, placed_at date NOT NULL);
    CREATE TABLE shop.payroll (employee text PRIMARY KEY, salary numeric(10,2) NOT NULL);
  `)

  const random = createRandom(7)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  for (let id = 1; id <= 40; id += 1) {
    const name = `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`
    const email = `${name.toLowerCase().replace(' ', '.')}${id}@example.com`
    await client.query('INSERT INTO shop.customers VALUES ($1, $2, $3, $4)', [
      id,
      name,
      email,
      pick(['north', 'south', 'east', 'west']),
    ])
  }
  for (const [index, name] of PRODUCTS.entries()) {
    await client.query('INSERT INTO shop.products VALUES ($1, $2, $3)', [
      index + 1,
      name,
      (10 + random() * 290).toFixed(2),
    ])
  }
  for (let order = 1; order <= 200; order += 1) {
    await client.query(
      `INSERT INTO shop.orders (customer_id, product_id, quantity, placed_at)
       VALUES ($1, $2, $3, DATE '2026-01-01' + $4::int)`,
      [1 + Math.floor(random() * 40), 1 + Math.floor(random() * PRODUCTS.length), 1 + Math.floor(random() * 5), order],
    )
  }
  await client.query(`INSERT INTO shop.payroll VALUES ('Ada', 9100), ('Grace', 9800)`)

  const { analyst, clerk, dba } = DEMO_ROLES
  await client.query(`
    GRANT USAGE ON SCHEMA shop TO ${analyst}, ${clerk}, ${dba};
    GRANT SELECT ON shop.customers, shop.products, shop.orders TO ${analyst};
    GRANT SELECT, INSERT, UPDATE ON shop.customers, shop.products, shop.orders TO ${clerk};
    GRANT USAGE ON SEQUENCE shop.orders_id_seq TO ${clerk};
    GRANT ALL ON ALL TABLES IN SCHEMA shop TO ${dba};
    GRANT CREATE ON SCHEMA shop TO ${dba};
  `)
}
