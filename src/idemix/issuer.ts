// The issuer's side: verify the holder's commitment proofs, then sign each credential on the
// holder's commitment U with a proof (ProofS) that the signature was made with the key's 1/e.
import { randomBytes } from 'node:crypto';
import { fromBytes, gcd, randomBelow, randomBits } from './bigint.js';
import { IdemixError } from './errors.js';
import { hashCommit } from './hash.js';
import type { PrivateKey, PublicKey } from './keys.js';
import { invert, modPow, modPowCrt, powProduct, probablePrime } from './modexp.js';
import { randomPrimeAbove } from './prime-search.js';
import { verifyProofList, type AccumulatorOpener } from './proof-list.js';
import type { IndexedValues, IssueSignatureMessage, Proof, ProofD, ProofU } from './proofs.js';
import { isGroupElement, representTerms } from './signature.js';
import { proofMetadata, type DisclosedCredential } from './verifier.js';

export interface CredentialToIssue {
  publicKey: PublicKey;
  /** gabi indices (j+2) of the credential type's random-blind attributes; usually none. */
  randomBlindIndices?: readonly number[];
}

export interface CommitmentVerification {
  /** The IssueCommitmentMessage's combinedProofs: disclosure proofs first, then one ProofU per credential. */
  proofs: readonly Proof[];
  /** Public keys of the disclosure proofs (resolved from their metadata), in order. */
  disclosureKeys: readonly PublicKey[];
  credentials: readonly CredentialToIssue[];
  context: bigint;
  nonce: bigint;
  /** Keyshare group per proof ('.' for every proof by default). */
  groups?: readonly string[];
  /** Revocation attribute index per disclosure proof, and the opener for non-revocation proofs. */
  revocationIndices?: readonly (number | undefined)[];
  openAccumulator?: AccumulatorOpener;
}

export interface VerifiedCommitments {
  disclosed: DisclosedCredential[];
  /** The commitment U of each credential, to sign. */
  commitments: bigint[];
}

function sameIndexSet(a: Iterable<number>, b: readonly number[]): boolean {
  const sa = [...a].sort((x, y) => x - y);
  const sb = [...b].sort((x, y) => x - y);
  return sa.length === sb.length && sa.every((x, i) => x === sb[i]);
}

/** Throws INVALID_PROOF (or MALFORMED for a list of the wrong shape) unless every proof holds. */
export function verifyIssuanceCommitments(v: CommitmentVerification): VerifiedCommitments {
  const nd = v.proofs.length - v.credentials.length;
  if (nd < 0 || nd !== v.disclosureKeys.length) {
    throw new IdemixError('MALFORMED', `expected ${v.disclosureKeys.length} disclosure proofs and ${v.credentials.length} commitments`);
  }
  if (v.groups !== undefined && v.groups.length !== v.proofs.length) {
    throw new IdemixError('MALFORMED', 'need exactly one group per proof');
  }
  const ds = v.proofs.slice(0, nd);
  const us = v.proofs.slice(nd);
  if (!ds.every((p) => p.kind === 'ProofD') || !us.every((p) => p.kind === 'ProofU')) {
    throw new IdemixError('MALFORMED', 'disclosure proofs must come first, then one ProofU per credential');
  }
  us.forEach((p, i) => {
    // gabi signs whatever U holds; responses for other indices would let the holder add to
    // (and so choose) the metadata or any attribute value.
    const expected = v.credentials[i].randomBlindIndices ?? [];
    if (!sameIndexSet((p as ProofU).mUserResponses.keys(), expected)) {
      throw new IdemixError('INVALID_PROOF', `commitment ${i}: m_user_responses do not match the random-blind attributes`);
    }
  });
  const keys = [...v.disclosureKeys, ...v.credentials.map((c) => c.publicKey)];
  verifyProofList(
    v.proofs.map((proof, i) => ({ proof, publicKey: keys[i], group: v.groups?.[i], revocationIndex: v.revocationIndices?.[i] })),
    v.context,
    v.nonce,
    false,
    v.openAccumulator,
  );
  return {
    disclosed: (ds as ProofD[]).map((p) => ({ metadata: proofMetadata(p), disclosed: new Map(p.aDisclosed) })),
    commitments: (us as ProofU[]).map((p) => p.U),
  };
}

/** e = 2^{Le−1} + odd offset below 2^{LePrime−1}, prime (gabi's acceptance: 20 Miller–Rabin rounds). */
function randomPrimeE(pk: PublicKey): bigint {
  return randomPrimeAbove(1n << BigInt(pk.params.Le - 1), pk.params.LePrime - 1, 20);
}

/**
 * A uniformly random quadratic residue mod n, for blinding. Every value the issuer raises to a
 * secret power modulo p and q is first multiplied by one of these, so the CRT reductions (whose
 * timing depends on the value reduced: Brumley–Boneh) only ever see values independent of what
 * the client sent; the blinding is divided out afterwards modulo the public n.
 */
