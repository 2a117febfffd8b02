// Four places where review found us answering differently from the reference server (irmago):
// an empty proof list, a signature over another message, bare JSON integers for big integers, and
// disclosed values that are not text. Each runs the real ProofChecker.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeB64, encodeB64, fromBytes } from '../../src/idemix/bigint.js';
import { encodeAttribute } from '../../src/idemix/attributes.js';
import { signCredential } from '../../src/idemix/issuer.js';
import { createMetadata } from '../../src/idemix/metadata.js';
import { serializeProofD, type ProofU } from '../../src/idemix/proofs.js';
import { createDisclosureProofs, createIssuanceCommitments, finishIssuance, generateSecretKey } from '../../src/idemix/prover.js';
import { parseRequestorRequest } from '../../src/protocol/request-body.js';
import { createProofChecker } from '../../src/server/proof-checker.js';
import { startSession } from '../../src/server/session-factory.js';
import type { JsonObject, JsonValue } from '../../src/session/session.js';
import { REFERENCE_VECTORS } from '../support/reference.js';
import { makeHarness, referenceSchemes, START, type Harness } from '../server/harness.js';

interface Call {
  method: string;
  path: string;
  requestHeaders: Record<string, string>;
  requestBody?: Record<string, unknown>;
  responseBody: unknown;
}
interface Recorded {
  label: string;
  requestorRequest: unknown;
  client: Call[];
}
const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as { recordedAtUnix: number; sessions: Recorded[] };
const recorded = (label: string) => vectors.sessions.find((s) => s.label === label)!;

const APP_HEADERS = { authorization: 'fKPHI7eHTr9aw3QeBvvn', 'x-irma-minprotocolversion': '2.4', 'x-irma-maxprotocolversion': '2.8' };

let h: Harness;
beforeAll(async () => {
  h = await makeHarness({ url: 'http://127.0.0.1:48700' });
  h.server.ctx.checker = createProofChecker(await referenceSchemes());
});
afterAll(() => h.close());

/** Starts a session (with the recorded nonce, if given) and connects the app to it. */
async function connected(requestorRequest: unknown, nonce?: bigint) {
  const started = await startSession(h.server.ctx, parseRequestorRequest(requestorRequest), { requestor: '', nonce });
  const ct = started.package.sessionPtr.u.split('/').pop()!;
  const res = await h.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: APP_HEADERS });
  expect(res.statusCode, res.body).toBe(200);
  return { ct, token: started.package.token };
}

async function post(ct: string, endpoint: string, payload: string) {
  return h.inject({ method: 'POST', url: `/irma/session/${ct}/${endpoint}`, headers: { ...APP_HEADERS, 'content-type': 'application/json' }, payload });
}

async function result(token: string) {
  return (await h.inject({ method: 'GET', url: `/session/${token}/result` })).json();
}

/** A recorded session replayed up to its POST, whose body the test may rewrite. */
async function replay(label: string) {
  const rec = recorded(label);
  const [connect, proofs] = rec.client;
  const nonce = decodeB64((connect.responseBody as { request: { nonce: string } }).request.nonce);
  h.clock.now = vectors.recordedAtUnix * 1000;
  const session = await connected(rec.requestorRequest, nonce);
  return { ...session, body: structuredClone(proofs.requestBody!) as Record<string, unknown> };
}

describe('an empty proof list', () => {
  it('is VALID when every disjunction is optional, as in the reference', async () => {
    h.clock.now = START;
    const { ct, token } = await connected({
      '@context': 'https://irma.app/ld/request/disclosure/v2',
      disclose: [[['irma-demo.MijnOverheid.fullName.firstname'], []]],
    });
    const res = await post(ct, 'proofs', JSON.stringify({ proofs: [], indices: [[]] }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ proofStatus: 'VALID' });
    expect(await result(token)).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
  });

  it('is MISSING_ATTRIBUTES when a disjunction is not optional', async () => {
    h.clock.now = START;
    const { ct } = await connected({
      '@context': 'https://irma.app/ld/request/disclosure/v2',
      disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]],
    });
    const res = await post(ct, 'proofs', JSON.stringify({ proofs: [], indices: [[]] }));
    expect(res.json()).toEqual({ proofStatus: 'MISSING_ATTRIBUTES' });
  });

  it('is still INVALID for an attribute-based signature (the reference refuses it first)', async () => {
    const { ct, body } = await replay('sign-familyname');
    const res = await post(ct, 'proofs', JSON.stringify({ ...body, signature: [], indices: [[]] }));
    expect(res.json()).toEqual({ proofStatus: 'INVALID' });
  });
});

