// The checks beyond gabi (spec ⚠ sections): forged proofs that satisfy gabi's equations but
// must still be rejected, and structurally hostile proofs and commitments.
import { describe, expect, it } from 'vitest';
import { modInverse, modPowReference, randomBits } from '../../src/idemix/bigint.js';
import { encodeAttribute } from '../../src/idemix/attributes.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { hashCommit } from '../../src/idemix/hash.js';
import { signCredential, verifyIssuanceCommitments } from '../../src/idemix/issuer.js';
import type { PublicKey } from '../../src/idemix/keys.js';
import { createMetadata } from '../../src/idemix/metadata.js';
import { verifyProofList } from '../../src/idemix/proof-list.js';
import type { ProofD, ProofU } from '../../src/idemix/proofs.js';
import {
  createDisclosureProofs,
  createIssuanceCommitments,
  finishIssuance,
  generateSecretKey,
  type Credential,
} from '../../src/idemix/prover.js';
import { resolvePublicKeys, verifyDisclosureProofs } from '../../src/idemix/verifier.js';
import { keyForMetadata, privateKey, publicKey } from './proof-fixtures.js';

const ISSUER = 'irma-demo.MijnOverheid';
const pk = () => publicKey(ISSUER, 2);
const sk = () => privateKey(ISSUER, 2);
const NOW = 1795335240;
const attrs = () => [
  createMetadata({ credentialTypeId: 'irma-demo.MijnOverheid.fullName', keyCounter: 2, issuedAt: NOW, validUntil: NOW + 1e7 }),
  ...['Alice Bo', 'Alice', 'Example', 'van'].map((v) => encodeAttribute(v)),
];

function issueOne(secret: bigint): Credential {
  const com = createIssuanceCommitments({ secretKey: secret, credentials: [{ publicKey: pk() }], context: 1n, nonce: 3n });
  const msg = signCredential({ publicKey: pk(), privateKey: sk(), U: (com.proofs[0] as ProofU).U, attributes: attrs(), nonce2: com.nonce2 });
  return finishIssuance(com.state, 0, msg, attrs());
}

const pow = (b: bigint, e: bigint, n: bigint) => modPowReference(b, e, n);

/** gabi's ProofD check written out directly from the spec (§6.2), without our hardening. */
function gabiAccepts(p: ProofD, key: PublicKey, context: bigint, nonce: bigint): boolean {
  const { n, Z, S, R, params } = key;
  let num = pow(p.A, 1n << BigInt(params.Le - 1), n);
  for (const [i, a] of p.aDisclosed) num = (num * pow(R[i], a, n)) % n;
  const known = (Z * modInverse(num, n)) % n;
  let zHat = (pow(modInverse(known, n), p.c, n) * pow(p.A, p.eResponse, n) * pow(S, p.vResponse, n)) % n;
  for (const [i, m] of p.aResponses) zHat = (zHat * pow(R[i], m, n)) % n;
  return hashCommit([context, p.A, zHat, nonce], false) === p.c;
}

/** A proof that discloses X at `idx` while "hiding" m − X at the same index. */
function forgeOverlap(cred: Credential, key: PublicKey, idx: number, X: bigint, context: bigint, nonce: bigint): ProofD {
  const { n, S, R, params } = key;
  const r = randomBits(params.LRA);
  const A = (cred.signature.A * pow(S, r, n)) % n;
  const v = cred.signature.v - cred.signature.e * r;
  const eTilde = randomBits(params.LeCommit);
  const vTilde = randomBits(params.LvCommit);
  const hidden = cred.attributes.map((_, i) => i).filter((i) => i !== 1);
  const secret = (i: number) => (i === idx ? cred.attributes[i] - X : cred.attributes[i]);
  const mTilde = new Map(hidden.map((i) => [i, randomBits(params.LmCommit)]));
  let zTilde = (pow(A, eTilde, n) * pow(S, vTilde, n)) % n;
  for (const i of hidden) zTilde = (zTilde * pow(R[i], mTilde.get(i)!, n)) % n;
  const c = hashCommit([context, A, zTilde, nonce], false);
  return {
    kind: 'ProofD',
    c,
    A,
    eResponse: eTilde + c * (cred.signature.e - (1n << BigInt(params.Le - 1))),
    vResponse: vTilde + c * v,
    aResponses: new Map(hidden.map((i) => [i, mTilde.get(i)! + c * secret(i)])),
    aDisclosed: new Map([
      [1, cred.attributes[1]],
      [idx, X],
    ]),
  };
}

