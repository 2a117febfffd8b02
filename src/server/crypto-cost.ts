// What a crypto job will cost, estimated from its size before it runs, so the pool can refuse
// jobs no honest app sends and keep big ones out of the way of ordinary sessions.
//
// The unit is about one millisecond of one core: verifying one disclosure proof on a 1024-bit key
// takes ~1 ms, issuing one credential (ProofU check, CL signature, ProofS) ~10 ms. Costs grow with
// the number of attribute terms and with the key size (base64 length of A or U), and the estimate
// errs high for big keys rather than low.
import type { CheckKind } from './proof-worker-wire.js';
import type { VerificationInput } from './proof-port.js';

/** Work that does not depend on the proofs: parsing, hashing the challenge, matching. */
const BASE = 0.2;
const PER_PROOF = 0.5;
const PER_ATTRIBUTE_TERM = 0.1;
const PER_CREDENTIAL_ISSUED = 8;
const PER_ATTRIBUTE_ISSUED = 0.5;

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A member by name as the reference's decoder finds it: exact match first, then any case. */
function member(o: Obj, name: string): unknown {
  if (Object.hasOwn(o, name)) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

const count = (v: unknown): number => (isObject(v) ? Object.keys(v).length : Array.isArray(v) ? v.length : 0);

/** (modulus bits / 1024)^1.5 from a proof's A or U; 1 when it has neither. */
function keyScale(proof: Obj): number {
  const big = member(proof, 'A') ?? member(proof, 'U');
  const bits = typeof big === 'string' ? big.length * 6 : 1024;
  return Math.max(1, bits / 1024) ** 1.5;
}

function proofListOf(kind: CheckKind, message: Obj): unknown[] {
  const list = member(message, kind === 'disclosure' ? 'proofs' : kind === 'signature' ? 'signature' : 'combinedProofs');
  return Array.isArray(list) ? list : [];
}

export function jobCost(kind: CheckKind, input: VerificationInput): number {
  let cost = BASE;
  const message = isObject(input.message) ? input.message : {};
  const proofs = proofListOf(kind, message).filter(isObject);
  for (const p of proofs) {
    const terms = count(member(p, 'a_responses')) + count(member(p, 'a_disclosed'));
    cost += (PER_PROOF + PER_ATTRIBUTE_TERM * terms) * keyScale(p);
  }
  if (kind === 'issuance') {
    const credentials = member(input.request, 'credentials');
    const list = Array.isArray(credentials) ? credentials : [];
    // The commitments to the new credentials come last, one per credential, in request order.
    const commitments = proofs.slice(Math.max(0, proofs.length - list.length));
    list.forEach((c, i) => {
      const attributes = isObject(c) ? count(member(c, 'attributes')) : 0;
      const scale = commitments[i] ? keyScale(commitments[i]) : 1;
      cost += (PER_CREDENTIAL_ISSUED + PER_ATTRIBUTE_ISSUED * attributes) * scale;
    });
  }
  return cost;
}
