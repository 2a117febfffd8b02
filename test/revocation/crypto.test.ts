// Layer 1 of revocation against the reference: the initial event hash, the recorded signed
// accumulators and updates (ECDSA, CBOR byte for byte, hash chain), the recorded non-revocation
// proof, and our own accumulator/witness/proof round trips on irma-demo.MijnOverheid key 2.
import { describe, expect, it } from 'vitest';
import { createDisclosureProofs } from '../../src/idemix/prover.js';
import { parseProofDList, serializeProofD, type ProofD } from '../../src/idemix/proofs.js';
import { verifyDisclosureProofs } from '../../src/idemix/verifier.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { signCLForTest } from './helpers.js';
import {
  decodeAccumulator,
  newAccumulator,
  openSignedAccumulator,
  removeFromAccumulator,
  signAccumulator,
} from '../../src/revocation/accumulator.js';
import { decodeCbor, encodeCbor } from '../../src/revocation/cbor.js';
import { RevocationError } from '../../src/revocation/errors.js';
import { eventHash, INITIAL_EVENT, type RevocationEvent } from '../../src/revocation/events.js';
import {
  decodeEventList,
  decodeUpdate,
  decodeUpdateMap,
  encodeEventList,
  encodeUpdate,
  encodeUpdateMap,
  updateFromJson,
  updateToJson,
  verifyUpdate,
  type Update,
} from '../../src/revocation/update.js';
import { randomWitness, updateWitness, verifyWitness, type Witness } from '../../src/revocation/witness.js';
import { openAccumulator } from '../../src/revocation/verify.js';
import { exchange, mijnOverheidKey, pk1, pk2, recordedSession, REVOCATION_INDEX, revocationVectors, sk2 } from './fixtures.js';

const b64 = (s: string): Uint8Array => Buffer.from(s, 'base64');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('event chain', () => {
  it('hashes the initial event to the constant every issuer shares', () => {
    expect(hex(eventHash(INITIAL_EVENT))).toBe('1220c88ca8e2655297750c8c785049234d117485eff28e33374d0e88f31ed285617b');
    expect(hex(INITIAL_EVENT.parentHash)).toBe('1220' + '00'.repeat(32));
  });
});

describe('recorded signed accumulators and updates', () => {
  const endpoints = revocationVectors.revocationEndpoints.requests as { label: string; responseBodyBase64: string }[];
  const body = (label: string): Uint8Array => b64(endpoints.find((r) => r.label === label)!.responseBodyBase64);

  it('re-encodes every served update byte for byte and verifies its signature and chain', () => {
    for (const label of ['update-16-pk2', 'update-16-pk1', 'update-1-pk2', 'update-0-pk2']) {
      const bytes = body(label);
      const u = decodeUpdate(bytes)!;
      expect(hex(encodeUpdate(u))).toBe(hex(bytes));
      const acc = verifyUpdate(u, mijnOverheidKey);
      expect(acc.index).toBe(u.sacc.pk === 2 ? 20 : 0);
    }
    const all = body('update-16-all');
    const map = decodeUpdateMap(all);
    expect([...map.keys()].sort()).toEqual([1, 2]);
    // Go iterates maps randomly: compare per entry, not the whole body.
    expect(decodeCbor(encodeUpdateMap(map))).toEqual(decodeCbor(all));
    expect(decodeUpdate(body('update-16-pk3-absent'))).toBeNull();
  });

  it('re-encodes served event lists byte for byte, and they chain', () => {
    for (const label of ['events-pk2-0-16', 'events-pk1-0-16', 'events-pk2-0-512', 'events-pk2-16-32']) {
      const bytes = body(label);
      const events = decodeEventList(bytes);
      expect(hex(encodeEventList(events))).toBe(hex(bytes));
    }
    const whole = decodeEventList(body('events-pk2-0-512'));
    expect(whole.map((e) => e.index)).toEqual([...Array(21).keys()]);
    const head = decodeUpdate(body('update-0-pk2'))!;
    expect(verifyUpdate({ sacc: head.sacc, events: whole }, mijnOverheidKey).index).toBe(20);
  });

  it('stores accumulators as the reference does: a CBOR byte string around the signed message', () => {
    const rows = revocationVectors.revocationEndpoints.dbState.accumulator_records as { pk_counter: number; data: string }[];
    const served = decodeUpdate(body('update-16-pk2'))!;
    const row = rows.find((r) => r.pk_counter === 2)!;
    expect(hex(encodeCbor(served.sacc.data))).toBe(hex(b64(row.data)));
    expect(decodeCbor(b64(row.data))).toEqual(served.sacc.data);
  });

  it('refuses a tampered signature, a wrong key and a broken chain', () => {
    const u = decodeUpdate(body('update-16-pk2'))!;
    const data = Uint8Array.from(u.sacc.data);
    data[10] ^= 1;
    expect(() => verifyUpdate({ ...u, sacc: { ...u.sacc, data } }, mijnOverheidKey)).toThrow(RevocationError);
    expect(() => openSignedAccumulator(u.sacc, pk1)).toThrow(/wrong public key/);
    const events = u.events.map((e, k) => (k === 3 ? { ...e, e: e.e + 2n } : e));
    expect(() => verifyUpdate({ ...u, events }, mijnOverheidKey)).toThrow(RevocationError);
    expect(() => verifyUpdate({ ...u, events: u.events.slice(0, -1) }, mijnOverheidKey)).toThrow(RevocationError);
  });

  it('reads the JSON update of a session request and writes it back identically', () => {
    const get = exchange(recordedSession('disclose-bsn-nonrevoked'), 'GET', '/');
    const updates = get.responseBody.request.revocation['irma-demo.MijnOverheid.root'].updates as Record<string, unknown>;
    for (const [counter, json] of Object.entries(updates)) {
      const u = updateFromJson(json);
      expect(u.sacc.pk).toBe(Number(counter));
      expect(verifyUpdate(u, mijnOverheidKey).index).toBe(0);
      expect(updateToJson(u)).toEqual(json);
    }
  });
});

