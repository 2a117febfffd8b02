// The holder's side of a distributed scheme (spec §9): P joins U, Pcommit joins Ũ and Z̃, and
// the proofs verify once the keyshare server's response is merged in — not before.
import { describe, expect, it } from 'vitest';
import { randomBits } from '../../src/idemix/bigint.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { signCredential } from '../../src/idemix/issuer.js';
import { mergeProofP } from '../../src/idemix/keyshare.js';
import { modPow } from '../../src/idemix/modexp.js';
import { verifyProofList } from '../../src/idemix/proof-list.js';
import type { Proof, ProofD, ProofU } from '../../src/idemix/proofs.js';
import { createDisclosureProofs, createIssuanceCommitments, finishIssuance, generateSecretKey } from '../../src/idemix/prover.js';
import { encodeAttribute } from '../../src/idemix/attributes.js';
import { createMetadata } from '../../src/idemix/metadata.js';
import { privateKey, publicKey } from './proof-fixtures.js';

const pk = () => publicKey('irma-demo.MijnOverheid', 2);
const attrs = [
  createMetadata({ credentialTypeId: 'irma-demo.MijnOverheid.fullName', keyCounter: 2, issuedAt: 1795335240, validUntil: 1795335240 + 1e7 }),
  ...['Alice Bo', 'Alice', 'Example', 'van'].map((v) => encodeAttribute(v)),
];

function keyshare() {
  const key = pk();
  const x = randomBits(key.params.Lm - 1);
  const w = randomBits(key.params.LmCommit);
  return { x, w, P: modPow(key.R[0], x, key.n), Pcommit: modPow(key.R[0], w, key.n) };
}

const verifies = (proofs: Proof[], nonce: bigint) => {
  try {
    verifyProofList(proofs.map((proof) => ({ proof, publicKey: pk() })), 1n, nonce, false);
    return true;
  } catch (err) {
    if (err instanceof IdemixError && err.code === 'INVALID_PROOF') return false;
    throw err;
  }
};

describe('holder proofs with a keyshare server', () => {
  it('ProofU: verifies after merging the keyshare response, and only then', () => {
    const ks = keyshare();
    const com = createIssuanceCommitments({
      secretKey: generateSecretKey(),
      credentials: [{ publicKey: pk(), keyshare: { P: ks.P, Pcommit: ks.Pcommit } }],
      context: 1n,
      nonce: 9n,
    });
    const u = com.proofs[0] as ProofU;
    expect(verifies([u], 9n)).toBe(false);
    const merged = mergeProofP(u, { P: null, c: u.c, sResponse: u.sResponse + ks.w + u.c * ks.x }, pk());
    expect(verifies([merged], 9n)).toBe(true);
    // A keyshare response for another secret does not fit this U.
    const wrong = mergeProofP(u, { P: null, c: u.c, sResponse: u.sResponse + ks.w + u.c * (ks.x + 1n) }, pk());
    expect(verifies([wrong], 9n)).toBe(false);
  });

  it('ProofD of a distributed credential: Pcommit joins Z̃', () => {
    const ks = keyshare();
    const com = createIssuanceCommitments({
      secretKey: generateSecretKey(),
      credentials: [{ publicKey: pk(), keyshare: { P: ks.P, Pcommit: ks.Pcommit } }],
      context: 1n,
      nonce: 9n,
    });
    const sig = signCredential({ publicKey: pk(), privateKey: privateKey('irma-demo.MijnOverheid', 2), U: (com.proofs[0] as ProofU).U, attributes: attrs, nonce2: com.nonce2 });
    const cred = finishIssuance(com.state, 0, sig, attrs);
    const w2 = randomBits(pk().params.LmCommit);
    const [d] = createDisclosureProofs([{ credential: cred, publicKey: pk(), disclosed: [3], keyshare: { Pcommit: modPow(pk().R[0], w2, pk().n) } }], 1n, 10n);
    const merged = mergeProofP(d, { P: null, c: d.c, sResponse: d.aResponses.get(0)! + w2 + d.c * ks.x }, pk()) as ProofD;
    expect(verifies([d], 10n)).toBe(false);
    expect(verifies([merged], 10n)).toBe(true);
  });

  it('refuses keyshare values that are not group elements', () => {
    const ks = keyshare();
    for (const bad of [{ P: 0n, Pcommit: ks.Pcommit }, { P: ks.P, Pcommit: pk().n }]) {
      expect(() =>
        createIssuanceCommitments({ secretKey: 1n, credentials: [{ publicKey: pk(), keyshare: bad }], context: 1n, nonce: 1n }),
      ).toThrow(IdemixError);
    }
  });
});