function randomResidue(n: bigint): bigint {
  // No gcd test: s shares a factor with n with probability about 2^{−Ln/2}, and then the
  // inversion of r below fails with a typed error rather than anything leaving the issuer.
  for (;;) {
    const s = randomBelow(n);
    if (s > 1n) return (s * s) % n;
  }
}

/**
 * Quadratic residuosity via the private key: y = x^{(p'q'+1)/2} squares back to x exactly when x
 * is a residue mod p and mod q (p'q' is odd, so a non-residue picks up a factor −1). This form
 * avoids results of 1, which OpenSSL's exponentiation path refuses. Honest commitments are
 * residues. Tested on x·r for a random residue r, which is a residue exactly when x is.
 */
function isQuadraticResidue(sk: PrivateKey, x: bigint): boolean {
  const blinded = (x * randomResidue(sk.n)) % sk.n;
  const y = modPowCrt(blinded, (sk.order + 1n) / 2n, sk);
  return (y * y) % sk.n === blinded;
}

export interface SignatureRequest {
  publicKey: PublicKey;
  privateKey: PrivateKey;
  /** The holder's commitment from its (verified) ProofU. */
  U: bigint;
  /** irmago's attribute list: metadata at 0, attribute type j at j+1; random-blind slots 0. */
  attributes: readonly bigint[];
  randomBlindIndices?: readonly number[];
  /** The holder's n_2 from the IssueCommitmentMessage. */
  nonce2: bigint;
  /** 1 in every irma server issuance. */
  context?: bigint;
}

/** CL-signs the attributes on top of U and proves it (ProofS). */
export function signCredential(req: SignatureRequest): IssueSignatureMessage {
  const { publicKey: pk, privateKey: sk } = req;
  const { n } = pk;
  if (sk.n !== n) throw new IdemixError('ISSUANCE_FAILED', 'private key does not belong to the public key');
  if (!isGroupElement(req.U, n)) throw new IdemixError('INVALID_PROOF', 'U is not an invertible element of Z_n');
  // Outside the quadratic residues, A^e = Q^{de} could differ from Q by a square root of 1 other
  // than ±1, and such a root reveals a factor of n.
  if (!isQuadraticResidue(sk, req.U)) throw new IdemixError('INVALID_PROOF', 'U is not a quadratic residue');
  const ms = [0n, ...req.attributes];
  if (ms.length > pk.R.length) throw new IdemixError('ISSUANCE_FAILED', 'more attributes than the key has bases');
  const mIssuer: IndexedValues = new Map();
  for (const k of req.randomBlindIndices ?? []) {
    if (!Number.isInteger(k) || k < 2 || k >= ms.length || ms[k] !== 0n) {
      throw new IdemixError('ISSUANCE_FAILED', `random-blind index ${k} is not an empty attribute slot`);
    }
    const m = randomBits(pk.params.Lm - 1);
    ms[k] = m;
    mIssuer.set(k, m);
  }
  const vDoublePrime = (1n << BigInt(pk.params.Lv - 1)) + randomBits(pk.params.Lv - 1);
  const denominator = powProduct(n, [[pk.S, vDoublePrime], ...representTerms(pk, ms)]);
  const Q = (pk.Z * invert((denominator * req.U) % n, n)) % n;
  const e = randomPrimeE(pk);
  const d = invert(e, sk.order);
  // Base blinding: x = Q·r^e for a random residue r is a random residue whatever Q is, and
  // x^d = Q^d·r^{ed} = Q^d·r because r's order divides p'q' and ed ≡ 1 mod p'q'. Q^d and Q^ẽ
  // have full-length secret exponents, the case CRT is for (see bench/idemix.bench.ts); OpenSSL
  // runs each half in constant time with respect to the exponent.
  const r = randomResidue(n);
  const rE = modPowCrt(r, e, sk);
  const x = (Q * rE) % n;
  const A = (modPowCrt(x, d, sk) * invert(r, n)) % n;
  // A CRT result wrong modulo one prime only would hand the holder a factor of n, as
  // gcd(A^e − Q, n); nothing leaves here unless A is a true e-th root of Q.
  if (modPow(A, e, n) !== Q) throw new IdemixError('ISSUANCE_FAILED', 'signature computation failed its own check');

  // ProofS: knowledge of d with A = Q^d. A^e equals Q because Q is a quadratic residue.
  let eTilde: bigint;
  do eTilde = randomBelow(sk.order - 1n) + 1n;
  while (gcd(eTilde, sk.order) !== 1n);
  // Q^ẽ = x^ẽ·(r^e)^{−ẽ}, again without reducing a value the client chose modulo p or q.
  const aTilde = (modPowCrt(x, eTilde, sk) * invert(modPowCrt(rE, eTilde, sk), n)) % n;
  const c = hashCommit([req.context ?? 1n, Q, A, req.nonce2, aTilde], false);
  let eResponse = (eTilde - c * d) % sk.order;
  if (eResponse < 0n) eResponse += sk.order;
  return {
    proof: { c, eResponse },
    signature: { A, e, v: vDoublePrime, keyshareP: null },
    mIssuer,
  };
}
