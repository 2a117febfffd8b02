// The holder's side: secret key, issuance commitments (ProofU, optionally with disclosures),
// turning the issuer's answer into a stored credential, and disclosure proofs (ProofD) for
// disclosure sessions and attribute-based signatures.
import { bitLength, randomBits } from './bigint.js';
import { attributeExponent } from './attributes.js';
import { createChallenge } from './challenge.js';
import { IdemixError } from './errors.js';
import { hashCommit } from './hash.js';
import type { PublicKey } from './keys.js';
import { modPow, powProduct } from './modexp.js';
import { nonRevCommit, type NonRevWitness } from './nonrevocation.js';
import { NONCE_BITS, SECRET_KEY_BITS, SHARED_RANDOMIZER_BITS } from './params.js';
import type { CLSignature, IndexedValues, IssueSignatureMessage, Proof, ProofD, ProofS, ProofU } from './proofs.js';
import { eInRange, isGroupElement, randomizeSignature, verifyCLSignature } from './signature.js';

export function generateSecretKey(): bigint {
  return randomBits(SECRET_KEY_BITS);
}

/** A credential as the holder stores it. */
export interface Credential {
  signature: CLSignature;
  /** gabi order: secret key at 0, metadata at 1, attribute type j at j+2. */
  attributes: bigint[];
  issuerId?: string;
  keyCounter: number;
}

export interface DisclosureChoice {
  credential: Credential;
  publicKey: PublicKey;
  /** gabi indices to disclose; the metadata (1) is always added, the secret (0) never allowed. */
  disclosed: readonly number[];
  /** Distributed schemes: the keyshare server's R_0^w for this key, joined into Z̃ (spec §9). */
  keyshare?: { Pcommit: bigint };
  /** Prove non-revocation: the witness, and the gabi index of the revocation attribute it belongs to. */
  nonrev?: { witness: NonRevWitness; index: number };
}

/**
 * The keyshare server's first message for one key of a distributed scheme (spec §9):
 * P = R_0^{x_kss} and Pcommit = R_0^{w}. The holder's proofs then cover only its own part of the
 * secret; the keyshare server's ProofP completes them.
 */
export interface KeyshareCommitment {
  P: bigint;
  Pcommit: bigint;
}

function checkKeyshareElement(x: bigint, pk: PublicKey, what: string): void {
  if (!isGroupElement(x, pk.n)) throw new IdemixError('MALFORMED', `keyshare ${what} is not an invertible element of Z_n`);
}

interface Builder {
  contributions: bigint[];
  respond(c: bigint): Proof;
}

function proofDBuilder(choice: DisclosureChoice, sTilde: bigint): Builder & { randomizedA: bigint; disclosed: IndexedValues } {
  const { credential, publicKey: pk } = choice;
  const { params } = pk;
  const attrs = credential.attributes;
  if (attrs.length > pk.R.length) throw new IdemixError('MALFORMED', 'credential has more attributes than the key has bases');
  const disclosedSet = new Set([1, ...choice.disclosed]);
  for (const i of disclosedSet) {
    if (!Number.isInteger(i) || i < 1 || i >= attrs.length) throw new IdemixError('MALFORMED', `cannot disclose index ${i}`);
  }
  const hidden = attrs.map((_, i) => i).filter((i) => !disclosedSet.has(i));
  if (choice.keyshare) checkKeyshareElement(choice.keyshare.Pcommit, pk, 'Pcommit');
  const rs = randomizeSignature(pk, credential.signature);
  const eTilde = randomBits(params.LeCommit);
  const vTilde = randomBits(params.LvCommit);
  const mTilde = new Map(hidden.map((i) => [i, i === 0 ? sTilde : randomBits(params.LmCommit)]));
  let nonrev: ReturnType<typeof nonRevCommit> | undefined;
  if (choice.nonrev) {
    const { witness, index } = choice.nonrev;
    if (!mTilde.has(index) || index < 2) throw new IdemixError('MALFORMED', 'the revocation attribute must be hidden to prove non-revocation');
    if (attrs[index] !== witness.e) throw new IdemixError('MALFORMED', "the witness does not belong to this credential's revocation attribute");
    nonrev = nonRevCommit(pk, witness);
    mTilde.set(index, nonrev.alphaTilde);
  }
  let zTilde = powProduct(pk.n, [
    [rs.A, eTilde],
    [pk.S, vTilde],
    ...hidden.map((i) => [pk.R[i], mTilde.get(i) as bigint] as [bigint, bigint]),
  ]);
  if (choice.keyshare) zTilde = (zTilde * choice.keyshare.Pcommit) % pk.n;
  const disclosed: IndexedValues = new Map([...disclosedSet].sort((a, b) => a - b).map((i) => [i, attrs[i]]));
  const ePrime = rs.e - (1n << BigInt(params.Le - 1));
  return {
    contributions: [rs.A, zTilde, ...(nonrev?.contributions ?? [])],
    randomizedA: rs.A,
    disclosed,
    respond: (c): ProofD => ({
      ...(nonrev ? { nonrev: nonrev.respond(c) } : {}),
      kind: 'ProofD',
      c,
      A: rs.A,
      eResponse: eTilde + c * ePrime,
      vResponse: vTilde + c * rs.v,
      aResponses: new Map(
        hidden.map((i) => [i, (mTilde.get(i) as bigint) + c * attributeExponent(attrs[i], params.Lm)]),
      ),
      aDisclosed: new Map(disclosed),
    }),
  };
}