describe('recorded non-revocation proofs', () => {
  for (const label of ['disclose-bsn-nonrevoked', 'disclose-bsn-witness-update', 'disclose-bsn-at-verifier']) {
    it(`${label}: the proof with nonrev_proof verifies, and not after tampering`, () => {
      const s = recordedSession(label);
      const req = exchange(s, 'GET', '/').responseBody.request;
      const post = exchange(s, 'POST', '/proofs');
      const proofs = parseProofDList(post.requestBody.proofs);
      expect(proofs[0].nonrev).toBeDefined();
      const input = {
        proofs,
        publicKeys: [pk2],
        context: BigInt('0x' + Buffer.from(req.context, 'base64').toString('hex')),
        nonce: BigInt('0x' + Buffer.from(req.nonce, 'base64').toString('hex')),
        revocationIndices: [REVOCATION_INDEX],
        openAccumulator,
      };
      expect(verifyDisclosureProofs(input)).toHaveLength(1);
      // The serialised form is what was received.
      expect(serializeProofD(proofs[0]).nonrev_proof).toEqual(post.requestBody.proofs[0].nonrev_proof);
      const p = proofs[0] as ProofD & { nonrev: NonNullable<ProofD['nonrev']> };
      for (const field of ['Cr', 'Cu', 'beta', 'delta', 'epsilon', 'zeta'] as const) {
        const bad = { ...p, nonrev: { ...p.nonrev, [field]: p.nonrev[field] + 1n } };
        expect(() => verifyDisclosureProofs({ ...input, proofs: [bad] }), field).toThrow(IdemixError);
      }
      expect(() => verifyDisclosureProofs({ ...input, openAccumulator: undefined })).toThrow(IdemixError);
      // gabi's own index heuristic finds the same attribute.
      expect(verifyDisclosureProofs({ ...input, revocationIndices: undefined })).toHaveLength(1);
    });
  }
});

