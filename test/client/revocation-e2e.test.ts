// Revocation end to end over real HTTP and a real PostgreSQL: an authority server (issuer and
// verifier too), a second server process as verifier/issuer pointed at it, our headless client.
// issue → disclose VALID notrevoked → revoke → the revoked credential can no longer satisfy
// the request; another holder's lagging witness catches up; a restart loses nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions, type ServerOptions } from '../../src/server/options.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

const ROOT = 'irma-demo.MijnOverheid.root';
const TOKEN = 'revocation-e2e-token';
const RECORDED_AT_MS = 1795335240_000;
const offset = RECORDED_AT_MS - Date.now();
const clock = () => Date.now() + offset;
const now = () => Math.floor(clock() / 1000);

let schemes: SchemeRegistry;
let db: TestDatabase;
const cleanup: (() => Promise<unknown>)[] = [];

async function irmaServer(extra: Partial<ServerOptions>) {
  const options: ServerOptions = {
    ...defaultOptions(false),
    port: 0,
    listenAddr: '127.0.0.1',
    url: 'http://127.0.0.1:port',
    schemesPath: REFERENCE_SCHEMES,
    quiet: true,
    noAuth: false,
    requestors: { req: { authMethod: 'token', key: TOKEN, revokePerms: [ROOT] } },
    ...extra,
  };
  const server: RunningServer = await startServer(options, { schemes, clock });
  const base = `http://127.0.0.1:${server.port}`;
  const headers = { 'Content-Type': 'application/json', Authorization: TOKEN };
  const post = async (body: unknown) => {
    const res = await fetch(`${base}/session`, { method: 'POST', headers, body: JSON.stringify(body) });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`POST /session: ${res.status} ${JSON.stringify(json)}`);
    return json as { token: string; sessionPtr: { u: string; irmaqr: string } };
  };
  const result = async (token: string) => (await fetch(`${base}/session/${token}/result`, { headers })).json();
  const revoke = (key: string, auth = TOKEN) =>
    fetch(`${base}/revocation`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: auth },
      body: JSON.stringify({ '@context': 'https://irma.app/ld/request/revocation/v1', type: ROOT, revocationKey: key }),
    });
  return { server, base, post, result, revoke };
}

async function wallet() {
  const dir = await mkdtemp(join(tmpdir(), 'irma-rev-e2e-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return new IrmaClient({ storageDir: dir, schemes, pairingPollIntervalMs: 50, now });
}

const issueRoot = (key: string, bsn: string) => ({
  '@context': 'https://irma.app/ld/request/issuance/v2',
  credentials: [{ credential: ROOT, attributes: { BSN: bsn }, revocationKey: key }],
});
const discloseBsn = { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${ROOT}.BSN`]]], revocation: [ROOT] };

let authority: Awaited<ReturnType<typeof irmaServer>>;
let issuer: Awaited<ReturnType<typeof irmaServer>>;

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  db = await createTestDatabase();
  authority = await irmaServer({
    revocationDbType: 'postgres',
    revocationDbStr: db.dsn,
    revocationSettings: { [ROOT]: { authority: true } },
  });
  cleanup.push(() => authority.server.close());
  issuer = await irmaServer({ revocationSettings: { [ROOT]: { revocationServerUrl: `${authority.base}/irma` } } });
  cleanup.push(() => issuer.server.close());
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await db?.drop();
});

describe('revocation end to end', () => {
  it('refuses a revocable issuance without revocationKey', async () => {
    await expect(authority.post({ ...issueRoot('x', '1'), credentials: [{ credential: ROOT, attributes: { BSN: '1' } }] })).rejects.toThrow(
      /no revocationKey specified/,
    );
  });

  it('issues, discloses notrevoked, revokes, and then the credential no longer satisfies the request', async () => {
    const alice = await wallet();
    const issued = await alice.runSession((await authority.post(issueRoot('alice', '111'))).sessionPtr);
    expect(issued).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });

    const d1 = await authority.post(discloseBsn);
    await alice.runSession(d1.sessionPtr);
    const r1 = await authority.result(d1.token);
    expect(r1).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(r1.disclosed[0][0]).toMatchObject({ rawvalue: '111', notrevoked: true });

    const rev = await authority.revoke('alice');
    expect(rev.status).toBe(200);
    expect(await rev.text()).toBe('OK');
    expect((await authority.revoke('alice')).status).toBe(404);
    expect((await authority.revoke('alice', 'wrong')).status).toBe(403);

    const d2 = await authority.post(discloseBsn);
    await expect(alice.runSession(d2.sessionPtr)).rejects.toThrow();
    expect((await authority.result(d2.token)).status).toBe('CANCELLED');
  });

  it('issues through a non-authority issuer; a lagging witness catches up at a verifier elsewhere', async () => {
    const bob = await wallet();
    const carol = await wallet();
    await bob.runSession((await issuer.post(issueRoot('bob', '222'))).sessionPtr);
    await carol.runSession((await authority.post(issueRoot('carol', '333'))).sessionPtr);
    expect((await authority.revoke('carol')).status).toBe(200);
    // Bob's witness predates this revocation: the authority's request carries the new event and
    // Bob moves his witness forward; Carol finds herself revoked.
    const d = await authority.post(discloseBsn);
    await bob.runSession(d.sessionPtr);
    const r = await authority.result(d.token);
    expect(r).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(r.disclosed[0][0]).toMatchObject({ rawvalue: '222', notrevoked: true });
    const dc = await authority.post(discloseBsn);
    await expect(carol.runSession(dc.sessionPtr)).rejects.toThrow();
    expect((await authority.result(dc.token)).status).toBe('CANCELLED');
    // The other process fetched within tolerance/2 and hands out its older state; Bob's newer
    // accumulator is accepted there (as the reference's stale verifier does).
    const di = await issuer.post(discloseBsn);
    await bob.runSession(di.sessionPtr);
    expect(await issuer.result(di.token)).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
  });

  it('runs a mirror that copies the authority and serves the same signed state', async () => {
    const mirrorDb = await createTestDatabase();
    cleanup.push(() => mirrorDb.drop());
    const mirror = await irmaServer({
      revocationDbType: 'postgres',
      revocationDbStr: mirrorDb.dsn,
      revocationSettings: { [ROOT]: { server: true, revocationServerUrl: `${authority.base}/irma` } },
    });
    cleanup.push(() => mirror.server.close());
    const path = `/irma/revocation/${ROOT}/update/16/2`;
    const theirs = Buffer.from(await (await fetch(`${authority.base}${path}`)).arrayBuffer());
    const res = await fetch(`${mirror.base}${path}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(theirs)).toBe(true);
    // Revocation stays the authority's.
    expect((await mirror.revoke('bob')).status).toBe(500);
  });

  it('serves the CBOR endpoints and keeps its state across a restart', async () => {
    const res = await fetch(`${authority.base}/irma/revocation/${ROOT}/update/16/2`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('cache-control')).toMatch(/^max-age=-?\d+$/);
    expect((await fetch(`${authority.base}/irma/revocation/${ROOT}/events/2/0/5`)).status).toBe(500);
    expect((await fetch(`${authority.base}/irma/revocation/irma-demo.MijnOverheid.fullName/update/16`)).status).toBe(400);
    expect((await fetch(`${authority.base}/irma/revocation/${ROOT}/foo`)).status).toBe(404);
    expect((await fetch(`${authority.base}/irma/revocation/${ROOT}/update/16`, { method: 'POST' })).status).toBe(405);
    const before = Buffer.from(await (await fetch(`${authority.base}/irma/revocation/${ROOT}/update/0/2`)).arrayBuffer());

    const again = await irmaServer({
      revocationDbType: 'postgres',
      revocationDbStr: db.dsn,
      revocationSettings: { [ROOT]: { authority: true } },
    });
    cleanup.push(() => again.server.close());
    const after = Buffer.from(await (await fetch(`${again.base}/irma/revocation/${ROOT}/update/0/2`)).arrayBuffer());
    expect(after.equals(before)).toBe(true);
    // The restarted authority still knows the records: a second revocation of alice is refused,
    // bob's can be revoked.
    expect((await again.revoke('alice')).status).toBe(404);
    expect((await again.revoke('bob')).status).toBe(200);
  });
});