/**
 * Commitments for a disclosure proof list, made before the nonce is needed so that an
 * attribute-based signature can first obtain a timestamp over `randomizedA` and `disclosed`.
 * Single use: answering two challenges with the same randomness would reveal the secrets.
 */
export class PreparedDisclosure {
  readonly randomizedA: readonly bigint[];
  readonly disclosed: readonly IndexedValues[];
  readonly publicKeys: readonly PublicKey[];
  #builders: Builder[] | null;

  constructor(choices: readonly DisclosureChoice[]) {
    const sTilde = randomBits(SHARED_RANDOMIZER_BITS);
    const builders = choices.map((ch) => proofDBuilder(ch, sTilde));
    this.randomizedA = builders.map((b) => b.randomizedA);
    this.disclosed = builders.map((b) => b.disclosed);
    this.publicKeys = choices.map((ch) => ch.publicKey);
    this.#builders = builders;
  }

  /** The proofs for (context, nonce, sig); sig=true needs nonce = N_sig (signature-nonce.ts). */
  prove(context: bigint, nonce: bigint, sig = false): ProofD[] {
    const builders = this.#builders;
    if (builders === null) throw new IdemixError('MALFORMED', 'prepared disclosure already used');
    this.#builders = null;
    const c = createChallenge(context, builders.flatMap((b) => b.contributions), nonce, sig);
    return builders.map((b) => b.respond(c) as ProofD);
  }
}

export function createDisclosureProofs(
  choices: readonly DisclosureChoice[],
  context: bigint,
  nonce: bigint,
  sig = false,
): ProofD[] {
  return new PreparedDisclosure(choices).prove(context, nonce, sig);
}

export interface CredentialRequest {
  publicKey: PublicKey;
  /** gabi indices (j+2) of the credential type's random-blind attributes. */
  randomBlindIndices?: readonly number[];
  /** Distributed schemes only: P joins U, Pcommit joins Ũ. */
  keyshare?: KeyshareCommitment;
}

interface PendingCredential {
  publicKey: PublicKey;
  vPrime: bigint;
  mUser: IndexedValues;
  /** The keyshare P this credential's signature must include; null without keyshare server. */
  keyshareP: bigint | null;
}

/** What the holder keeps between sending commitments and receiving signatures. */
export interface IssuanceState {
  secretKey: bigint;
  nonce2: bigint;
  context: bigint;
  pending: PendingCredential[];
}

export interface IssuanceCommitments {
  /** ProofDs for the requested disclosures first, then one ProofU per credential request. */
  proofs: Proof[];
  nonce2: bigint;
  state: IssuanceState;
}

function proofUBuilder(req: CredentialRequest, secretKey: bigint, sTilde: bigint): Builder & { pending: PendingCredential } {
  const pk = req.publicKey;
  const { params } = pk;
  const blind = [...(req.randomBlindIndices ?? [])];
  for (const k of blind) {
    if (!Number.isInteger(k) || k < 2 || k >= pk.R.length) throw new IdemixError('MALFORMED', `bad random-blind index ${k}`);
  }
  const ks = req.keyshare;
  if (ks) {
    checkKeyshareElement(ks.P, pk, 'P');
    checkKeyshareElement(ks.Pcommit, pk, 'Pcommit');
  }
  const vPrime = randomBits(params.LvPrime);
  const mUser: IndexedValues = new Map(blind.map((k) => [k, randomBits(params.Lm - 1)]));
  let U = powProduct(pk.n, [
    [pk.S, vPrime],
    [pk.R[0], secretKey],
    ...blind.map((k) => [pk.R[k], mUser.get(k) as bigint] as [bigint, bigint]),
  ]);
  const vPrimeTilde = randomBits(params.LvPrimeCommit);
  const mTilde = new Map(blind.map((k) => [k, randomBits(params.LmCommit)]));
  let uTilde = powProduct(pk.n, [
    [pk.S, vPrimeTilde],
    [pk.R[0], sTilde],
    ...blind.map((k) => [pk.R[k], mTilde.get(k) as bigint] as [bigint, bigint]),
  ]);
  if (ks) {
    U = (U * ks.P) % pk.n;
    uTilde = (uTilde * ks.Pcommit) % pk.n;
  }
  return {
    contributions: [U, uTilde],
    pending: { publicKey: pk, vPrime, mUser, keyshareP: ks?.P ?? null },
    respond: (c): ProofU => ({
      kind: 'ProofU',
      U,
      c,
      vPrimeResponse: vPrimeTilde + c * vPrime,
      sResponse: sTilde + c * secretKey,
      mUserResponses: new Map(blind.map((k) => [k, (mTilde.get(k) as bigint) + c * (mUser.get(k) as bigint)])),
    }),
  };
}

