// The client's whole flow against an in-process stand-in server (fake-server.ts) that judges
// its proofs with the idemix verifier and issues with the reference private keys.
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient, type IrmaClientOptions } from '../../src/client/client.js';
import { ClientError } from '../../src/client/errors.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { FakeIrmaServer } from './fake-server.js';

const FULLNAME = 'irma-demo.MijnOverheid.fullName';
// One fixed clock for client, stand-in server and timestamps: the reference issuer keys expire
// in 2030, and the suite must not start failing then.
const NOW = 1795335240; // 2026-11-22, when the reference vectors were recorded
const now = () => NOW;
const VALIDITY = NOW + 365 * 86400;

let schemes: SchemeRegistry;
const dirs: string[] = [];

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function setup(opts: Partial<IrmaClientOptions> = {}, serverOpts: { sse?: boolean } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'irma-client-'));
  dirs.push(dir);
  const server = new FakeIrmaServer(schemes, serverOpts);
  server.now = now;
  const client = new IrmaClient({ storageDir: dir, schemes, fetch: server.fetch, pairingPollIntervalMs: 20, now, ...opts });
  return { server, client, dir };
}

const issueFullName = (attrs: Record<string, string> = { firstnames: 'Alice Bo', firstname: 'Alice', familyname: 'Example', prefix: 'van' }) => ({
  '@context': 'https://irma.app/ld/request/issuance/v2',
  credentials: [{ credential: FULLNAME, validity: VALIDITY, keyCounter: 2, attributes: attrs }],
});

const disclose = (...ids: (string | { type: string; value?: string })[]) => ({
  '@context': 'https://irma.app/ld/request/disclosure/v2',
  disclose: [[ids]],
});

async function expectClientError(p: Promise<unknown>, type: string, remote?: string): Promise<ClientError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).type).toBe(type);
    if (remote) expect((err as ClientError).remoteType).toBe(remote);
    return err as ClientError;
  }
  throw new Error('expected a ClientError');
}