describe('disclosure proofs: index-set attacks (spec §6.2 ⚠)', () => {
  const cred = issueOne(generateSecretKey());

  it('a forged value at an index both disclosed and hidden passes gabi but not us', () => {
    const X = cred.attributes[3] - 2n; // another odd number: a different, well-formed string
    const forged = forgeOverlap(cred, pk(), 3, X, 1n, 11n);
    expect(gabiAccepts(forged, pk(), 1n, 11n)).toBe(true);
    expect(() => verifyDisclosureProofs({ proofs: [forged], publicKeys: [pk()], context: 1n, nonce: 11n })).toThrow(
      /both disclosed and hidden/,
    );
  });

  it('an honest proof passes the same independent gabi check (the check is not vacuous)', () => {
    const [p] = createDisclosureProofs([{ credential: cred, publicKey: pk(), disclosed: [2] }], 1n, 11n);
    expect(gabiAccepts(p, pk(), 1n, 11n)).toBe(true);
    expect(gabiAccepts({ ...p, aDisclosed: new Map(p.aDisclosed).set(2, 5n) }, pk(), 1n, 11n)).toBe(false);
  });

  it('rejects structural attacks with typed errors', () => {
    const [p] = createDisclosureProofs([{ credential: cred, publicKey: pk(), disclosed: [2] }], 1n, 11n);
    const key = pk();
    const cases: [ProofD, RegExp][] = [
      [{ ...p, aResponses: new Map([...p.aResponses].filter(([k]) => k !== 0)) }, /secret key/],
      [{ ...p, aDisclosed: new Map([...p.aDisclosed].filter(([k]) => k !== 1)) }, /metadata/],
      [{ ...p, aResponses: new Map(p.aResponses).set(key.R.length, 1n) }, /beyond/],
      [{ ...p, aDisclosed: new Map(p.aDisclosed).set(key.R.length + 5, 1n) }, /beyond/],
      [{ ...p, A: 0n }, /invertible/],
      [{ ...p, A: key.n }, /invertible/],
      [{ ...p, A: sk().p }, /invertible/],
      [{ ...p, eResponse: 1n << BigInt(key.params.LeCommit + 1) }, /e_response too large/],
      [{ ...p, aResponses: new Map(p.aResponses).set(3, 1n << BigInt(key.params.LmCommit + 1)) }, /too large/],
    ];
    for (const [bad, msg] of cases) {
      let err: unknown;
      try {
        verifyDisclosureProofs({ proofs: [bad], publicKeys: [key], context: 1n, nonce: 11n });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IdemixError);
      expect((err as IdemixError).code).toBe('INVALID_PROOF');
      expect((err as Error).message).toMatch(msg);
    }
    expect(() => verifyDisclosureProofs({ proofs: [], publicKeys: [], nonce: 1n })).toThrow(/empty/);
    expect(() => verifyDisclosureProofs({ proofs: [p], publicKeys: [], nonce: 1n })).toThrow(IdemixError);
  });

  it('an unknown key counter or credential type is UNKNOWN_PUBLIC_KEY', () => {
    const [p] = createDisclosureProofs([{ credential: cred, publicKey: pk(), disclosed: [] }], 1n, 11n);
    const meta = p.aDisclosed.get(1)!;
    const counterShift = 1n << BigInt(8 * 16); // key counter: bytes 6–7 of 24
    const otherCounter = { ...p, aDisclosed: new Map(p.aDisclosed).set(1, meta + 40n * counterShift) };
    const otherType = { ...p, aDisclosed: new Map(p.aDisclosed).set(1, meta ^ 0xffn) };
    for (const bad of [otherCounter, otherType]) {
      let err: unknown;
      try {
        resolvePublicKeys([bad], keyForMetadata);
      } catch (e) {
        err = e;
      }
      expect((err as IdemixError).code).toBe('UNKNOWN_PUBLIC_KEY');
    }
    expect(resolvePublicKeys([p], keyForMetadata)[0]).toBe(pk());
  });
});

/** A ProofU whose U also carries R_k^x, proving knowledge of x as if k were random-blind. */
function hostileProofU(key: PublicKey, secret: bigint, k: number, x: bigint, nonce: bigint): ProofU {
  const { n, S, R, params } = key;
  const vPrime = randomBits(params.LvPrime);
  const U = (pow(S, vPrime, n) * pow(R[0], secret, n) * pow(R[k], x, n)) % n;
  const vT = randomBits(params.LvPrimeCommit);
  const sT = randomBits(592);
  const mT = randomBits(params.LmCommit);
  const uTilde = (pow(S, vT, n) * pow(R[0], sT, n) * pow(R[k], mT, n)) % n;
  const c = hashCommit([1n, U, uTilde, nonce], false);
  return { kind: 'ProofU', U, c, vPrimeResponse: vT + c * vPrime, sResponse: sT + c * secret, mUserResponses: new Map([[k, mT + c * x]]) };
}