describe('a signature over another message than the request’s', () => {
  it('is UNMATCHED_REQUEST, as in the reference', async () => {
    const { ct, token, body } = await replay('sign-familyname');
    const res = await post(ct, 'proofs', JSON.stringify({ ...body, message: 'I hereby sign another message' }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ proofStatus: 'UNMATCHED_REQUEST' });
    expect(await result(token)).toMatchObject({ status: 'DONE', proofStatus: 'UNMATCHED_REQUEST' });
  });
});

describe('big integers as bare JSON numbers', () => {
  /** The recorded body with one base64 big integer written as a decimal JSON number instead. */
  function withBareNumber(body: Record<string, unknown>, replace: (n: bigint) => string): string {
    const proofs = body.proofs as Array<Record<string, string>>;
    const a = decodeB64(proofs[0].A);
    proofs[0].A = '@@A@@';
    return JSON.stringify(body).replace('"@@A@@"', replace(a));
  }

  it('are read exactly, however large, as the reference reads them', async () => {
    const { ct, token, body } = await replay('disclose-firstname');
    const text = withBareNumber(body, (a) => a.toString(10));
    expect(a2048(text)).toBe(true);
    const res = await post(ct, 'proofs', text);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ proofStatus: 'VALID' });
    expect(await result(token)).toMatchObject({ proofStatus: 'VALID', disclosed: [[{ rawvalue: expect.any(String) }]] });
  });

  it('are refused when negative, fractional or absurdly long, and the session stays as it was', async () => {
    // Beyond what any protocol value has (decimal conversion is quadratic): refused, not converted.
    for (const bad of [(a: bigint) => `-${a}`, (a: bigint) => `${a}.5`, () => '1e400', () => '9'.repeat(1_000_000)]) {
      const { ct, token, body } = await replay('disclose-firstname');
      const res = await post(ct, 'proofs', withBareNumber(body, bad));
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ error: 'MALFORMED_INPUT' });
      expect((await h.inject({ method: 'GET', url: `/session/${token}/status` })).json()).toBe('CONNECTED');
    }
  });

  /** The number really is beyond what a double holds exactly. */
  function a2048(text: string): boolean {
    return /"A":[0-9]{300,}/.test(text);
  }
});

describe('disclosed values that are not UTF-8', () => {
  const CRED = 'irma-demo.MijnOverheid.fullName';

  /** A fullName credential whose firstname (index 3) holds `firstname` as raw bytes. */
  async function disclosure(firstname: Buffer) {
    const schemes = await referenceSchemes();
    const now = Math.floor(START / 1000);
    const type = schemes.credentialType(CRED)!;
    const pk = schemes.publicKey(type.issuerId, 2)!;
    const attributes = [
      createMetadata({ credentialTypeId: CRED, keyCounter: 2, issuedAt: now, validUntil: now + 3600 * 24 * 180 }),
      encodeAttribute('Alice Bo'),
      (fromBytes(firstname) << 1n) | 1n,
      encodeAttribute('Example'),
      encodeAttribute('van'),
    ];
    const secretKey = generateSecretKey();
    const com = createIssuanceCommitments({ secretKey, credentials: [{ publicKey: pk }], context: 1n, nonce: 1n });
    const sig = signCredential({ publicKey: pk, privateKey: schemes.privateKey(type.issuerId, 2)!, U: (com.proofs[0] as ProofU).U, attributes, nonce2: com.nonce2 });
    const credential = finishIssuance(com.state, 0, sig, attributes);
    const nonce = 4242n;
    const proofs = createDisclosureProofs([{ credential, publicKey: pk, disclosed: [3] }], 1n, nonce);
    const request: JsonObject = {
      '@context': 'https://irma.app/ld/request/disclosure/v2',
      context: 'AQ==',
      nonce: encodeB64(nonce),
      protocolVersion: '2.8',
      disclose: [[[`${CRED}.firstname`]]],
    };
    const message = { proofs: proofs.map(serializeProofD) as unknown as JsonValue[], indices: [[{ cred: 0, attr: 3 }]] };
    return { request, message, now: START };
  }

  it('are refused (INVALID), where the reference would show replacement characters', async () => {
    const checker = createProofChecker(await referenceSchemes());
    const out = await checker.disclosure(await disclosure(Buffer.from([0x41, 0xff, 0xfe, 0x42])));
    expect(out.proofStatus).toBe('INVALID');
    expect(out.disclosed).toBeUndefined();
  });

  it('are VALID when they are text, however unusual', async () => {
    const checker = createProofChecker(await referenceSchemes());
    const out = await checker.disclosure(await disclosure(Buffer.from('Ålice \u{1F600}', 'utf8')));
    expect(out.proofStatus).toBe('VALID');
    expect(out.disclosed).toMatchObject([[{ rawvalue: 'Ålice \u{1F600}' }]]);
  });
});
