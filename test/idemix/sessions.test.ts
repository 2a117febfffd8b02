// Every recorded session of the reference server and client (shared/reference/vectors):
// its commitments, disclosures, signature and issuer proofs verify with our code, and stop
// verifying after any change or under another session's nonce.
import { describe, expect, it } from 'vitest';
import { decodeAttribute, randomBlindDisplay } from '../../src/idemix/attributes.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { verifyIssuanceCommitments } from '../../src/idemix/issuer.js';
import { parseIssueSignatureMessage, parseProofDList, parseProofList, type Proof, type ProofD } from '../../src/idemix/proofs.js';
import { verifyProofS } from '../../src/idemix/prover.js';
import { parseSignedMessage, verifySignedMessage } from '../../src/idemix/signed-message.js';
import { resolvePublicKeys, verifyDisclosureProofs } from '../../src/idemix/verifier.js';
import {
  b64int,
  clientRequest,
  credentialTypesByHash,
  keyForMetadata,
  post,
  publicKey,
  randomBlindIndices,
  recorded,
  type RecordedSession,
} from './proof-fixtures.js';

const now = recorded.recordedAtUnix;
const issuances = recorded.sessions.filter((s) => post(s, '/commitments') !== undefined);
const disclosures = recorded.sessions.filter((s) => post(s, '/proofs') !== undefined && !clientRequest(s).message);
const signatures = recorded.sessions.filter((s) => clientRequest(s).message !== undefined);

/** Every way of changing one number in a proof by one. */
function tamperings(p: Proof): Proof[] {
  const out: Proof[] = [];
  const bump = <K extends string>(field: K) => ({ ...p, [field]: (p as unknown as Record<K, bigint>)[field] + 1n }) as Proof;
  if (p.kind === 'ProofD') {
    for (const f of ['c', 'A', 'eResponse', 'vResponse'] as const) out.push(bump(f));
    for (const map of ['aResponses', 'aDisclosed'] as const) {
      for (const [k, v] of p[map]) out.push({ ...p, [map]: new Map(p[map]).set(k, v + 1n) });
    }
  } else {
    for (const f of ['c', 'U', 'vPrimeResponse', 'sResponse'] as const) out.push(bump(f));
    for (const [k, v] of p.mUserResponses) out.push({ ...p, mUserResponses: new Map(p.mUserResponses).set(k, v + 1n) });
  }
  return out;
}

function issuanceInput(s: RecordedSession, proofs: Proof[], nonce?: bigint) {
  const req = clientRequest(s);
  const credentials = (req.credentials as { credential: string; keyCounter?: number }[]).map((c) => ({
    publicKey: publicKey(c.credential.split('.').slice(0, 2).join('.'), c.keyCounter ?? 0),
    randomBlindIndices: randomBlindIndices(c.credential),
  }));
  const ds = proofs.slice(0, proofs.length - credentials.length) as ProofD[];
  return {
    proofs,
    disclosureKeys: resolvePublicKeys(ds, keyForMetadata),
    credentials,
    context: b64int(req.context),
    nonce: nonce ?? b64int(req.nonce),
  };
}

describe('recorded issuance sessions', () => {
  it('covers the four recorded issuances', () => expect(issuances.length).toBe(4));

  for (const s of issuances) {
    describe(s.label, () => {
      const ex = post(s, '/commitments');
      const proofs = parseProofList(ex.requestBody.combinedProofs);

      it('the commitments verify', () => {
        const res = verifyIssuanceCommitments(issuanceInput(s, proofs));
        expect(res.commitments.length).toBe(clientRequest(s).credentials.length);
        for (const d of res.disclosed) expect(d.metadata.expiry).toBeGreaterThan(now);
      });

      it('each tampered field is rejected', () => {
        proofs.forEach((p, i) => {
          for (const t of tamperings(p)) {
            const changed = proofs.map((q, j) => (j === i ? t : q));
            expect(() => verifyIssuanceCommitments(issuanceInput(s, changed))).toThrow(IdemixError);
          }
        });
      });

      it("another session's nonce is rejected", () => {
        const other = clientRequest(disclosures[0]).nonce;
        expect(() => verifyIssuanceCommitments(issuanceInput(s, proofs, b64int(other)))).toThrow(/challenge/);
      });

      it("the reference issuer's ProofS verifies for the client's n_2", () => {
        const n2 = b64int(ex.requestBody.n_2);
        const sigs = ex.responseBody.sigs as unknown[];
        const creds = clientRequest(s).credentials as { credential: string; keyCounter?: number }[];
        sigs.forEach((json, i) => {
          const msg = parseIssueSignatureMessage(json);
          const pk = publicKey(creds[i].credential.split('.').slice(0, 2).join('.'), creds[i].keyCounter ?? 0);
          expect(msg.mIssuer.size).toBe(randomBlindIndices(creds[i].credential).length);
          expect(verifyProofS(pk, msg.proof, msg.signature, 1n, n2)).toBe(true);
          expect(verifyProofS(pk, msg.proof, msg.signature, 1n, n2 + 1n)).toBe(false);
          expect(verifyProofS(pk, { ...msg.proof, eResponse: msg.proof.eResponse + 1n }, msg.signature, 1n, n2)).toBe(false);
        });
      });
    });
  }
});