/** The proofs of an IssueCommitmentMessage, all sharing one secret-key randomizer. */
export function createIssuanceCommitments(opts: {
  secretKey: bigint;
  credentials: readonly CredentialRequest[];
  disclosures?: readonly DisclosureChoice[];
  context: bigint;
  nonce: bigint;
}): IssuanceCommitments {
  const sTilde = randomBits(SHARED_RANDOMIZER_BITS);
  const ds = (opts.disclosures ?? []).map((ch) => proofDBuilder(ch, sTilde));
  const us = opts.credentials.map((r) => proofUBuilder(r, opts.secretKey, sTilde));
  const builders: Builder[] = [...ds, ...us];
  const c = createChallenge(opts.context, builders.flatMap((b) => b.contributions), opts.nonce, false);
  const nonce2 = randomBits(NONCE_BITS);
  return {
    proofs: builders.map((b) => b.respond(c)),
    nonce2,
    state: { secretKey: opts.secretKey, nonce2, context: opts.context, pending: us.map((u) => u.pending) },
  };
}

/** The holder's check of ProofS: c = H(context, A^e, A, n_2, A^{c+ê·e}). */
export function verifyProofS(pk: PublicKey, proof: ProofS, signature: CLSignature, context: bigint, nonce2: bigint): boolean {
  const { n } = pk;
  // Bounds first, so a hostile issuer cannot make us exponentiate by an enormous number.
  if (signature.A <= 0n || signature.A >= n || proof.eResponse >= n || bitLength(proof.c) > pk.params.Lh) return false;
  if (!eInRange(signature.e, pk.params)) return false;
  const aTilde = modPow(signature.A, proof.c + proof.eResponse * signature.e, n);
  const q = modPow(signature.A, signature.e, n);
  return hashCommit([context, q, signature.A, nonce2, aTilde], false) === proof.c;
}

/**
 * Turns the issuer's i-th IssueSignatureMessage into a credential. `attributes` is the
 * attribute list the issuer signed as the holder recomputes it (metadata first, random-blind
 * slots 0). Throws ISSUANCE_FAILED when the issuer's answer does not check out.
 */
export function finishIssuance(
  state: IssuanceState,
  index: number,
  message: IssueSignatureMessage,
  attributes: readonly bigint[],
): Credential {
  const pending = state.pending[index];
  if (pending === undefined) throw new IdemixError('MALFORMED', `no credential ${index} in this issuance`);
  const pk = pending.publicKey;
  const sig = message.signature;
  // A KeyshareP enters the CL check as a free factor: accepted from the issuer, it would let any
  // (A, e, v) pass. Only the holder's own P counts, and only for a distributed credential.
  if (sig.keyshareP !== null && pending.keyshareP === null) {
    throw new IdemixError('ISSUANCE_FAILED', 'issuer sent a KeyshareP for a credential without keyshare server');
  }
  if (!eInRange(sig.e, pk.params)) throw new IdemixError('ISSUANCE_FAILED', 'e out of range');
  if (!verifyProofS(pk, message.proof, sig, state.context, state.nonce2)) {
    throw new IdemixError('ISSUANCE_FAILED', 'issuer proof (ProofS) does not verify');
  }
  const attrs = [state.secretKey, ...attributes];
  for (const [k, mUser] of pending.mUser) {
    const mIssuer = message.mIssuer.get(k);
    if (mIssuer === undefined) throw new IdemixError('ISSUANCE_FAILED', `issuer sent no share for random-blind index ${k}`);
    if (k >= attrs.length || attrs[k] !== 0n) throw new IdemixError('ISSUANCE_FAILED', `random-blind slot ${k} is not empty`);
    attrs[k] = mIssuer + mUser;
  }
  for (const k of message.mIssuer.keys()) {
    if (!pending.mUser.has(k)) throw new IdemixError('ISSUANCE_FAILED', `unexpected issuer share for index ${k}`);
  }
  const signature: CLSignature = { A: sig.A, e: sig.e, v: sig.v + pending.vPrime, keyshareP: pending.keyshareP };
  if (!verifyCLSignature(pk, signature, attrs)) throw new IdemixError('ISSUANCE_FAILED', 'signature does not verify');
  const credential: Credential = { signature, attributes: attrs, keyCounter: pk.counter };
  if (pk.issuerId !== undefined) credential.issuerId = pk.issuerId;
  return credential;
}
