// Verification of a list of proofs bound by one challenge (disclosure proofs and issuance
// commitment proofs alike): per-proof sanity and range checks, recomputed commitments, one
// expected challenge, and equal secret-key responses within each keyshare group.
import { bitLength } from './bigint.js';
import { attributeExponent } from './attributes.js';
import { createChallenge } from './challenge.js';
import { IdemixError } from './errors.js';
import type { PublicKey } from './keys.js';
import { powProduct, sharesSquarings } from './modexp.js';
import type { Proof, ProofD, ProofU } from './proofs.js';
import { isGroupElement } from './signature.js';
import { NONREV_ALPHA_RESPONSE_BOUND, nonRevContributions, type SignedAccumulatorRef } from './nonrevocation.js';

/** Group id shared by every proof of a scheme without keyshare server. */
export const DEFAULT_SECRET_GROUP = '.';

export interface ProofListEntry {
  proof: Proof;
  publicKey: PublicKey;
  /** Proofs in one group must share the secret key: '.' for schemes without keyshare server. */
  group?: string;
  /** gabi index of the credential type's revocation attribute, when it has one. */
  revocationIndex?: number;
}

/**
 * Opens a non-revocation proof's signed accumulator (signature by the ECDSA key of `publicKey`,
 * whose counter it must name) and returns ν; throws when it does not verify.
 */
export type AccumulatorOpener = (sacc: SignedAccumulatorRef, publicKey: PublicKey) => bigint;

function invalid(msg: string): never {
  throw new IdemixError('INVALID_PROOF', msg);
}

function fitsBits(x: bigint, bits: number): boolean {
  return bitLength(x) <= bits;
}

/** Structural checks a ProofD must pass before its equations mean anything. */
export function checkProofD(p: ProofD, pk: PublicKey): void {
  const L = pk.R.length;
  if (!p.aResponses.has(0)) invalid('ProofD does not hide the secret key (index 0)');
  if (!p.aDisclosed.has(1)) invalid('ProofD does not disclose the metadata attribute (index 1)');
  // An index in both maps lets a prover claim any value for it and hide the difference.
  for (const i of p.aDisclosed.keys()) if (p.aResponses.has(i)) invalid(`index ${i} is both disclosed and hidden`);
  for (const i of [...p.aDisclosed.keys(), ...p.aResponses.keys()]) {
    if (i >= L) invalid(`attribute index ${i} beyond the key's ${L} bases`);
  }
  if (!isGroupElement(p.A, pk.n)) invalid("A' is not an invertible element of Z_n");
  const { LmCommit, LeCommit, LvCommit, Lh } = pk.params;
  // Not checked by gabi; honest values always fit, and the bounds keep hostile exponents small.
  if (!fitsBits(p.c, Lh)) invalid('challenge too large');
  if (!fitsBits(p.vResponse, LvCommit + 1)) invalid('v_response too large');
  for (const [i, r] of p.aResponses) {
    if (!fitsBits(r, LmCommit + 1)) invalid(`response for attribute ${i} too large`);
  }
  if (!fitsBits(p.eResponse, LeCommit + 1)) invalid('e_response too large');
}

/**
 * [A', Ẑ] with Ẑ = known^{−c}·A'^{ê}·S^{v̂}·Π R_i^{m̂_i}, known = Z·(A'^{2^{Le−1}}·Π R_i^{a_i*})^{−1}.
 * A'^{c·2^{Le−1}} joins A'^{ê} as one power, and Z^{−c} needs no inversion (Z's inverse is cached
 * for registered keys). The disclosed part is (Z^{−1}·Π R_i^{a_i*})^{c}: computed so (one power
 * of c, as gabi does) when each term costs an exponentiation of its own, spread out as
 * Z^{−c}·Π R_i^{c·a_i*} when all terms share one chain of squarings. The value is the same.
 */
export function proofDContributions(p: ProofD, pk: PublicKey): bigint[] {
  checkProofD(p, pk);
  const { Le, Lm } = pk.params;
  const disclosed: [bigint, bigint][] = [];
  for (const [i, a] of p.aDisclosed) {
    const x = attributeExponent(a, Lm);
    if (x !== 0n) disclosed.push([pk.R[i], x]);
  }
  const terms: [bigint, bigint][] = [
    [p.A, (p.c << BigInt(Le - 1)) + p.eResponse],
    [pk.S, p.vResponse],
  ];
  if (sharesSquarings(pk.n)) {
    terms.push([pk.Z, -p.c]);
    for (const [b, x] of disclosed) terms.push([b, p.c * x]);
  } else {
    terms.push([powProduct(pk.n, [[pk.Z, -1n], ...disclosed]), p.c]);
  }
  for (const [i, r] of p.aResponses) terms.push([pk.R[i], r]);
  return [p.A, powProduct(pk.n, terms)];
}