describe('a witness more than RevocationUpdateCount events behind', () => {
  it("fetches the missing events from the scheme's revocation server and proves non-revocation", async () => {
    // The scheme names http://localhost:48683 (without /irma): stand in for it with a forwarder.
    const { createServer } = await import('node:http');
    const forwarded: string[] = [];
    const forwarder = createServer((req, res) => {
      forwarded.push(req.url ?? '');
      void fetch(`${authority.base}/irma${req.url}`).then(async (r) => {
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
        res.end(Buffer.from(await r.arrayBuffer()));
      });
    });
    const listening = await new Promise<boolean>((resolve) => {
      forwarder.once('error', () => resolve(false));
      forwarder.listen(48683, '127.0.0.1', () => resolve(true));
    });
    if (!listening) throw new Error("port 48683 taken");
    cleanup.push(() => new Promise<void>((r) => forwarder.close(() => r())));

    const dave = await wallet();
    await dave.runSession((await authority.post(issueRoot('dave', '444'))).sessionPtr);
    // 17 revocations of others: the session's update (16 events) no longer reaches Dave's witness.
    const others = await Promise.all(Array.from({ length: 17 }, () => wallet()));
    for (const [i, w] of others.entries()) await w.runSession((await authority.post(issueRoot(`filler-${i}`, `5${i}`))).sessionPtr);
    for (let i = 0; i < others.length; i++) expect((await authority.revoke(`filler-${i}`)).status).toBe(200);

    const d = await authority.post(discloseBsn);
    await dave.runSession(d.sessionPtr);
    const r = await authority.result(d.token);
    expect(r).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(r.disclosed[0][0]).toMatchObject({ rawvalue: '444', notrevoked: true });
    expect(forwarded.some((u) => /^\/revocation\/irma-demo\.MijnOverheid\.root\/events\/2\/\d+\/\d+$/.test(u))).toBe(true);
  }, 60_000);
});

describe('a verifier that cannot reach any revocation server', () => {
  it('cancels the session with REVOCATION when the app connects', async () => {
    const lonely = await irmaServer({ revocationSettings: { [ROOT]: { revocationServerUrl: 'http://127.0.0.1:9' } } });
    cleanup.push(() => lonely.server.close());
    const pkg = await lonely.post(discloseBsn);
    const res = await fetch(pkg.sessionPtr.u, {
      headers: { 'X-IRMA-MinProtocolVersion': '2.4', 'X-IRMA-MaxProtocolVersion': '2.8', Authorization: 'x'.repeat(20) },
    });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: string }).error).toBe('REVOCATION');
    expect((await lonely.result(pkg.token)).status).toBe('CANCELLED');
  });
});
