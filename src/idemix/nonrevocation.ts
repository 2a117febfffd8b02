// The non-revocation proof (gabi revocation/proof.go): knowledge of a witness u with u^e = ν for
// the accumulator ν in a signed accumulator, where e is the credential's hidden revocation
// attribute. It rides inside a ProofD, answers that proof's challenge, and shares the randomizer
// of the revocation attribute, which is what binds the witness to the signed credential.
import { bitLength, decodeB64, encodeB64, randomBelow, randomBits } from './bigint.js';
import { IdemixError } from './errors.js';
import { fields } from './json-object.js';
import type { PublicKey } from './keys.js';
import { powProduct } from './modexp.js';

/** Bits of α̃, the randomizer shared with the revocation attribute's a_response. */
export const NONREV_ALPHA_RANDOMIZER_BITS = 579;
/** α̂ ≤ 2^580 (b·2^{k'+k''}·2), inclusive as in gabi. */
export const NONREV_ALPHA_RESPONSE_BOUND = 1n << 580n;
const ZK_BITS = 384n;

/** A signed accumulator as it travels: the signed CBOR bytes and the issuer key counter. */
export interface SignedAccumulatorRef {
  data: Uint8Array;
  pk: number;
}

export interface NonRevProof {
  Cr: bigint;
  Cu: bigint;
  beta: bigint;
  delta: bigint;
  epsilon: bigint;
  zeta: bigint;
  sacc: SignedAccumulatorRef;
}

/** What the holder brings: a witness valid for ν, and the signed accumulator naming ν. */
export interface NonRevWitness {
  u: bigint;
  e: bigint;
  nu: bigint;
  sacc: SignedAccumulatorRef;
}

function revocationBases(pk: PublicKey): { G: bigint; H: bigint } {
  if (pk.G === undefined || pk.H === undefined) throw new IdemixError('MALFORMED', `public key ${pk.counter} does not support revocation`);
  return { G: pk.G, H: pk.H };
}

/** The prover's commitments; `alphaTilde` must also be the ProofD's randomizer for the revocation attribute. */
export function nonRevCommit(pk: PublicKey, w: NonRevWitness): {
  alphaTilde: bigint;
  contributions: bigint[];
  respond(c: bigint): NonRevProof;
} {
  const { G, H } = revocationBases(pk);
  const n = pk.n;
  const quarter = n / 4n;
  const r2 = randomBelow(quarter);
  const r3 = randomBelow(quarter);
  const alphaTilde = randomBits(NONREV_ALPHA_RANDOMIZER_BITS);
  const betaTilde = randomBelow(quarter << BigInt(NONREV_ALPHA_RANDOMIZER_BITS));
  const deltaTilde = randomBelow(quarter << BigInt(NONREV_ALPHA_RANDOMIZER_BITS));
  const epsilonTilde = randomBelow(quarter << ZK_BITS);
  const zetaTilde = randomBelow(quarter << ZK_BITS);
  const Cr = powProduct(n, [[G, r2], [H, r3]]);
  const Cu = (w.u * powProduct(n, [[H, r2]])) % n;
  const t1 = powProduct(n, [[G, epsilonTilde], [H, zetaTilde]]);
  const t2 = powProduct(n, [[Cu, alphaTilde], [H, -betaTilde]]);
  const t3 = powProduct(n, [[Cr, alphaTilde], [G, -betaTilde], [H, -deltaTilde]]);
  const alpha = w.e;
  return {
    alphaTilde,
    contributions: [Cr, Cu, w.nu, t1, t2, t3],
    respond: (c) => ({
      Cr,
      Cu,
      beta: betaTilde + c * alpha * r2,
      delta: deltaTilde + c * alpha * r3,
      epsilon: epsilonTilde + c * r2,
      zeta: zetaTilde + c * r3,
      sacc: w.sacc,
    }),
  };
}

/**
 * The six contributions the verifier recomputes, with α̂ the ProofD's response for the
 * revocation attribute and ν from the (already verified) signed accumulator.
 */