describe('issuance and disclosure', () => {
  it('issues fullName, speaking the protocol like the reference client', async () => {
    const { server, client } = await setup();
    const { qr, ct } = server.start(issueFullName());
    // A session package (as POST /session answers) works as well as its bare pointer.
    const out = await client.runSession(JSON.stringify({ token: 'x', sessionPtr: qr }));
    expect(out).toMatchObject({ type: 'issuing', status: 'DONE', proofStatus: 'VALID' });
    expect(out.issued).toHaveLength(1);

    const [get, post] = server.requests;
    expect(get.method).toBe('GET');
    expect(get.url).toBe(`${qr.u}/`);
    expect(get.headers['x-irma-minprotocolversion']).toBe('2.4');
    expect(get.headers['x-irma-maxprotocolversion']).toBe('2.8');
    expect(get.headers.authorization).toMatch(/^[a-zA-Z0-9]{20}$/);
    expect(post.url).toBe(`${qr.u}/commitments`);
    expect(post.headers.authorization).toBe(get.headers.authorization);
    expect(post.headers['content-type']).toBe('application/json');
    expect(Object.keys(post.body as object)).toEqual(['n_2', 'combinedProofs']);
    expect(server.session(ct).status).toBe('DONE');

    const creds = await client.credentials();
    expect(creds).toHaveLength(1);
    expect(creds[0]).toMatchObject({
      id: out.issued![0],
      credentialType: FULLNAME,
      keyCounter: 2,
      attributes: { firstnames: 'Alice Bo', firstname: 'Alice', familyname: 'Example', prefix: 'van' },
    });
    expect(creds[0].expires).toBeGreaterThan(NOW);
    expect(creds[0].issuedAt % 604800).toBe(0);
  });

  it('keeps credentials across client instances and discloses them', async () => {
    const { server, client, dir } = await setup();
    await client.runSession(server.start(issueFullName({ firstnames: 'Bob', firstname: 'Bob', familyname: 'Builder' })).qr);
    const again = new IrmaClient({ storageDir: dir, schemes, fetch: server.fetch, now });
    const { qr, ct } = server.start(disclose(`${FULLNAME}.firstname`, `${FULLNAME}.prefix`));
    const out = await again.runSession(qr);
    expect(out.status).toBe('DONE');
    expect(out.disclosed).toEqual([
      [
        { id: `${FULLNAME}.firstname`, credentialId: (await again.credentials())[0].id, rawValue: 'Bob' },
        { id: `${FULLNAME}.prefix`, credentialId: (await again.credentials())[0].id, rawValue: null },
      ],
    ]);
    expect(server.session(ct).disclosed).toEqual([
      [
        { id: `${FULLNAME}.firstname`, rawvalue: 'Bob' },
        { id: `${FULLNAME}.prefix`, rawvalue: null },
      ],
    ]);
    const post = server.requests.at(-1)!;
    expect(post.url).toBe(`${qr.u}/proofs`);
    expect(post.body).toMatchObject({ indices: [[{ cred: 0, attr: 3 }, { cred: 0, attr: 5 }]] });
  });

  it('picks the credential with the required value and discloses across two credentials', async () => {
    const { server, client } = await setup();
    await client.runSession(server.start(issueFullName()).qr);
    await client.runSession(server.start(issueFullName({ firstnames: 'Bob', firstname: 'Bob', familyname: 'Builder' })).qr);
    expect(await client.credentials()).toHaveLength(2);
    const { qr, ct } = server.start({
      '@context': 'https://irma.app/ld/request/disclosure/v2',
      disclose: [[[{ type: `${FULLNAME}.firstname`, value: 'Bob' }]], [[`${FULLNAME}.familyname`, { type: `${FULLNAME}.firstname`, value: 'Alice' }]]],
    });
    await client.runSession(qr);
    expect(server.session(ct).disclosed).toEqual([
      [{ id: `${FULLNAME}.firstname`, rawvalue: 'Bob' }],
      [
        { id: `${FULLNAME}.familyname`, rawvalue: 'Example' },
        { id: `${FULLNAME}.firstname`, rawvalue: 'Alice' },
      ],
    ]);
    expect((server.requests.at(-1)!.body as { proofs: unknown[] }).proofs).toHaveLength(2);
  });

  it('issues irma-demo.stemmen.stempas with a jointly random-blind votingnumber, then discloses it', async () => {
    const { server, client } = await setup();
    const { qr } = server.start({
      '@context': 'https://irma.app/ld/request/issuance/v2',
      credentials: [{ credential: 'irma-demo.stemmen.stempas', validity: VALIDITY, attributes: { election: 'Gemeenteraad 2026' } }],
    });
    await client.runSession(qr);
    const commit = server.requests.at(-1)!.body as { combinedProofs: { m_user_responses?: Record<string, string> }[] };
    expect(Object.keys(commit.combinedProofs[0].m_user_responses ?? {})).toEqual(['3']);
    const [cred] = await client.credentials();
    expect(cred.attributes.election).toBe('Gemeenteraad 2026');
    expect(cred.attributes.votingnumber).toMatch(/^[0-9a-zA-Z]{30,}$/);

    const d = server.start(disclose('irma-demo.stemmen.stempas.votingnumber'));
    await client.runSession(d.qr);
    expect(server.session(d.ct).disclosed).toEqual([[{ id: 'irma-demo.stemmen.stempas.votingnumber', rawvalue: cred.attributes.votingnumber }]]);
  });

  it('discloses during issuance: disclosure proofs first, with indices', async () => {
    const { server, client } = await setup();
    await client.runSession(server.start(issueFullName()).qr);
    const { qr, ct } = server.start({
      '@context': 'https://irma.app/ld/request/issuance/v2',
      credentials: [{ credential: 'irma-demo.MijnOverheid.singleton', validity: VALIDITY, keyCounter: 2, attributes: { BSN: '123456789' } }],
      disclose: [[[`${FULLNAME}.firstname`]]],
    });
    await client.runSession(qr);
    const body = server.requests.at(-1)!.body as { combinedProofs: object[]; indices: unknown };
    expect(Object.keys(body)).toEqual(['n_2', 'combinedProofs', 'indices']);
    expect(Object.keys(body.combinedProofs[0])).toContain('a_disclosed');
    expect(Object.keys(body.combinedProofs[1])).toContain('U');
    expect(body.indices).toEqual([[{ cred: 0, attr: 3 }]]);
    expect(server.session(ct).disclosed).toEqual([[{ id: `${FULLNAME}.firstname`, rawvalue: 'Alice' }]]);
    expect((await client.credentials()).map((c) => c.credentialType).sort()).toEqual([FULLNAME, 'irma-demo.MijnOverheid.singleton']);
  });

  it('keeps one credential of a singleton type and replaces equal values', async () => {
    const { server, client } = await setup();
    const singleton = (bsn: string) => ({
      '@context': 'https://irma.app/ld/request/issuance/v2',
      credentials: [{ credential: 'irma-demo.MijnOverheid.singleton', validity: VALIDITY, keyCounter: 2, attributes: { BSN: bsn } }],
    });
    await client.runSession(server.start(singleton('1')).qr);
    await client.runSession(server.start(singleton('2')).qr);
    await client.runSession(server.start(issueFullName()).qr);
    await client.runSession(server.start(issueFullName()).qr);
    const creds = await client.credentials();
    expect(creds.map((c) => [c.credentialType, c.attributes.BSN ?? c.attributes.firstname])).toEqual([
      ['irma-demo.MijnOverheid.singleton', '2'],
      [FULLNAME, 'Alice'],
    ]);
  });
});