/** The disclosed values the reference server reported, as raw strings per disjunction. */
function expectedValues(s: RecordedSession): (string | null)[][] {
  return (s.requestorResult.disclosed as { rawvalue: string | null }[][]).map((con) => con.map((a) => a.rawvalue));
}

function disclosedValues(body: { indices: { cred: number; attr: number }[][] }, proofs: ProofD[], creds: { metadata: { credentialTypeHashHex: string }; disclosed: Map<number, bigint> }[]) {
  return body.indices.map((con) =>
    con.map(({ cred, attr }) => {
      const credType = credentialTypesByHash.get(creds[cred].metadata.credentialTypeHashHex)!;
      const m = proofs[cred].aDisclosed.get(attr)!;
      expect(creds[cred].disclosed.get(attr)).toBe(m);
      return randomBlindIndices(credType).includes(attr) ? randomBlindDisplay(m) : decodeAttribute(m);
    }),
  );
}

describe('recorded disclosure sessions', () => {
  it('covers the six recorded disclosures', () => expect(disclosures.length).toBe(6));

  for (const s of disclosures) {
    describe(s.label, () => {
      const body = post(s, '/proofs').requestBody;
      const req = clientRequest(s);
      const proofs = parseProofDList(body.proofs);
      const keys = resolvePublicKeys(proofs, keyForMetadata);
      const verify = (ps: ProofD[], nonce = b64int(req.nonce)) =>
        verifyDisclosureProofs({ proofs: ps, publicKeys: keys, context: b64int(req.context), nonce });

      it('verifies and yields the values the reference server reported', () => {
        const creds = verify(proofs);
        expect(disclosedValues(body, proofs, creds)).toEqual(expectedValues(s));
        for (const c of creds) {
          expect(c.metadata.expiry).toBeGreaterThan(now);
          expect(c.metadata.signingDate).toBeLessThanOrEqual(now);
        }
      });

      it('each tampered field is rejected', () => {
        proofs.forEach((p, i) => {
          for (const t of tamperings(p)) {
            expect(() => verify(proofs.map((q, j) => (j === i ? (t as ProofD) : q)))).toThrow(IdemixError);
          }
        });
      });

      it("another session's nonce and a signature flag are rejected", () => {
        const other = recorded.sessions.find((o) => o !== s)!;
        expect(() => verify(proofs, b64int(clientRequest(other).nonce))).toThrow(/challenge/);
        expect(() =>
          verifyDisclosureProofs({ proofs, publicKeys: keys, context: 1n, nonce: b64int(req.nonce), sig: true }),
        ).toThrow(/challenge/);
      });
    });
  }
});

describe('recorded attribute-based signature session', () => {
  const s = signatures[0];
  const body = post(s, '/proofs').requestBody;
  const req = clientRequest(s);
  const request = { nonce: b64int(req.nonce), context: b64int(req.context), message: req.message as string };
  const check = (json: unknown, r = request) => {
    const signed = parseSignedMessage(json);
    return verifySignedMessage({ signed, publicKeys: resolvePublicKeys(signed.proofs, keyForMetadata), request: r });
  };

  it('is the one recorded signature', () => expect(signatures.length).toBe(1));

  it('verifies (v2 timestamp included) and yields the reported values', () => {
    const res = check(body);
    expect(res.message).toBe('I hereby sign this message');
    expect(Buffer.from(res.timestamp!.publicKey).toString('base64')).toBe(recorded.timestampServer.ed25519PublicKey);
    const proofs = parseSignedMessage(body).proofs;
    expect(disclosedValues(body, proofs, res.credentials)).toEqual(expectedValues(s));
    // Without a request the message and nonce in the body are used.
    expect(verifySignedMessage({ signed: parseSignedMessage(body), publicKeys: resolvePublicKeys(proofs, keyForMetadata) }).message).toBe(
      request.message,
    );
  });

  it('rejects another request nonce, context or message', () => {
    expect(() => check(body, { ...request, nonce: request.nonce + 1n })).toThrow(/nonce or message/);
    expect(() => check(body, { ...request, context: 2n })).toThrow(/context/);
    expect(() => check(body, { ...request, message: 'something else' })).toThrow(/nonce or message/);
  });

  it('rejects a changed message, timestamp time, signature or key, and each tampered proof field', () => {
    expect(() => check({ ...body, message: 'x' }, { ...request, message: 'x' })).toThrow(/timestamp/);
    expect(() => check({ ...body, timestamp: { ...body.timestamp, Time: body.timestamp.Time + 1 } })).toThrow(/timestamp/);
    const data = Buffer.from(body.timestamp.Sig.Data, 'base64');
    data[0] ^= 1;
    expect(() =>
      check({ ...body, timestamp: { ...body.timestamp, Sig: { ...body.timestamp.Sig, Data: data.toString('base64') } } }),
    ).toThrow(IdemixError);
    expect(() => check({ ...body, timestamp: null })).toThrow(/challenge/);
    const proofs = parseSignedMessage(body).proofs;
    const keys = resolvePublicKeys(proofs, keyForMetadata);
    proofs.forEach((p, i) => {
      for (const t of tamperings(p)) {
        const signed = parseSignedMessage(body);
        signed.proofs = proofs.map((q, j) => (j === i ? (t as ProofD) : q));
        expect(() => verifySignedMessage({ signed, publicKeys: keys, request })).toThrow(IdemixError);
      }
    });
  });
});
