// Revocation state in PostgreSQL, in the reference's tables and columns (GORM's names), so a
// database an irmago server filled can be pointed at and shared with it. Writers of one
// credential type are serialized by a transaction-scoped advisory lock, which also covers the
// moment before a type's first row exists; a revocation changes accumulator, events and
// issuance records in one transaction (the reference commits them separately).
import pg from 'pg';
import { fromBytes, toBytes } from '../idemix/bigint.js';
import type { SignedAccumulator } from './accumulator.js';
import { decodeCbor, encodeCbor } from './cbor.js';
import { RevocationError } from './errors.js';
import type { RevocationEvent } from './events.js';
import type { IssuanceRecord, RevocationStore, RevocationWriteTx, StoredHead } from './store.js';

const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS accumulator_records (
     cred_type text NOT NULL, pk_counter bigint NOT NULL, data bytea,
     PRIMARY KEY (cred_type, pk_counter))`,
  `CREATE TABLE IF NOT EXISTS event_records (
     eventindex bigint NOT NULL, cred_type text NOT NULL, pk_counter bigint NOT NULL, e bytea, parent_hash bytea,
     PRIMARY KEY (eventindex, cred_type, pk_counter))`,
  `CREATE TABLE IF NOT EXISTS issuance_records (
     revocationkey text NOT NULL, cred_type text NOT NULL, issued bigint NOT NULL, pk_counter bigint,
     attr bytea, valid_until bigint, revoked_at bigint,
     PRIMARY KEY (revocationkey, cred_type, issued))`,
];

type Queryable = Pick<pg.PoolClient, 'query'>;

/** The stored `data`: a CBOR byte string around the signed message, as GORM's model writes it. */
function accumulatorData(sacc: SignedAccumulator): Buffer {
  return Buffer.from(encodeCbor(sacc.data));
}

function saccFromRow(data: Buffer, counter: number): SignedAccumulator {
  const inner = decodeCbor(data);
  if (!(inner instanceof Uint8Array)) throw new RevocationError('REVOCATION', 'stored accumulator is not a CBOR byte string');
  return { data: inner, pk: counter };
}

function eventFromRow(r: { eventindex: string; e: Buffer; parent_hash: Buffer }): RevocationEvent {
  return { index: Number(r.eventindex), e: fromBytes(r.e), parentHash: new Uint8Array(r.parent_hash) };
}

function recordFromRow(r: Record<string, unknown>): IssuanceRecord {
  return {
    key: r.revocationkey as string,
    credType: r.cred_type as string,
    issued: BigInt(r.issued as string),
    pkCounter: Number(r.pk_counter),
    attr: fromBytes(r.attr as Buffer),
    validUntil: BigInt((r.valid_until as string | null) ?? 0),
    revokedAt: BigInt((r.revoked_at as string | null) ?? 0),
  };
}

async function headOf(db: Queryable, credType: string, counter: number): Promise<StoredHead | undefined> {
  const acc = await db.query('SELECT data FROM accumulator_records WHERE cred_type = $1 AND pk_counter = $2', [credType, counter]);
  if (acc.rowCount === 0) return undefined;
  const ev = await db.query(
    'SELECT eventindex, e, parent_hash FROM event_records WHERE cred_type = $1 AND pk_counter = $2 ORDER BY eventindex DESC LIMIT 1',
    [credType, counter],
  );
  if (ev.rowCount === 0) return undefined;
  return { sacc: saccFromRow(acc.rows[0].data, counter), last: eventFromRow(ev.rows[0]) };
}

export class SqlRevocationStore implements RevocationStore {
  readonly durable = true;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Connects and migrates (idempotent, serialized between processes). */
  static async open(connectionString: string): Promise<SqlRevocationStore> {
    const pool = new pg.Pool({ ...parseDsn(connectionString), max: 8 });
    pool.on('error', () => undefined);
    const store = new SqlRevocationStore(pool);
    try {
      await store.#tx(async (c) => {
        await c.query("SELECT pg_advisory_xact_lock(hashtext('irma_revocation_migrate'))");
        for (const m of MIGRATIONS) await c.query(m);
      });
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new RevocationError('REVOCATION', `revocation database: ${(e as Error).message}`);
    }
    return store;
  }

  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async counters(credType: string): Promise<number[]> {
    const r = await this.#pool.query('SELECT pk_counter FROM accumulator_records WHERE cred_type = $1 ORDER BY pk_counter', [credType]);
    return r.rows.map((x) => Number(x.pk_counter));
  }

  head(credType: string, counter: number): Promise<StoredHead | undefined> {
    return headOf(this.#pool, credType, counter);
  }

  async events(credType: string, counter: number, from: number, to: number): Promise<RevocationEvent[]> {
    const r = await this.#pool.query(
      `SELECT eventindex, e, parent_hash FROM event_records
       WHERE cred_type = $1 AND pk_counter = $2 AND eventindex >= $3 AND eventindex < $4 ORDER BY eventindex`,
      [credType, counter, from, to],
    );
    return r.rows.map(eventFromRow);
  }

  write<T>(credType: string, fn: (tx: RevocationWriteTx) => Promise<T>): Promise<T> {
    return this.#tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`irma_revocation:${credType}`]);
      const tx: RevocationWriteTx = {
        head: (counter) => headOf(c, credType, counter),
        putAccumulator: async (counter, sacc) => {
          await c.query(
            `INSERT INTO accumulator_records (cred_type, pk_counter, data) VALUES ($1, $2, $3)
             ON CONFLICT (cred_type, pk_counter) DO UPDATE SET data = EXCLUDED.data`,
            [credType, counter, accumulatorData(sacc)],
          );
        },
        insertEvents: async (counter, events) => {
          for (const e of events) {
            await c.query('INSERT INTO event_records (eventindex, cred_type, pk_counter, e, parent_hash) VALUES ($1, $2, $3, $4, $5)', [
              e.index,
              credType,
              counter,
              toBytes(e.e),
              Buffer.from(e.parentHash),
            ]);
          }
        },
        unrevokedRecords: async (key, issued) => {
          const r = await c.query(
            `SELECT * FROM issuance_records WHERE cred_type = $1 AND revocationkey = $2 AND revoked_at = 0
             ${issued !== undefined ? 'AND issued = $3' : ''} FOR UPDATE`,
            issued !== undefined ? [credType, key, issued.toString()] : [credType, key],
          );
          return r.rows.map(recordFromRow);
        },
        markRevoked: async (rec, at) => {
          await c.query('UPDATE issuance_records SET revoked_at = $1 WHERE cred_type = $2 AND revocationkey = $3 AND issued = $4', [
            at.toString(),
            rec.credType,
            rec.key,
            rec.issued.toString(),
          ]);
        },
      };
      return fn(tx);
    });
  }

  async insertIssuanceRecord(r: IssuanceRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO issuance_records (revocationkey, cred_type, issued, pk_counter, attr, valid_until, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [r.key, r.credType, r.issued.toString(), r.pkCounter, toBytes(r.attr), r.validUntil.toString(), r.revokedAt.toString()],
    );
  }

  async issuanceRecords(credType: string, key: string): Promise<IssuanceRecord[]> {
    const r = await this.#pool.query('SELECT * FROM issuance_records WHERE cred_type = $1 AND revocationkey = $2 ORDER BY issued', [credType, key]);
    return r.rows.map(recordFromRow);
  }

  async deleteExpiredIssuanceRecords(nowNs: bigint): Promise<number> {
    const r = await this.#pool.query('DELETE FROM issuance_records WHERE valid_until < $1', [nowNs.toString()]);
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/**
 * Accepts both a URL (postgres://…) and the key=value form the reference's examples use
 * (`host=127.0.0.1 port=5432 user=… dbname=… password='…' sslmode=disable`).
 */
export function parseDsn(dsn: string): pg.PoolConfig {
  if (/^postgres(ql)?:\/\//.test(dsn)) return { connectionString: dsn };
  const out: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/g;
  for (let m = re.exec(dsn); m !== null; m = re.exec(dsn)) out[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  const cfg: pg.PoolConfig = {};
  if (out.host) cfg.host = out.host;
  if (out.port) cfg.port = Number(out.port);
  if (out.user) cfg.user = out.user;
  if (out.password) cfg.password = out.password;
  if (out.dbname) cfg.database = out.dbname;
  if (out.sslmode && out.sslmode !== 'disable') cfg.ssl = out.sslmode === 'require' ? { rejectUnauthorized: false } : true;
  return cfg;
}