describe('attribute-based signatures', () => {
  it('signs with min protocol 2.5, a signature/v2 message and a null timestamp', async () => {
    const { server, client } = await setup();
    await client.runSession(server.start(issueFullName()).qr);
    const { qr, ct } = server.start({
      '@context': 'https://irma.app/ld/request/signature/v2',
      message: 'I hereby sign this message',
      disclose: [[[`${FULLNAME}.familyname`]]],
    });
    const out = await client.runSession(qr);
    expect(out.status).toBe('DONE');
    const post = server.requests.at(-1)!;
    expect(post.headers['x-irma-minprotocolversion']).toBe('2.5');
    const body = post.body as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['@context', 'signature', 'indices', 'nonce', 'context', 'message', 'timestamp']);
    expect(body).toMatchObject({ '@context': 'https://irma.app/ld/signature/v2', context: 'AQ==', message: 'I hereby sign this message', timestamp: null });
    expect(out.signature).toEqual(body);
    expect(server.session(ct).disclosed).toEqual([[{ id: `${FULLNAME}.familyname`, rawvalue: 'Example' }]]);
  });

  it('gets an atum timestamp first when a timestamp server is configured', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const rawPk = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
    let stamped = 0;
    const base = await setup();
    const atumFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
      if (!String(input).startsWith('http://atum.test/')) return base.server.fetch(input, init);
      stamped++;
      const req = JSON.parse(String(init.body)) as { Nonce: string; PreferredSigAlg: string };
      expect(req.PreferredSigAlg).toBe('ed25519');
      const time = NOW;
      const msg = Buffer.alloc(8 + 32);
      msg.writeBigUInt64BE(BigInt(time));
      Buffer.from(req.Nonce, 'base64').copy(msg, 8);
      const Sig = { Alg: 'ed25519', Data: sign(null, msg, privateKey).toString('base64'), PublicKey: rawPk.toString('base64') };
      return new Response(JSON.stringify({ Error: null, Stamp: { Time: time, ServerUrl: 'http://atum.test/', Sig }, Info: null }));
    };
    const client = new IrmaClient({ storageDir: base.dir, schemes, fetch: atumFetch, timestampServer: 'http://atum.test', now });
    await client.runSession(base.server.start(issueFullName()).qr);
    const { qr, ct } = base.server.start({
      '@context': 'https://irma.app/ld/request/signature/v2',
      message: 'timestamped',
      disclose: [[[`${FULLNAME}.firstname`]]],
    });
    const out = await client.runSession(qr);
    expect(stamped).toBe(1);
    expect(out.signature?.timestamp).toMatchObject({ ServerUrl: 'http://atum.test/', Sig: { Alg: 'ed25519', PublicKey: rawPk.toString('base64') } });
    expect(base.server.session(ct).status).toBe('DONE');
    expect(base.server.session(ct).disclosed).toEqual([[{ id: `${FULLNAME}.firstname`, rawvalue: 'Alice' }]]);
  });
});