describe('issuance commitments: hostile U (spec §5.3 ⚠)', () => {
  const key = pk();

  it('a commitment adding to the metadata passes gabi-level checks but is refused', () => {
    const p = hostileProofU(key, generateSecretKey(), 1, 12345n, 8n);
    expect(verifyProofList([{ proof: p, publicKey: key }], 1n, 8n, false)).toBe(p.c);
    const input = { proofs: [p], disclosureKeys: [], credentials: [{ publicKey: key }], context: 1n, nonce: 8n };
    expect(() => verifyIssuanceCommitments(input)).toThrow(/m_user_responses/);
    const q = hostileProofU(key, generateSecretKey(), 3, 12345n, 8n);
    expect(() => verifyIssuanceCommitments({ ...input, proofs: [q] })).toThrow(/m_user_responses/);
  });

  it('a random-blind credential needs exactly its random-blind responses', () => {
    const sp = publicKey('irma-demo.stemmen', 0);
    const com = createIssuanceCommitments({ secretKey: generateSecretKey(), credentials: [{ publicKey: sp }], context: 1n, nonce: 8n });
    const input = { proofs: com.proofs, disclosureKeys: [], credentials: [{ publicKey: sp, randomBlindIndices: [3] }], context: 1n, nonce: 8n };
    expect(() => verifyIssuanceCommitments(input)).toThrow(/m_user_responses/);
    expect(verifyIssuanceCommitments({ ...input, credentials: [{ publicKey: sp }] }).commitments).toHaveLength(1);
  });

  it('rejects U outside the group, a too large v_prime_response, index 0, and wrong list shapes', () => {
    const com = createIssuanceCommitments({ secretKey: generateSecretKey(), credentials: [{ publicKey: key }], context: 1n, nonce: 8n });
    const u = com.proofs[0] as ProofU;
    const input = (p: ProofU) => ({ proofs: [p], disclosureKeys: [], credentials: [{ publicKey: key }], context: 1n, nonce: 8n });
    for (const bad of [
      { ...u, U: 0n },
      { ...u, U: key.n },
      { ...u, U: sk().q },
      { ...u, vPrimeResponse: 1n << BigInt(key.params.LvPrimeCommit + 1) },
    ]) {
      expect(() => verifyIssuanceCommitments(input(bad))).toThrow(IdemixError);
    }
    expect(() => verifyProofList([{ proof: { ...u, mUserResponses: new Map([[0, 1n]]) }, publicKey: key }], 1n, 8n, false)).toThrow(
      /index 0/,
    );
    expect(() => verifyIssuanceCommitments({ ...input(u), credentials: [] })).toThrow(/MALFORMED|expected/);
    expect(() => verifyIssuanceCommitments({ ...input(u), credentials: [{ publicKey: key }, { publicKey: key }] })).toThrow(IdemixError);
    const [d] = createDisclosureProofs([{ credential: issueOne(generateSecretKey()), publicKey: key, disclosed: [] }], 1n, 8n);
    expect(() =>
      verifyIssuanceCommitments({ proofs: [u, d], disclosureKeys: [key], credentials: [{ publicKey: key }], context: 1n, nonce: 8n }),
    ).toThrow(/first/);
  });

  it('the issuer refuses to sign a U that is not a quadratic residue', () => {
    const com = createIssuanceCommitments({ secretKey: generateSecretKey(), credentials: [{ publicKey: key }], context: 1n, nonce: 8n });
    const U = (com.proofs[0] as ProofU).U;
    const req = { publicKey: key, privateKey: sk(), attributes: attrs(), nonce2: 1n };
    expect(() => signCredential({ ...req, U: key.n - U })).toThrow(/quadratic residue/);
    expect(() => signCredential({ ...req, U: 0n })).toThrow(IdemixError);
    expect(() => signCredential({ ...req, U, randomBlindIndices: [2] })).toThrow(/random-blind/);
    expect(() => signCredential({ ...req, U, privateKey: privateKey('irma-demo.stemmen', 0) })).toThrow(/private key/);
  });
});

describe('size bounds that keep hostile exponents small', () => {
  it('rejects oversized c, v_response and s_response before exponentiating', () => {
    const key = pk();
    const [p] = createDisclosureProofs([{ credential: issueOne(generateSecretKey()), publicKey: key, disclosed: [] }], 1n, 2n);
    for (const bad of [{ ...p, c: 1n << 256n }, { ...p, vResponse: 1n << BigInt(key.params.LvCommit + 1) }, { ...p, vResponse: 1n << 100000n }]) {
      expect(() => verifyDisclosureProofs({ proofs: [bad], publicKeys: [key], context: 1n, nonce: 2n })).toThrow(/too large/);
    }
    const u = createIssuanceCommitments({ secretKey: generateSecretKey(), credentials: [{ publicKey: key }], context: 1n, nonce: 2n })
      .proofs[0] as ProofU;
    for (const bad of [{ ...u, c: 1n << 300n }, { ...u, sResponse: 1n << 100000n }]) {
      expect(() => verifyProofList([{ proof: bad, publicKey: key }], 1n, 2n, false)).toThrow(/too large/);
    }
  });
});