describe('accumulator, witness and proof round trip (key 2)', () => {
  const now = 1_800_000_000;
  const start = newAccumulator(sk2, now);
  const sacc0 = signAccumulator(start.acc, sk2);
  const keyOf = (c: number) => (c === 2 ? pk2 : undefined);

  function revoke(acc: typeof start.acc, last: RevocationEvent, e: bigint, t: number) {
    const r = removeFromAccumulator(acc, last, e, sk2, t);
    return { ...r, sacc: signAccumulator(r.acc, sk2) };
  }

  it('signs an accumulator that opens to itself', () => {
    const acc = openSignedAccumulator(sacc0, pk2);
    expect(acc).toEqual(start.acc);
    expect(decodeAccumulator(decodeCbor(sacc0.data) instanceof Map ? ((decodeCbor(sacc0.data) as Map<string, Uint8Array>).get('Msg') as Uint8Array) : new Uint8Array())).toEqual(start.acc);
  });

  it('issues a witness, updates it over other revocations, detects its own revocation', () => {
    const mine = randomWitness(sk2, sacc0, start.acc);
    const other = randomWitness(sk2, sacc0, start.acc);
    expect(verifyWitness(mine, pk2).index).toBe(0);
    const r1 = revoke(start.acc, start.event, other.e, now + 1);
    const third = randomWitness(sk2, r1.sacc, r1.acc);
    const r2 = revoke(r1.acc, r1.event, third.e, now + 2);
    const update: Update = { sacc: r2.sacc, events: [start.event, r1.event, r2.event] };
    expect(verifyUpdate(update, keyOf).index).toBe(2);
    const moved: Witness = updateWitness(mine, update, pk2);
    expect(moved.accumulator.index).toBe(2);
    expect(verifyWitness(moved, pk2).index).toBe(2);
    // A witness at index 1 only multiplies events after 1 in.
    const thirdMoved = (() => {
      try {
        return updateWitness(third, update, pk2);
      } catch (e) {
        return e;
      }
    })();
    expect((thirdMoved as RevocationError).code).toBe('REVOKED');
    expect(() => updateWitness(other, update, pk2)).toThrow(/revoked/);
    // An update that starts after the witness needs the missing events first.
    expect(() => updateWitness(mine, { sacc: r2.sacc, events: [r2.event] }, pk2)).toThrow(/too new/);
    // A re-signed accumulator at the same index only moves the time forward.
    const resigned = signAccumulator({ ...r2.acc, time: now + 100 }, sk2);
    expect(updateWitness(moved, { sacc: resigned, events: [] }, pk2).accumulator.time).toBe(now + 100);
  });

  it('proves non-revocation inside a disclosure and the verifier checks it', () => {
    const w = randomWitness(sk2, sacc0, start.acc);
    const cred = signCLForTest(sk2, pk2, w.e);
    const proofs = createDisclosureProofs(
      [{ credential: cred, publicKey: pk2, disclosed: [2], nonrev: { index: REVOCATION_INDEX, witness: { u: w.u, e: w.e, nu: start.acc.nu, sacc: sacc0 } } }],
      1n,
      42n,
    );
    const input = { proofs, publicKeys: [pk2], context: 1n, nonce: 42n, revocationIndices: [REVOCATION_INDEX], openAccumulator };
    expect(verifyDisclosureProofs(input)).toHaveLength(1);
    // A witness for another e (not the credential's) cannot be used.
    const w2 = randomWitness(sk2, sacc0, start.acc);
    expect(() =>
      createDisclosureProofs(
        [{ credential: cred, publicKey: pk2, disclosed: [2], nonrev: { index: REVOCATION_INDEX, witness: { u: w2.u, e: w2.e, nu: start.acc.nu, sacc: sacc0 } } }],
        1n,
        42n,
      ),
    ).toThrow(IdemixError);
    // ν is taken from the signed accumulator: a proof against another accumulator fails.
    const r1 = revoke(start.acc, start.event, w2.e, now + 1);
    const forged = { ...proofs[0], nonrev: { ...proofs[0].nonrev!, sacc: r1.sacc } };
    expect(() => verifyDisclosureProofs({ ...input, proofs: [forged] })).toThrow(IdemixError);
  });
});

describe('recorded issuance of a revocable credential', () => {
  it("the issuer's witness verifies against the signed accumulator and the recorded issuance record decodes", async () => {
    const { parseIssueSignatureMessage, serializeIssueSignatureMessage } = await import('../../src/idemix/proofs.js');
    const { decodeIssuanceRecord, encodeIssuanceRecord } = await import('../../src/revocation/issuance-record.js');
    const { openSignedMessage } = await import('../../src/revocation/signed-message.js');
    const s = recordedSession('issue-root-revocable');
    const sig = exchange(s, 'POST', '/commitments').responseBody.sigs[0];
    const msg = parseIssueSignatureMessage(sig);
    expect(msg.nonrev).toBeDefined();
    expect(verifyWitness(msg.nonrev!, pk2).index).toBe(0);
    expect(serializeIssueSignatureMessage(msg).nonrev).toEqual(sig.nonrev);
    expect(() => verifyWitness({ ...msg.nonrev!, u: msg.nonrev!.u + 1n }, pk2)).toThrow(RevocationError);

    const post = revocationVectors.revocationEndpoints.requests.find((r: { label: string }) => r.label === 'issuancerecord-replay');
    const payload = openSignedMessage(b64(post.requestBodyBase64), pk2.ecdsa!);
    const record = decodeIssuanceRecord(payload);
    expect(record).toMatchObject({ key: 'revvec-bsn-3', credType: 'irma-demo.MijnOverheid.root', pkCounter: 2, revokedAt: 0n });
    expect(record.issued).toBeGreaterThan(1n << 53n);
    expect(hex(encodeIssuanceRecord(record))).toBe(hex(payload));
  });
});
