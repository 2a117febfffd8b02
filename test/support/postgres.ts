// A fresh PostgreSQL database per test run on the machine's service (127.0.0.1:5432, trust
// auth), dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN = { host: '127.0.0.1', port: 5432, user: process.env.PGUSER ?? 'postgres', database: 'postgres' };

export interface TestDatabase {
  name: string;
  dsn: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `irma_rev_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(ADMIN);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    dsn: `host=${ADMIN.host} port=${ADMIN.port} user=${ADMIN.user} dbname=${name} sslmode=disable`,
    async drop() {
      const c = new pg.Client(ADMIN);
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