describe('session flow', () => {
  it('follows a chained session and discloses the earlier attributes again', async () => {
    const { server, client } = await setup();
    await client.runSession(server.start(issueFullName()).qr);
    const { qr } = server.start(disclose(`${FULLNAME}.firstname`), {
      next: {
        '@context': 'https://irma.app/ld/request/issuance/v2',
        credentials: [{ credential: 'irma-demo.MijnOverheid.singleton', validity: VALIDITY, keyCounter: 2, attributes: { BSN: '42' } }],
      },
    });
    const out = await client.runSession(qr);
    expect(out.nextSession?.irmaqr).toBe('issuing');
    expect(out.next).toMatchObject({ type: 'issuing', status: 'DONE', proofStatus: 'VALID' });
    const commit = server.requests.at(-1)!.body as { indices: unknown };
    expect(commit.indices).toEqual([[{ cred: 0, attr: 3 }]]);
    const nextCt = out.nextSession!.u.split('/').at(-1)!;
    expect(server.session(nextCt).disclosed).toEqual([[{ id: `${FULLNAME}.firstname`, rawvalue: 'Alice' }]]);
  });

  it('stops before a chained session when asked', async () => {
    const { server, client } = await setup();
    await client.runSession(server.start(issueFullName()).qr);
    const { qr } = server.start(disclose(`${FULLNAME}.firstname`), { next: disclose(`${FULLNAME}.familyname`) });
    const out = await client.runSession(qr, { followNextSession: false });
    expect(out.nextSession).toBeDefined();
    expect(out.next).toBeUndefined();
  });

  it('starts a static session by POSTing {} to its pointer', async () => {
    const { server, client } = await setup();
    await client.runSession(server.start(issueFullName()).qr);
    const pointer = server.addStatic('mystatic', disclose(`${FULLNAME}.familyname`));
    const before = server.requests.length;
    const out = await client.runSession(pointer);
    expect(out.status).toBe('DONE');
    const post = server.requests[before];
    expect(post).toMatchObject({ method: 'POST', url: 'http://irma.test/irma/session/mystatic', body: {} });
  });

  it.each([false, true])('waits for pairing (server-sent events: %s), then fetches the request', async (sse) => {
    const { server, client } = await setup({}, { sse });
    const { qr, ct } = server.start(issueFullName(), { pairing: true });
    let code: string | undefined;
    const out = await client.runSession(qr, {
      pairing: (c) => {
        code = c;
        expect(server.session(ct).status).toBe('PAIRING');
        setTimeout(() => server.setStatus(ct, 'CONNECTED'), 30);
      },
    });
    expect(code).toBe('4802');
    expect(out.status).toBe('DONE');
    const paths = server.requests.map((r) => `${r.method} ${r.url.replace(qr.u, '')}`);
    expect(paths).toContain('GET /request');
    expect(paths).toContain(sse ? 'GET /statusevents' : 'GET /status');
  });

  it('aborts when pairing is rejected', async () => {
    const { server, client } = await setup();
    const { qr, ct } = server.start(issueFullName(), { pairing: true });
    await expectClientError(client.runSession(qr, { pairing: () => server.setStatus(ct, 'CANCELLED') }), 'pairingRejected');
  });

  it('refuses a session with DELETE when permission is denied', async () => {
    const { server, client } = await setup();
    const { qr, ct } = server.start(issueFullName());
    const out = await client.runSession(qr, { permission: () => false });
    expect(out.status).toBe('CANCELLED');
    expect(server.requests.at(-1)).toMatchObject({ method: 'DELETE', url: `${qr.u}/` });
    expect(server.session(ct).status).toBe('CANCELLED');
    expect(await client.credentials()).toEqual([]);
  });

  it('cancels and reports requiredAttributeMissing when the wallet cannot satisfy the request', async () => {
    const { server, client } = await setup();
    const { qr, ct } = server.start(disclose(`${FULLNAME}.firstname`));
    await expectClientError(client.runSession(qr), 'requiredAttributeMissing');
    expect(server.session(ct).status).toBe('CANCELLED');
  });

  it('does not offer expired credentials', async () => {
    const { server, client, dir } = await setup();
    await client.runSession(server.start(issueFullName()).qr);
    const later = new IrmaClient({ storageDir: dir, schemes, fetch: server.fetch, now: () => VALIDITY + 86400 * 14 });
    await expectClientError(later.runSession(server.start(disclose(`${FULLNAME}.firstname`)).qr), 'requiredAttributeMissing');
  });

  it('turns a server RemoteError into a ClientError with its type', async () => {
    const { client } = await setup();
    const err = await expectClientError(
      client.runSession({ u: 'http://irma.test/irma/session/unknownunknownunknown', irmaqr: 'disclosing' }),
      'serverResponse',
      'SESSION_UNKNOWN',
    );
    expect(err.httpStatus).toBe(400);
    expect(err.remote?.message).toBe('Unknown or expired session');
  });

  it('reports proofs the server does not accept as rejected', async () => {
    const { server, dir } = await setup();
    const tamper = async (input: string | URL | Request, init: RequestInit = {}) => {
      if (String(input).endsWith('/proofs')) {
        const body = JSON.parse(String(init.body));
        body.proofs[0].a_disclosed['3'] = 'hN7F'; // "Bob" instead of "Alice"
        init = { ...init, body: JSON.stringify(body) };
      }
      return server.fetch(input, init);
    };
    const client = new IrmaClient({ storageDir: dir, schemes, fetch: tamper, now });
    await client.runSession(server.start(issueFullName()).qr);
    const err = await expectClientError(client.runSession(server.start(disclose(`${FULLNAME}.firstname`)).qr), 'rejected');
    expect(err.proofStatus).toBe('INVALID');
  });

  const flipLastByte = (b64: string) => {
    const b = Buffer.from(b64, 'base64');
    b[b.length - 1] ^= 1;
    return b.toString('base64');
  };
  it.each([
    ['a changed v', 'crypto', (sig: Record<string, any>) => void (sig.signature.v = flipLastByte(sig.signature.v))],
    ['a changed ProofS', 'crypto', (sig: Record<string, any>) => void (sig.proof.c = flipLastByte(sig.proof.c))],
    ['a KeyshareP without keyshare server', 'crypto', (sig: Record<string, any>) => void (sig.signature.KeyshareP = 'Ag==')],
    ['an unexpected random-blind share', 'crypto', (sig: Record<string, any>) => void (sig.m_issuer = { '3': 'Ag==' })],
    ['a malformed signature message', 'crypto', (sig: Record<string, any>) => void delete sig.signature],
  ])('refuses %s from the issuer and stores nothing', async (_what, type, tamper) => {
    const { server, dir } = await setup();
    const tampering = async (input: string | URL | Request, init: RequestInit = {}) => {
      const res = await server.fetch(input, init);
      if (!String(input).endsWith('/commitments')) return res;
      const body = await res.json();
      tamper(body.sigs[0]);
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const client = new IrmaClient({ storageDir: dir, schemes, fetch: tampering, now });
    await expectClientError(client.runSession(server.start(issueFullName()).qr), type);
    expect(await client.credentials()).toEqual([]);
  });

  it('refuses an issuance answer with a missing signature', async () => {
    const { server, dir } = await setup();
    const dropping = async (input: string | URL | Request, init: RequestInit = {}) => {
      const res = await server.fetch(input, init);
      if (!String(input).endsWith('/commitments')) return res;
      return new Response(JSON.stringify({ ...(await res.json()), sigs: [] }), { status: 200 });
    };
    const client = new IrmaClient({ storageDir: dir, schemes, fetch: dropping, now });
    await expectClientError(client.runSession(server.start(issueFullName()).qr), 'invalidRequest');
    expect(await client.credentials()).toEqual([]);
  });

  it('refuses malformed server messages and ends the session', async () => {
    const { server, dir } = await setup();
    const broken = async (input: string | URL | Request, init: RequestInit = {}) => {
      const res = await server.fetch(input, init);
      if ((init.method ?? 'GET') !== 'GET' || !String(input).endsWith('/')) return res;
      const body = await res.json();
      body.request.disclose = [[]];
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const client = new IrmaClient({ storageDir: dir, schemes, fetch: broken, now });
    const { qr, ct } = server.start(disclose(`${FULLNAME}.firstname`));
    await expectClientError(client.runSession(qr), 'invalidRequest');
    expect(server.session(ct).status).toBe('CANCELLED');
  });
});
