/** The demo's users and the requests they send, allowed and denied. */

export interface DemoUser {
  readonly name: string
  readonly roles: readonly string[]
  readonly databaseRole: 'analyst' | 'clerk' | 'dba'
  /** Sign the token with a key the identity provider never published. */
  readonly forged?: boolean
}

export const DEMO_USERS = {
  alice: { name: 'alice', roles: ['sql-read'], databaseRole: 'analyst' },
  bob: { name: 'bob', roles: ['sql-write'], databaseRole: 'clerk' },
  carol: { name: 'carol', roles: ['admin'], databaseRole: 'dba' },
  mallory: { name: 'mallory', roles: ['admin'], databaseRole: 'dba', forged: true },
} as const satisfies Record<string, DemoUser>

export interface DemoRequest {
  readonly user: keyof typeof DEMO_USERS
  readonly sql: string
  readonly params?: readonly unknown[]
}

export const DEMO_REQUESTS: readonly DemoRequest[] = [
  {
    user: 'alice',
    sql: 'SELECT region, count(*) AS customers FROM customers GROUP BY region ORDER BY region',
  },
  {
    user: 'alice',
    sql: `SELECT p.name, sum(o.quantity) AS sold FROM orders o JOIN products p ON p.id = o.product_id
GROUP BY p.name ORDER BY sold DESC LIMIT $1`,
    params: [3],
  },
  { user: 'alice', sql: 'DELETE FROM orders WHERE id = $1', params: [1] },
  {
    user: 'alice',
    sql: 'WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone',
  },
  { user: 'alice', sql: 'EXPLAIN ANALYZE DELETE FROM orders' },
  { user: 'alice', sql: 'SELECT employee, salary FROM payroll' },
  { user: 'alice', sql: "SELECT set_config('role', 'demo_dba', false)" },
  { user: 'alice', sql: "SELECT 1 /* ' */ ; DROP TABLE orders; -- ' */" },
  {
    user: 'bob',
    sql: 'INSERT INTO orders (customer_id, product_id, quantity, placed_at) VALUES ($1, $2, $3, current_date) RETURNING id',
    params: [1, 2, 1],
  },
  {
    user: 'bob',
    sql: 'UPDATE products SET price = price * 1.1 WHERE id = $1',
    params: [2],
  },
  {
    user: 'bob',
    sql: 'DELETE FROM customers WHERE id = $1',
    params: [40],
  },
  { user: 'bob', sql: 'DROP TABLE orders' },
  {
    user: 'carol',
    sql: 'CREATE TABLE order_notes (order_id int, note text)',
  },
  { user: 'carol', sql: 'SET ROLE postgres' },
  { user: 'mallory', sql: 'SELECT * FROM customers' },
]
