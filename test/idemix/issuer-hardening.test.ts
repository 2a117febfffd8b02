// The issuer's own check of a CRT-computed signature (A^e ≡ Q before release), and the holder's
// refusal of a KeyshareP it did not ask for. A CRT fault is injected by wrapping modPowCrt.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeAttribute } from '../../src/idemix/attributes.js';
import { gcd, mod } from '../../src/idemix/bigint.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { signCredential } from '../../src/idemix/issuer.js';
import { createMetadata } from '../../src/idemix/metadata.js';
import { invert, modPow, modPowCrt as modPowCrtWithFault, powProduct } from '../../src/idemix/modexp.js';
import type { ProofU } from '../../src/idemix/proofs.js';
import { createIssuanceCommitments, finishIssuance, generateSecretKey } from '../../src/idemix/prover.js';
import { representTerms } from '../../src/idemix/signature.js';
import { privateKey, publicKey } from './proof-fixtures.js';

/** When on, every CRT result except the quadratic-residue test's is wrong modulo p only. */
const fault = vi.hoisted(() => ({ on: false }));

vi.mock('../../src/idemix/modexp.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/idemix/modexp.js')>();
  return {
    ...real,
    modPowCrt: (base: bigint, exp: bigint, key: { p: bigint; q: bigint; order?: bigint }) => {
      const r = real.modPowCrt(base, exp, key);
      if (!fault.on || (key.order !== undefined && exp === (key.order + 1n) / 2n)) return r;
      return (r + key.q) % (key.p * key.q);
    },
  };
});

afterEach(() => {
  fault.on = false;
});

const ISSUER = 'irma-demo.MijnOverheid';
const pk = () => publicKey(ISSUER, 2);
const sk = () => privateKey(ISSUER, 2);
const NOW = 1795335240;
const attrs = (name: string) => [
  createMetadata({ credentialTypeId: 'irma-demo.MijnOverheid.fullName', keyCounter: 2, issuedAt: NOW, validUntil: NOW + 1e7 }),
  ...[name, 'Alice', 'Example', 'van'].map((v) => encodeAttribute(v)),
];

function commitment() {
  return createIssuanceCommitments({ secretKey: generateSecretKey(), credentials: [{ publicKey: pk() }], context: 1n, nonce: 3n });
}

describe('issuer: CRT fault check', () => {
  it('a faulty CRT half would reveal a factor of n; signCredential refuses to release it', () => {
    const com = commitment();
    const U = (com.proofs[0] as ProofU).U;
    const req = { publicKey: pk(), privateKey: sk(), U, attributes: attrs('Alice Bo'), nonce2: com.nonce2 };

    // Why it matters: an e-th root that is right modulo q only gives q away as gcd(A^e − Q, n).
    const key = sk();
    const Q = modPow(U, 2n, key.n);
    const e = 65537n;
    fault.on = true;
    const A = modPowCrtWithFault(Q, invert(e, key.order), key);
    fault.on = false;
    expect(gcd(mod(modPow(A, e, key.n) - Q, key.n), key.n)).toBe(key.q);

    fault.on = true;
    let err: unknown;
    try {
      signCredential(req);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IdemixError);
    expect((err as IdemixError).code).toBe('ISSUANCE_FAILED');
  });

  it('without a fault the same request signs, and the holder accepts it', () => {
    const com = commitment();
    const msg = signCredential({ publicKey: pk(), privateKey: sk(), U: (com.proofs[0] as ProofU).U, attributes: attrs('Alice Bo'), nonce2: com.nonce2 });
    expect(finishIssuance(com.state, 0, msg, attrs('Alice Bo')).signature.keyshareP).toBeNull();
  });
});

describe('holder: KeyshareP from the issuer', () => {
  it('refuses a KeyshareP that would make a signature on other attributes pass as its own', () => {
    const key = pk();
    const com = commitment();
    // A dishonest issuer signs a different name, then sends KeyshareP = Π R_i^{y_i − m_i}, which
    // makes the CL equation hold for the attributes the holder expects.
    const signed = attrs('Mallory');
    const expected = attrs('Alice Bo');
    const msg = signCredential({ publicKey: key, privateKey: sk(), U: (com.proofs[0] as ProofU).U, attributes: signed, nonce2: com.nonce2 });
    const shift = powProduct(key.n, [
      ...representTerms(key, [0n, ...signed]),
      ...representTerms(key, [0n, ...expected]).map(([b, x]) => [b, -x] as [bigint, bigint]),
    ]);
    const forged = { ...msg, signature: { ...msg.signature, keyshareP: shift } };
    expect(() => finishIssuance(com.state, 0, forged, expected)).toThrow(/KeyshareP/);
    // The honest signature on the other name is still refused for what the holder expects.
    expect(() => finishIssuance(com.state, 0, msg, expected)).toThrow(/does not verify/);
  });

  it('a distributed credential carries the holder’s own P, whatever the issuer sends', () => {
    const key = pk();
    const x = 987654321n;
    const P = modPow(key.R[0], x, key.n);
    const Pcommit = modPow(key.R[0], 12345n, key.n);
    const secret = generateSecretKey();
    const com = createIssuanceCommitments({ secretKey: secret, credentials: [{ publicKey: key, keyshare: { P, Pcommit } }], context: 1n, nonce: 3n });
    const msg = signCredential({ publicKey: key, privateKey: sk(), U: (com.proofs[0] as ProofU).U, attributes: attrs('Alice Bo'), nonce2: com.nonce2 });
    expect(finishIssuance(com.state, 0, msg, attrs('Alice Bo')).signature.keyshareP).toBe(P);
    const other = { ...msg, signature: { ...msg.signature, keyshareP: 4n } };
    expect(finishIssuance(com.state, 0, other, attrs('Alice Bo')).signature.keyshareP).toBe(P);
  });
});
