// The authority and mirror roles over a real PostgreSQL (a database per run): initial
// accumulators, issuance records, revocation in one transaction, restart without loss, the
// recorded reference database served byte for byte, a mirror synced over HTTP, concurrency.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { openSignedAccumulator } from '../../src/revocation/accumulator.js';
import { encodeUpdate, encodeUpdateMap, encodeEventList, decodeUpdate, verifyUpdate } from '../../src/revocation/update.js';
import { MemoryRevocationStore } from '../../src/revocation/memory-store.js';
import { RevocationService } from '../../src/revocation/service.js';
import { SqlRevocationStore } from '../../src/revocation/sql-store.js';
import { updateWitness } from '../../src/revocation/witness.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { CRED_TYPE, mijnOverheidKey, pk2, revocationVectors } from './fixtures.js';

let schemes: SchemeRegistry;
let db: TestDatabase;
const open: RevocationService[] = [];

async function authority(dsn = db.dsn): Promise<RevocationService> {
  const s = new RevocationService({
    schemes,
    store: await SqlRevocationStore.open(dsn),
    settings: { [CRED_TYPE]: { authority: true, server: true, revocationServerUrl: '', tolerance: 0, sse: false } },
  });
  await s.start();
  open.push(s);
  return s;
}

const record = (key: string, attr: bigint, issued: bigint) => ({
  key,
  credType: CRED_TYPE,
  issued,
  pkCounter: 2,
  attr,
  validUntil: BigInt(Date.now() + 3_600_000) * 1_000_000n,
  revokedAt: 0n,
});

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const s of open) await s.close().catch(() => undefined);
  await db?.drop();
});

describe('authority on PostgreSQL', () => {
  it('creates accumulators for keys 1 and 2, revokes, and keeps everything across a restart', async () => {
    const a = await authority();
    expect(await a.store.counters(CRED_TYPE)).toEqual([1, 2]);
    const w1 = await a.witness(CRED_TYPE, schemes.privateKey('irma-demo.MijnOverheid', 2)!);
    const w2 = await a.witness(CRED_TYPE, schemes.privateKey('irma-demo.MijnOverheid', 2)!);
    await a.recordIssuance(record('alice', w1.e, 1n));
    await a.recordIssuance(record('bob', w2.e, 2n));
    await expect(a.recordIssuance(record('bob', w2.e, 2n))).rejects.toThrow(/revocation database error/);
    expect(await a.revoke(CRED_TYPE, 'alice')).toBe(1);
    await expect(a.revoke(CRED_TYPE, 'alice')).rejects.toMatchObject({ code: 'UNKNOWN_REVOCATION_KEY' });
    await expect(a.revoke(CRED_TYPE, 'bob', 3n)).rejects.toMatchObject({ code: 'UNKNOWN_REVOCATION_KEY' });

    // A second process on the same database sees the same state; nothing was lost.
    const b = await authority();
    const u = (await b.update(CRED_TYPE, 2, 16))!;
    expect(verifyUpdate(u, mijnOverheidKey).index).toBe(1);
    expect((await b.store.issuanceRecords(CRED_TYPE, 'alice'))[0].revokedAt).toBeGreaterThan(0n);
    expect(updateWitness(w2, u, pk2).accumulator.index).toBe(1);
    expect(() => updateWitness(w1, u, pk2)).toThrow(/revoked/);
  });

  it('keeps the chain intact when two processes revoke at once', async () => {
    const a = await authority();
    const b = await authority();
    const sk = schemes.privateKey('irma-demo.MijnOverheid', 2)!;
    const keys = Array.from({ length: 8 }, (_, i) => `c${i}`);
    for (const [i, k] of keys.entries()) await a.recordIssuance(record(k, (await a.witness(CRED_TYPE, sk)).e, BigInt(100 + i)));
    const before = (await a.update(CRED_TYPE, 2, 0))!.events.length;
    await Promise.all(keys.map((k, i) => (i % 2 ? a : b).revoke(CRED_TYPE, k)));
    const u = (await a.update(CRED_TYPE, 2, 0))!;
    expect(u.events.length).toBe(before + keys.length);
    expect(verifyUpdate(u, mijnOverheidKey).index).toBe(before + keys.length - 1);
    await a.resign(CRED_TYPE);
    expect(verifyUpdate((await b.update(CRED_TYPE, 2, 1))!, mijnOverheidKey).index).toBe(before + keys.length - 1);
  });
});