export function checkProofU(p: ProofU, pk: PublicKey): void {
  const { Lh, Ln, LvPrimeCommit, LmCommit } = pk.params;
  if (!isGroupElement(p.U, pk.n)) invalid('U is not an invertible element of Z_n');
  if (!fitsBits(p.vPrimeResponse, LvPrimeCommit + 1)) invalid('v_prime_response too large');
  // Beyond gabi, only to keep hostile exponents small: a keyshare server may merge its own
  // response into ŝ, so its bound is generous rather than tight.
  if (!fitsBits(p.c, Lh)) invalid('challenge too large');
  if (!fitsBits(p.sResponse, Ln)) invalid('s_response too large');
  for (const [k, r] of p.mUserResponses) {
    if (k === 0 || k >= pk.R.length) invalid(`m_user_responses index ${k} not allowed`);
    if (!fitsBits(r, LmCommit + 1)) invalid(`m_user_responses[${k}] too large`);
  }
}

/** [U, Ũ] with Ũ = U^{−c}·S^{v̂'}·R_0^{ŝ}·Π R_k^{m̂_k}. */
export function proofUContributions(p: ProofU, pk: PublicKey): bigint[] {
  checkProofU(p, pk);
  const terms: [bigint, bigint][] = [
    [p.U, -p.c],
    [pk.S, p.vPrimeResponse],
    [pk.R[0], p.sResponse],
  ];
  for (const [k, r] of p.mUserResponses) terms.push([pk.R[k], r]);
  return [p.U, powProduct(pk.n, terms)];
}

/**
 * gabi's rule when the caller does not know the revocation attribute: the first hidden
 * attribute (ascending) whose response fits the α bound. The credential type's own index is
 * better (a wrong pick only fails an honest proof, with probability ~2^-12 per attribute).
 */
function guessRevocationIndex(p: ProofD): number | undefined {
  for (const [i, r] of [...p.aResponses].sort((a, b) => a[0] - b[0])) {
    if (i >= 2 && r <= NONREV_ALPHA_RESPONSE_BOUND) return i;
  }
  return undefined;
}

function nonRevProofContributions(p: ProofD, entry: ProofListEntry, open: AccumulatorOpener | undefined): bigint[] {
  const nonrev = p.nonrev;
  if (nonrev === undefined) return [];
  if (open === undefined) invalid('non-revocation proof cannot be checked here');
  const pk = entry.publicKey;
  if (pk.G === undefined || pk.H === undefined) invalid('non-revocation proof for a key without revocation support');
  if (nonrev.sacc.pk !== pk.counter) invalid('non-revocation proof: signed accumulator of the wrong public key');
  const idx = entry.revocationIndex ?? guessRevocationIndex(p);
  const alpha = idx === undefined ? undefined : p.aResponses.get(idx);
  if (alpha === undefined) invalid('non-revocation proof: revocation attribute is not hidden');
  let nu: bigint;
  try {
    nu = open(nonrev.sacc, pk);
  } catch (e) {
    invalid(`non-revocation proof: ${(e as Error).message}`);
  }
  return nonRevContributions(pk, nonrev, p.c, alpha, nu);
}

function secretResponse(p: Proof): bigint {
  return p.kind === 'ProofD' ? (p.aResponses.get(0) as bigint) : p.sResponse;
}

/**
 * Verifies a whole proof list under (context, nonce, sig). Throws INVALID_PROOF on any failure;
 * returns the challenge all proofs share.
 */
export function verifyProofList(
  entries: readonly ProofListEntry[],
  context: bigint,
  nonce: bigint,
  sig: boolean,
  openAccumulator?: AccumulatorOpener,
): bigint {
  if (entries.length === 0) invalid('empty proof list');
  const contributions: bigint[] = [];
  for (const entry of entries) {
    const { proof, publicKey } = entry;
    if (proof.kind === 'ProofU') {
      contributions.push(...proofUContributions(proof, publicKey));
      continue;
    }
    contributions.push(...proofDContributions(proof, publicKey));
    if (proof.nonrev) contributions.push(...nonRevProofContributions(proof, entry, openAccumulator));
  }
  const c = createChallenge(context, contributions, nonce, sig);
  entries.forEach(({ proof }, i) => {
    if (proof.c !== c) invalid(`proof ${i}: challenge mismatch`);
  });
  const groups = new Map<string, bigint>();
  entries.forEach((e, i) => {
    const g = e.group ?? DEFAULT_SECRET_GROUP;
    const r = secretResponse(e.proof);
    const seen = groups.get(g);
    if (seen === undefined) groups.set(g, r);
    else if (seen !== r) invalid(`proof ${i}: secret key differs from the other proofs of group ${g}`);
  });
  return c;
}
