// End to end: our IRMA server on a loopback port, requestors talking to it over HTTP, and the
// client running the app's side — issuance with the reference private keys, disclosure,
// signatures, chained sessions, pairing and refusal.
import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { ClientError } from '../../src/client/errors.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions, type ServerOptions } from '../../src/server/options.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

const FULLNAME = 'irma-demo.MijnOverheid.fullName';
// Server and client keep time from the recording date on (2026-11-22), so that the reference
// issuer keys, which expire in 2030, never expire under this suite; time still passes.
const RECORDED_AT_MS = 1795335240_000;
const offset = RECORDED_AT_MS - Date.now();
const clock = () => Date.now() + offset;
const now = () => Math.floor(clock() / 1000);

interface SessionPackage {
  token: string;
  sessionPtr: { u: string; irmaqr: string };
  frontendRequest: { authorization: string };
}

async function irmaServer(schemes: SchemeRegistry, extra: Partial<ServerOptions> = {}) {
  // Port 0 and the url's ":port" placeholder: the listener's own port, with no window in which
  // another process could take a port picked beforehand.
  const options: ServerOptions = {
    ...defaultOptions(false),
    port: 0,
    listenAddr: '127.0.0.1',
    url: 'http://127.0.0.1:port',
    schemesPath: REFERENCE_SCHEMES,
    quiet: true,
    allowUnsignedCallbacks: true,
    ...extra,
  };
  const server: RunningServer = await startServer(options, { schemes, clock });
  const base = `http://127.0.0.1:${server.port}`;
  const post = async (body: unknown): Promise<SessionPackage> => {
    const res = await fetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as SessionPackage;
  };
  const result = async (token: string) => (await fetch(`${base}/session/${token}/result`)).json();
  return { server, base, post, result };
}