describe('the recorded reference database', () => {
  it('is served byte for byte from its rows', async () => {
    const other = await createTestDatabase();
    try {
      const first = await SqlRevocationStore.open(other.dsn);
      await first.close();
      const c = new pg.Client({ host: '127.0.0.1', user: process.env.PGUSER ?? 'postgres', database: other.name });
      await c.connect();
      const state = revocationVectors.revocationEndpoints.dbState;
      for (const r of state.accumulator_records) {
        await c.query('INSERT INTO accumulator_records VALUES ($1, $2, $3)', [r.cred_type, r.pk_counter, Buffer.from(r.data, 'base64')]);
      }
      for (const r of state.event_records) {
        await c.query('INSERT INTO event_records VALUES ($1, $2, $3, $4, $5)', [
          r.eventindex, r.cred_type, r.pk_counter, Buffer.from(r.e, 'base64'), Buffer.from(r.parent_hash, 'base64'),
        ]);
      }
      await c.end();
      const s = new RevocationService({
        schemes,
        store: await SqlRevocationStore.open(other.dsn),
        settings: { [CRED_TYPE]: { authority: true, server: true, revocationServerUrl: '', tolerance: 0, sse: false } },
      });
      open.push(s);
      const served = (label: string) =>
        Buffer.from(revocationVectors.revocationEndpoints.requests.find((r: { label: string }) => r.label === label).responseBodyBase64, 'base64').toString('hex');
      const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
      expect(hex(encodeUpdate((await s.update(CRED_TYPE, 2, 16))!))).toBe(served('update-16-pk2'));
      expect(hex(encodeUpdate((await s.update(CRED_TYPE, 2, 1))!))).toBe(served('update-1-pk2'));
      expect(hex(encodeUpdate((await s.update(CRED_TYPE, 2, 0))!))).toBe(served('update-0-pk2'));
      expect(hex(encodeEventList(await s.events(CRED_TYPE, 2, 0, 512)))).toBe(served('events-pk2-0-512'));
      expect(hex(encodeEventList(await s.events(CRED_TYPE, 2, 16, 32)))).toBe(served('events-pk2-16-32'));
      await expect(s.events(CRED_TYPE, 2, 32, 48)).rejects.toThrow('revocation state not found');
      await expect(s.events(CRED_TYPE, 2, 0, 5)).rejects.toThrow('illegal update interval');
      expect(await s.update(CRED_TYPE, 3, 16)).toBeNull();
      // The recorded issuance record, signed by the issuer, is accepted once, then refused.
      const post = revocationVectors.revocationEndpoints.requests.find((r: { label: string }) => r.label === 'issuancerecord-replay');
      const body = Buffer.from(post.requestBodyBase64, 'base64');
      await s.acceptIssuanceRecord(CRED_TYPE, 2, body);
      await expect(s.acceptIssuanceRecord(CRED_TYPE, 2, body)).rejects.toMatchObject({ code: 'REVOCATION' });
      const flipped = Buffer.from(body);
      flipped[flipped.length - 5] ^= 1;
      await expect(s.acceptIssuanceRecord(CRED_TYPE, 2, flipped)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      await expect(s.acceptIssuanceRecord(CRED_TYPE, 1, body)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      await expect(s.acceptIssuanceRecord(CRED_TYPE, 2, Uint8Array.of(1, 2, 3))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    } finally {
      await other.drop();
    }
  });
});

describe('a verifier syncing from a revocation server', () => {
  let http: Server;
  let authorityService: RevocationService;
  beforeAll(async () => {
    authorityService = await authority();
    http = createServer((req, res) => {
      const m = /^\/revocation\/([^/]+)\/update\/(\d+)$/.exec(req.url ?? '');
      if (!m) return res.writeHead(404).end();
      void authorityService.latestUpdates(m[1], Number(m[2])).then((u) => res.writeHead(200).end(Buffer.from(encodeUpdateMap(u))));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => http.close(() => r())));

  it('fetches, verifies and stores updates, and follows later revocations', async () => {
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const v = new RevocationService({
      schemes,
      store: new MemoryRevocationStore(),
      settings: { [CRED_TYPE]: { authority: false, server: false, revocationServerUrl: url, tolerance: 60, sse: false } },
    });
    open.push(v);
    const updates = await v.updatesForSession(CRED_TYPE);
    expect(Object.keys(updates).sort()).toEqual(['1', '2']);
    const sk = schemes.privateKey('irma-demo.MijnOverheid', 2)!;
    const w = await authorityService.witness(CRED_TYPE, sk);
    await authorityService.recordIssuance(record('carol', w.e, 999n));
    await authorityService.revoke(CRED_TYPE, 'carol');
    await v.sync(CRED_TYPE);
    const mine = (await v.update(CRED_TYPE, 2, 16))!;
    const theirs = (await authorityService.update(CRED_TYPE, 2, 16))!;
    expect(openSignedAccumulator(mine.sacc, pk2)).toEqual(openSignedAccumulator(theirs.sacc, pk2));
    expect(decodeUpdate(encodeUpdate(mine))).toEqual(mine);
  });
});
