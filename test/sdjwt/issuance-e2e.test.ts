// End to end: our server with SD-JWT VC issuer directories on a loopback port, a requestor over
// HTTP and the headless client as the app. Idemix credentials and SD-JWT VCs both arrive; every
// SD-JWT VC is judged by @sd-jwt/sd-jwt-vc, also as a presentation with a key-binding JWT.
import { createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { ClientError } from '../../src/client/errors.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { createServer, startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions, validateOptions, type ServerOptions } from '../../src/server/options.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { independentVerifier, writeIssuerDirs, type TestIssuerDirs } from './support.js';

const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const SINGLETON = 'irma-demo.MijnOverheid.singleton';
// Its issuer gets no SD-JWT VC key: the mixed case.
const STEMPAS = 'irma-demo.stemmen.stempas';
const fullName = { firstnames: 'Alice Bo', firstname: 'Alice', familyname: 'Example', prefix: 'van' };

interface SessionPackage {
  token: string;
  sessionPtr: { u: string; irmaqr: string };
}

let dir: string;
let schemes: SchemeRegistry;
let issuerDirs: TestIssuerDirs;
let server: RunningServer;
let base: string;

function options(extra: Partial<ServerOptions> = {}): ServerOptions {
  return {
    ...defaultOptions(false),
    port: 0,
    listenAddr: '127.0.0.1',
    url: 'http://127.0.0.1:port',
    schemesPath: REFERENCE_SCHEMES,
    quiet: true,
    cryptoWorkers: 0,
    sdjwtvc: { issuerCertificatesDir: issuerDirs.certs, issuerPrivateKeysDir: issuerDirs.privkeys },
    ...extra,
  };
}

async function post(body: unknown, at = base): Promise<Response> {
  return fetch(`${at}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

async function start(body: unknown, at = base): Promise<SessionPackage> {
  const res = await post(body, at);
  expect(res.status).toBe(200);
  return (await res.json()) as SessionPackage;
}

const result = async (token: string, at = base) => (await fetch(`${at}/session/${token}/result`)).json();

const issuance = (credentials: unknown[]) => ({ '@context': 'https://irma.app/ld/request/issuance/v2', credentials });

function holder(name: string, sdJwt = true, fetchFn?: typeof fetch): IrmaClient {
  return new IrmaClient({
    storageDir: join(dir, name),
    schemes,
    fetch: fetchFn,
    sdJwtVc: sdJwt ? { trustAnchors: [issuerDirs.ca.certificate] } : undefined,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdjwt-e2e-'));
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  issuerDirs = await writeIssuerDirs(join(dir, 'issuers'), ['irma-demo.MijnOverheid']);
  server = await startServer(options(), { schemes });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SD-JWT VC issuance', () => {
  it('delivers Idemix credentials and SD-JWT VCs that an independent verifier accepts', async () => {
    const client = holder('alice');
    const pkg = await start(
      issuance([
        { credential: FULLNAME, attributes: fullName, sdJwtBatchSize: 3 },
        { credential: STEMPAS, attributes: { election: 'Gemeenteraad 2026' } },
        { credential: SINGLETON, attributes: { BSN: '999999990' }, sdJwtBatchSize: 2 },
      ]),
    );
    const out = await client.runSession(pkg.sessionPtr);
    expect(out).toMatchObject({ status: 'DONE', proofStatus: 'VALID', sdJwtVcs: 5 });
    expect(out.issued).toHaveLength(3);
    expect((await client.credentials()).map((c) => c.credentialType).sort()).toEqual([FULLNAME, SINGLETON, STEMPAS].sort());
    // The requestor learns nothing about SD-JWT VCs.
    const res = await result(pkg.token);
    expect(res).toMatchObject({ token: pkg.token, status: 'DONE', type: 'issuing', proofStatus: 'VALID' });
    expect(Object.keys(res).sort()).toEqual(['proofStatus', 'status', 'token', 'type']);

    const vcs = await client.sdJwtVcs();
    expect(vcs.map((v) => v.vct)).toEqual([FULLNAME, FULLNAME, FULLNAME, SINGLETON, SINGLETON]);
    const now = Math.floor(Date.now() / 1000);
    const cnfs = new Set<string>();
    for (const vc of vcs) {
      const verifier = independentVerifier(issuerDirs.ca.certificate, vc.holderKey);
      const verified = await verifier.verify(vc.sdJwt, { currentDate: now });
      const expected = vc.vct === FULLNAME ? fullName : { BSN: '999999990' };
      expect(verified.payload).toMatchObject({ ...expected, vct: vc.vct, iss: 'https://issuer.example' });
      // Each disclosure decodes to the issued attribute value.
      const disclosures = vc.sdJwt.split('~').slice(1, -1).map((d) => JSON.parse(Buffer.from(d, 'base64url').toString()) as string[]);
      expect(Object.fromEntries(disclosures.map(([, name, value]) => [name, value]))).toEqual(expected);
      for (const [salt] of disclosures) expect(Buffer.from(salt, 'base64url')).toHaveLength(16);
      // cnf holds the public half of the stored private key.
      const cnf = (verified.payload.cnf as { jwk: { x: string; y: string } }).jwk;
      const pub = createPublicKey({ key: vc.holderKey, format: 'jwk' }).export({ format: 'jwk' });
      expect([cnf.x, cnf.y]).toEqual([pub.x, pub.y]);
      cnfs.add(cnf.x);
      // A presentation of one attribute with a key-binding JWT made with the holder key.
      const claim = Object.keys(expected)[0];
      const presented = await verifier.present(vc.sdJwt, { [claim]: true }, { kb: { payload: { iat: now, aud: 'https://verifier.example', nonce: `nonce-${cnfs.size}` } } });
      const checked = await verifier.verify(presented, { currentDate: now, keyBindingNonce: `nonce-${cnfs.size}` });
      expect(checked.kb?.payload).toMatchObject({ aud: 'https://verifier.example', nonce: `nonce-${cnfs.size}` });
      expect(checked.payload[claim]).toBe((expected as Record<string, string>)[claim]);
      expect(Object.keys(checked.payload).filter((k) => k in expected)).toEqual([claim]);
    }
    expect(cnfs.size).toBe(5);
  });

  it('a reissued credential replaces the batch of SD-JWT VCs with equal values', async () => {
    const client = holder('bob');
    for (const n of [2, 4]) {
      const pkg = await start(issuance([{ credential: SINGLETON, attributes: { BSN: '123456789' }, sdJwtBatchSize: n }]));
      expect(await client.runSession(pkg.sessionPtr)).toMatchObject({ status: 'DONE', sdJwtVcs: n });
    }
    expect(await client.sdJwtVcs()).toHaveLength(4);
  });

  it('an app that sends no holder keys gets the Idemix credentials only', async () => {
    const pkg = await start(issuance([{ credential: FULLNAME, attributes: fullName, sdJwtBatchSize: 3 }]));
    const client = holder('old-app', false);
    const out = await client.runSession(pkg.sessionPtr);
    expect(out).toMatchObject({ status: 'DONE', proofStatus: 'VALID', issued: [expect.any(String)] });
    expect(out.sdJwtVcs).toBeUndefined();
    expect(await client.sdJwtVcs()).toEqual([]);
  });

  it('refuses at POST /session what it cannot issue', async () => {
    const refused = async (credentials: unknown[]) => {
      const res = await post(issuance(credentials));
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('INVALID_REQUEST');
      return body.message;
    };
    expect(await refused([{ credential: FULLNAME, attributes: fullName, sdJwtBatchSize: 201 }])).toBe(
      `requested number of sdjwts (201) is higher than maximum allowed amount (200) for ${FULLNAME}`,
    );
    expect(await refused(Array.from({ length: 6 }, () => ({ credential: FULLNAME, attributes: fullName, sdJwtBatchSize: 200 })))).toBe(
      'requested number of sdjwts (1200) is higher than the maximum per session (1000)',
    );
    // The reference would accept this and fail the whole session after the Idemix signatures.
    expect(await refused([
      { credential: FULLNAME, attributes: fullName, sdJwtBatchSize: 1 },
      { credential: STEMPAS, attributes: { election: 'x' }, sdJwtBatchSize: 1 },
    ])).toMatch(/^no SD-JWT VC issuer configured for irma-demo\.stemmen/);
  });
});

describe('holder keys at POST commitments', () => {
  /** A client whose commitments body is changed by `edit`; records what the server answered and the status after. */
  function tampering(edit: (keys: Record<string, unknown>[]) => unknown, token: () => string) {
    const seen: { status?: number; body?: { error: string; message?: string }; after?: string } = {};
    const fetchFn: typeof fetch = async (input, init) => {
      const url = String(input);
      if (!url.endsWith('/commitments') || typeof init?.body !== 'string') return fetch(input, init);
      const body = JSON.parse(init.body) as { keybinding_pub_keys: Record<string, unknown>[] };
      body.keybinding_pub_keys = edit(body.keybinding_pub_keys) as Record<string, unknown>[];
      const res = await fetch(input, { ...init, body: JSON.stringify(body) });
      seen.status = res.status;
      seen.body = (await res.clone().json()) as typeof seen.body;
      seen.after = (await (await fetch(`${base}/session/${token()}/status`)).json()) as string;
      return res;
    };
    return { seen, fetchFn };
  }

  async function run(edit: (keys: Record<string, unknown>[]) => unknown) {
    const pkg = await start(issuance([{ credential: FULLNAME, attributes: fullName, sdJwtBatchSize: 2 }]));
    const t = tampering(edit, () => pkg.token);
    const err = await holder(`tamper-${Math.random()}`, true, t.fetchFn).runSession(pkg.sessionPtr).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    return { ...t.seen, result: await result(pkg.token) };
  }

  it('a private key is a malformed body and leaves the session as it was', async () => {
    const r = await run((keys) => [{ ...keys[0], d: keys[0].x }, keys[1]]);
    expect(r).toMatchObject({ status: 400, body: { error: 'MALFORMED_INPUT' }, after: 'CONNECTED' });
    expect(r.body?.message).toMatch(/keybinding_pub_keys\[0\]: contains private key material/);
  });

  it('a key of another curve or a malformed key is a malformed body too', async () => {
    for (const edit of [
      (keys: Record<string, unknown>[]) => [keys[0], { ...keys[1], crv: 'P-384' }],
      (keys: Record<string, unknown>[]) => [keys[0], { ...keys[1], x: 'AAAA' }],
      (keys: Record<string, unknown>[]) => [keys[0], keys[0]],
      () => ['not a key', 'nor this'],
    ]) {
      const r = await run(edit);
      expect(r).toMatchObject({ status: 400, body: { error: 'MALFORMED_INPUT' }, after: 'CONNECTED' });
    }
  });

  it('a key count other than the batch size cancels the session with ISSUANCE_FAILED', async () => {
    const r = await run((keys) => [keys[0]]);
    expect(r).toMatchObject({ status: 500, body: { error: 'ISSUANCE_FAILED' }, after: 'CANCELLED' });
    expect(r.body?.message).toBe('number of requested SD-JWTs (2) does not match the number of pub keys (1)');
    expect(r.result).toMatchObject({ status: 'CANCELLED', error: { error: 'ISSUANCE_FAILED' } });
  });
});

describe("the holder's checks of what arrives", () => {
  /** A holder whose commitments answer is changed by `edit` before the client reads it. */
  async function receive(edit: (sdjwts: string[]) => string[]) {
    const fetchFn: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/commitments') || res.status !== 200) return res;
      const body = (await res.json()) as { sdjwts: string[] };
      body.sdjwts = edit(body.sdjwts);
      return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    };
    const client = holder(`receive-${Math.random()}`, true, fetchFn);
    const pkg = await start(issuance([{ credential: FULLNAME, attributes: fullName, sdJwtBatchSize: 2 }]));
    const err = await client.runSession(pkg.sessionPtr).then(() => undefined, (e: unknown) => e);
    return { err: err as ClientError | undefined, credentials: await client.credentials(), sdJwtVcs: await client.sdJwtVcs() };
  }

  it('all arrive: stored', async () => {
    const r = await receive((s) => s);
    expect(r.err).toBeUndefined();
    expect(r.sdJwtVcs).toHaveLength(2);
  });

  it('one missing, swapped, or with a changed disclosure: a crypto error, and the Idemix credential is kept', async () => {
    const changed = (s: string) => {
      const parts = s.split('~');
      parts[1] = Buffer.from(JSON.stringify(['c2FsdHNhbHRzYWx0c2FsdA', 'firstname', 'Mallory'])).toString('base64url');
      return parts.join('~');
    };
    for (const [edit, message] of [
      [(s: string[]) => s.slice(1), 'SD-JWT VC: expected 2 SD-JWT VCs, got 1'],
      [(s: string[]) => [s[1], s[0]], 'SD-JWT VC: instance 0: cnf.jwk is not the key sent for this instance'],
      [(s: string[]) => [changed(s[0]), s[1]], 'SD-JWT VC: instance 0: a disclosure has no digest in _sd'],
    ] as const) {
      const r = await receive(edit);
      expect(r.err).toBeInstanceOf(ClientError);
      expect(r.err).toMatchObject({ type: 'crypto', message });
      expect(r.credentials.map((c) => c.credentialType)).toEqual([FULLNAME]);
      expect(r.sdJwtVcs).toEqual([]);
    }
  });
});

describe('configuration', () => {
  it('a server without SD-JWT VC issuers ignores the holder keys and issues Idemix only', async () => {
    const plain = await startServer(options({ sdjwtvc: undefined }), { schemes });
    try {
      const at = `http://127.0.0.1:${plain.port}`;
      const pkg = await start(issuance([{ credential: FULLNAME, attributes: fullName, sdJwtBatchSize: 2 }]), at);
      const client = holder('plain');
      const out = await client.runSession(pkg.sessionPtr);
      // As the app: no SD-JWT VCs from this server, and the Idemix credential all the same.
      expect(out).toMatchObject({ status: 'DONE', proofStatus: 'VALID', issued: [expect.any(String)] });
      expect(out.sdJwtVcs).toBeUndefined();
      expect(await client.sdJwtVcs()).toEqual([]);
      expect(await result(pkg.token, at)).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    } finally {
      await plain.close();
    }
  });

  it('a bad key or certificate file stops startup, naming the file', async () => {
    const bad = await writeIssuerDirs(join(dir, 'bad'), ['irma-demo.MijnOverheid']);
    await writeFile(join(bad.certs, 'irma-demo.MijnOverheid.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const o = options({ sdjwtvc: { issuerCertificatesDir: bad.certs, issuerPrivateKeysDir: bad.privkeys } });
    await expect(createServer(o, { schemes })).rejects.toThrow(`sdjwtvc: ${join(bad.certs, 'irma-demo.MijnOverheid.pem')}: a certificate does not parse`);
    expect(() => validateOptions(options({ port: 8088, sdjwtvc: { issuerCertificatesDir: bad.certs, issuerPrivateKeysDir: '' } }))).toThrow(
      'sdjwtvc issuance was enabled but no sdjwtvc private keys directory was provided',
    );
  });
});