let schemes: SchemeRegistry;
let irma: Awaited<ReturnType<typeof irmaServer>>;
let client: IrmaClient;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  irma = await irmaServer(schemes);
  cleanup.push(() => irma.server.close());
  const dir = await mkdtemp(join(tmpdir(), 'irma-client-e2e-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  client = new IrmaClient({ storageDir: dir, schemes, pairingPollIntervalMs: 50, now });
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

const issuance = (credential: string, attributes: Record<string, string>) => ({
  '@context': 'https://irma.app/ld/request/issuance/v2',
  credentials: [{ credential, attributes }],
});

describe('against our server', () => {
  it('issues irma-demo.MijnOverheid.fullName with the reference keys', async () => {
    const pkg = await irma.post(issuance(FULLNAME, { firstnames: 'Alice Bo', firstname: 'Alice', familyname: 'Example', prefix: 'van' }));
    const out = await client.runSession(pkg.sessionPtr);
    expect(out).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(await irma.result(pkg.token)).toMatchObject({ status: 'DONE', type: 'issuing', proofStatus: 'VALID' });
    const creds = await client.credentials();
    expect(creds.find((c) => c.id === out.issued![0])?.attributes).toEqual({ firstnames: 'Alice Bo', firstname: 'Alice', familyname: 'Example', prefix: 'van' });
  });

  it('discloses it', async () => {
    const pkg = await irma.post({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.firstname`, `${FULLNAME}.prefix`]]] });
    await client.runSession(pkg.sessionPtr);
    const result = await irma.result(pkg.token);
    expect(result).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(result.disclosed[0].map((a: { id: string; rawvalue: string }) => [a.id, a.rawvalue])).toEqual([
      [`${FULLNAME}.firstname`, 'Alice'],
      [`${FULLNAME}.prefix`, 'van'],
    ]);
  });

  it('signs a message with it', async () => {
    const pkg = await irma.post({
      '@context': 'https://irma.app/ld/request/signature/v2',
      message: 'I hereby sign this message',
      disclose: [[[`${FULLNAME}.familyname`]]],
    });
    const out = await client.runSession(pkg.sessionPtr);
    const result = await irma.result(pkg.token);
    expect(result).toMatchObject({ status: 'DONE', type: 'signing', proofStatus: 'VALID' });
    expect(result.disclosed[0][0]).toMatchObject({ id: `${FULLNAME}.familyname`, rawvalue: 'Example' });
    expect(result.signature).toMatchObject({ message: 'I hereby sign this message', nonce: out.signature?.nonce });
  });

  it('issues irma-demo.stemmen.stempas with its random-blind votingnumber and discloses it', async () => {
    const pkg = await irma.post(issuance('irma-demo.stemmen.stempas', { election: 'Gemeenteraad 2026' }));
    const out = await client.runSession(pkg.sessionPtr);
    const cred = (await client.credentials()).find((c) => c.id === out.issued![0])!;
    expect(cred.attributes.votingnumber).toMatch(/^[0-9a-zA-Z]+$/);
    const d = await irma.post({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[['irma-demo.stemmen.stempas.votingnumber']]] });
    await client.runSession(d.sessionPtr);
    const result = await irma.result(d.token);
    expect(result.proofStatus).toBe('VALID');
    expect(result.disclosed[0][0].rawvalue).toBe(cred.attributes.votingnumber);
  });

  it('runs a chained session: disclosure, then an issuance the next-session URL asks for', async () => {
    let received: unknown;
    const next: Server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received = JSON.parse(body);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(issuance('irma-demo.MijnOverheid.singleton', { BSN: '999999990' })));
      });
    });
    await new Promise<void>((r) => next.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => next.close(r)));
    const pkg = await irma.post({
      nextSession: { url: `http://127.0.0.1:${(next.address() as AddressInfo).port}/next` },
      request: { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.familyname`]]] },
    });
    const out = await client.runSession(pkg.sessionPtr);
    expect(out.nextSession?.irmaqr).toBe('issuing');
    expect(out.next).toMatchObject({ type: 'issuing', status: 'DONE', proofStatus: 'VALID' });
    expect(received).toMatchObject({ status: 'CONNECTED', proofStatus: 'VALID' });
    const first = await irma.result(pkg.token);
    expect(first.nextSession).toMatch(/^[a-zA-Z0-9]{20}$/);
    expect(await irma.result(first.nextSession)).toMatchObject({ status: 'DONE', type: 'issuing', proofStatus: 'VALID' });
    expect((await client.credentials()).some((c) => c.attributes.BSN === '999999990')).toBe(true);
  });

  it.each([false, true])('pairs with the frontend (server-sent events: %s)', async (sse) => {
    const srv = sse ? await irmaServer(schemes, { sse: true }) : irma;
    if (sse) cleanup.push(() => srv.server.close());
    const pkg = await srv.post({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.firstname`]]] });
    const frontend = (path: string, body?: unknown) =>
      fetch(`${pkg.sessionPtr.u}/frontend/${path}`, {
        method: 'POST',
        headers: { Authorization: pkg.frontendRequest.authorization, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const options = await (await frontend('options', { '@context': 'https://irma.app/ld/request/frontendoptions/v1', pairingMethod: 'pin' })).json();
    let shown: string | undefined;
    await client.runSession(pkg.sessionPtr, {
      pairing: async (code) => {
        shown = code;
        expect(await (await fetch(`${srv.base}/session/${pkg.token}/status`)).json()).toBe('PAIRING');
        expect((await frontend('pairingcompleted')).status).toBe(204);
      },
    });
    expect(shown).toBe(options.pairingCode);
    expect(await srv.result(pkg.token)).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
  });

  it('discloses during an issuance', async () => {
    const pkg = await irma.post({
      ...issuance('irma-demo.MijnOverheid.singleton', { BSN: '123456789' }),
      disclose: [[[`${FULLNAME}.firstname`]]],
    });
    await client.runSession(pkg.sessionPtr);
    const result = await irma.result(pkg.token);
    expect(result).toMatchObject({ status: 'DONE', type: 'issuing', proofStatus: 'VALID' });
    expect(result.disclosed[0][0]).toMatchObject({ id: `${FULLNAME}.firstname`, rawvalue: 'Alice' });
  });

  it('starts a static session from its printed pointer', async () => {
    const srv = await irmaServer(schemes, {
      staticSessions: {
        mystatic: {
          callbackUrl: 'http://127.0.0.1:9/callback',
          request: { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.familyname`]]] },
        },
      },
    });
    cleanup.push(() => srv.server.close());
    const out = await client.runSession({ irmaqr: 'redirect', u: `${srv.base}/irma/session/mystatic` });
    expect(out).toMatchObject({ type: 'disclosing', status: 'DONE', proofStatus: 'VALID' });
  });

  it('refuses a session with DELETE', async () => {
    const pkg = await irma.post(issuance(FULLNAME, { firstnames: 'X', firstname: 'X', familyname: 'X' }));
    const before = (await client.credentials()).length;
    const out = await client.runSession(pkg.sessionPtr, { permission: () => false });
    expect(out.status).toBe('CANCELLED');
    expect(await irma.result(pkg.token)).toMatchObject({ status: 'CANCELLED', type: 'issuing' });
    expect(await client.credentials()).toHaveLength(before);
  });

  it('reports the server error type when the session is gone', async () => {
    const pkg = await irma.post({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.firstname`]]] });
    await fetch(`${irma.base}/session/${pkg.token}`, { method: 'DELETE' });
    await expect(client.runSession(pkg.sessionPtr)).rejects.toMatchObject({ type: 'serverResponse', remoteType: 'UNEXPECTED_REQUEST' });
  });

  it('gets a typed server error for a session that timed out before it connected', async () => {
    const pkg = await irma.post({
      timeout: 1,
      request: { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.firstname`]]] },
    });
    const status = async () => (await fetch(`${irma.base}/session/${pkg.token}/status`)).json();
    // Poll rather than sleep a fixed time: the deadline is read lazily, in whole seconds.
    const giveUp = Date.now() + 10_000;
    while ((await status()) !== 'TIMEOUT' && Date.now() < giveUp) await new Promise((r) => setTimeout(r, 100));
    expect(await status()).toBe('TIMEOUT');
    const err = await client.runSession(pkg.sessionPtr).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ type: 'serverResponse', httpStatus: 403, remoteType: 'UNEXPECTED_REQUEST' });
    expect(await irma.result(pkg.token)).toMatchObject({ status: 'TIMEOUT', type: 'disclosing' });
  });
});