export function nonRevContributions(pk: PublicKey, p: NonRevProof, c: bigint, alphaResponse: bigint, nu: bigint): bigint[] {
  const { G, H } = revocationBases(pk);
  const n = pk.n;
  if (alphaResponse < 0n || alphaResponse > NONREV_ALPHA_RESPONSE_BOUND) {
    throw new IdemixError('INVALID_PROOF', 'non-revocation alpha response out of range');
  }
  for (const [name, x] of [['C_r', p.Cr], ['C_u', p.Cu]] as const) {
    if (x <= 0n || x >= n) throw new IdemixError('INVALID_PROOF', `non-revocation ${name} out of range`);
  }
  // Bounds beyond gabi's, generous for honest responses, to keep hostile exponents small.
  const limit = bitLength(n) + NONREV_ALPHA_RANDOMIZER_BITS + 300;
  for (const [name, x] of [['beta', p.beta], ['delta', p.delta], ['epsilon', p.epsilon], ['zeta', p.zeta]] as const) {
    if (x < 0n || bitLength(x) > limit) throw new IdemixError('INVALID_PROOF', `non-revocation ${name} response out of range`);
  }
  return [
    p.Cr,
    p.Cu,
    nu,
    powProduct(n, [[p.Cr, -c], [G, p.epsilon], [H, p.zeta]]),
    powProduct(n, [[nu, -c], [p.Cu, alphaResponse], [H, -p.beta]]),
    powProduct(n, [[p.Cr, alphaResponse], [G, -p.beta], [H, -p.delta]]),
  ];
}

export interface NonRevProofJson {
  C_r: string;
  C_u: string;
  responses: { beta: string; delta: string; epsilon: string; zeta: string };
  sacc: { data: string; pk: number };
}

export function serializeNonRevProof(p: NonRevProof): NonRevProofJson {
  return {
    C_r: encodeB64(p.Cr),
    C_u: encodeB64(p.Cu),
    responses: { beta: encodeB64(p.beta), delta: encodeB64(p.delta), epsilon: encodeB64(p.epsilon), zeta: encodeB64(p.zeta) },
    sacc: { data: Buffer.from(p.sacc.data).toString('base64'), pk: p.sacc.pk },
  };
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** A signed accumulator is a few hundred bytes; anything much larger is not one. */
const MAX_SACC_CHARS = 4096;

export function parseSignedAccumulatorRef(v: unknown, what: string): SignedAccumulatorRef {
  const f = fields(v, what);
  const data = f.get('data');
  if (typeof data !== 'string' || !B64.test(data) || data.length > MAX_SACC_CHARS) {
    throw new IdemixError('MALFORMED', `${what}.data must be base64`);
  }
  const pk = f.get('pk') ?? 0;
  if (typeof pk !== 'number' || !Number.isSafeInteger(pk) || pk < 0) throw new IdemixError('MALFORMED', `${what}.pk must be an unsigned integer`);
  return { data: Buffer.from(data, 'base64'), pk };
}

export function parseNonRevProof(v: unknown): NonRevProof {
  const f = fields(v, 'nonrev_proof');
  const r = f.get('responses');
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new IdemixError('MALFORMED', 'nonrev_proof lacks responses');
  const resp = r as Record<string, unknown>;
  const need = (name: string): bigint => {
    if (resp[name] === undefined || resp[name] === null) throw new IdemixError('MALFORMED', `nonrev_proof lacks response ${name}`);
    return decodeB64(resp[name], `nonrev_proof.responses.${name}`);
  };
  const int = (name: string): bigint => {
    const x = f.get(name.toLowerCase());
    if (x === undefined || x === null) throw new IdemixError('MALFORMED', `nonrev_proof lacks ${name}`);
    return decodeB64(x, `nonrev_proof.${name}`);
  };
  return {
    Cr: int('C_r'),
    Cu: int('C_u'),
    beta: need('beta'),
    delta: need('delta'),
    epsilon: need('epsilon'),
    zeta: need('zeta'),
    sacc: parseSignedAccumulatorRef(f.get('sacc'), 'nonrev_proof.sacc'),
  };
}
