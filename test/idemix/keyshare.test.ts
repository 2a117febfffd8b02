// Merging a keyshare server's ProofP into the holder's proofs (spec §9), on proofs made with the
// whole secret and then stripped of the keyshare server's part.
import { describe, expect, it } from 'vitest';
import { encodeB64, modInverse, modPowReference } from '../../src/idemix/bigint.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { mergeProofP, parseProofP } from '../../src/idemix/keyshare.js';
import { verifyProofList } from '../../src/idemix/proof-list.js';
import type { ProofD, ProofU } from '../../src/idemix/proofs.js';
import { createIssuanceCommitments, generateSecretKey } from '../../src/idemix/prover.js';
import { publicKey } from './proof-fixtures.js';

const pk = () => publicKey('irma-demo.MijnOverheid', 2);

function honestProofU(): ProofU {
  return createIssuanceCommitments({ secretKey: generateSecretKey(), credentials: [{ publicKey: pk() }], context: 1n, nonce: 4n })
    .proofs[0] as ProofU;
}

const verifies = (p: ProofU | ProofD) => verifyProofList([{ proof: p, publicKey: pk() }], 1n, 4n, false) === p.c;

describe('ProofP merging', () => {
  it('current protocol: the keyshare c and response replace the holder values', () => {
    const u = honestProofU();
    const holder = { ...u, c: 5n, sResponse: 6n };
    expect(() => verifies(holder)).toThrow(IdemixError);
    const pp = parseProofP({ c: encodeB64(u.c), s_response: encodeB64(u.sResponse) });
    expect(pp.P).toBeNull();
    expect(verifies(mergeProofP(holder, pp, pk()))).toBe(true);
  });

  it('legacy protocol: P joins U and the responses add up', () => {
    const u = honestProofU();
    const key = pk();
    const x = 123456789n;
    const P = modPowReference(key.R[0], x, key.n);
    const sKss = 987654321n;
    const holder = { ...u, U: (u.U * modInverse(P, key.n)) % key.n, sResponse: u.sResponse - sKss };
    expect(verifies(mergeProofP(holder, { P, c: 0n, sResponse: sKss }, key))).toBe(true);
    expect(() => verifies(mergeProofP(holder, { P: (P * 4n) % key.n, c: 0n, sResponse: sKss }, key))).toThrow(/challenge/);
    expect(() => mergeProofP(holder, { P: 0n, c: 0n, sResponse: sKss }, key)).toThrow(IdemixError);
  });

  it('merges into ProofDs as well', () => {
    const d: ProofD = { kind: 'ProofD', c: 1n, A: 2n, eResponse: 3n, vResponse: 4n, aResponses: new Map([[0, 10n]]), aDisclosed: new Map([[1, 7n]]) };
    const cur = mergeProofP(d, { P: null, c: 9n, sResponse: 11n }, pk()) as ProofD;
    expect([cur.c, cur.aResponses.get(0)]).toEqual([9n, 11n]);
    const leg = mergeProofP(d, { P: 5n, c: 9n, sResponse: 11n }, pk()) as ProofD;
    expect([leg.c, leg.aResponses.get(0)]).toEqual([1n, 21n]);
    expect(d.aResponses.get(0)).toBe(10n);
  });

  it('rejects malformed ProofP claims', () => {
    for (const bad of [null, {}, { c: 'AQ==' }, { c: 'AQ==', s_response: -1 }, { c: 'AQ==', s_response: 'AQ==', P: 'x' }]) {
      expect(() => parseProofP(bad)).toThrow(IdemixError);
    }
  });
});
