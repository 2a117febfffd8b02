// Keyshare proofs (ProofP) of distributed schemes: the keyshare server's part of the secret key,
// merged into the holder's ProofU/ProofD before the issuer verifies the list. Checking the JWT
// that carries a ProofP is the caller's job; this is the arithmetic after it.
import { decodeB64 } from './bigint.js';
import { IdemixError } from './errors.js';
import { fields, present } from './json-object.js';
import type { PublicKey } from './keys.js';
import { isGroupElement } from './signature.js';
import type { Proof } from './proofs.js';

export interface ProofP {
  /** R_0^{x_kss}; only sent by the legacy keyshare protocol. */
  P: bigint | null;
  c: bigint;
  sResponse: bigint;
}

/** The "ProofP" claim of a keyshare JWT. */
export function parseProofP(json: unknown): ProofP {
  const f = fields(json, 'ProofP');
  if (!present(f, 'c') || !present(f, 's_response')) throw new IdemixError('MALFORMED', 'ProofP lacks c or s_response');
  return {
    P: present(f, 'P') ? decodeB64(f.get('p'), 'ProofP.P') : null,
    c: decodeB64(f.get('c'), 'ProofP.c'),
    sResponse: decodeB64(f.get('s_response'), 'ProofP.s_response'),
  };
}

/**
 * Current protocol (no P): the keyshare server answered the challenge for the whole secret, so
 * its c and response replace the holder's. Legacy (with P): P joins U and the responses add up.
 */
export function mergeProofP(proof: Proof, pp: ProofP, pk: PublicKey): Proof {
  if (pp.P === null) {
    if (proof.kind === 'ProofU') return { ...proof, c: pp.c, sResponse: pp.sResponse };
    return { ...proof, c: pp.c, aResponses: new Map(proof.aResponses).set(0, pp.sResponse) };
  }
  if (!isGroupElement(pp.P, pk.n)) throw new IdemixError('INVALID_PROOF', 'keyshare P is not an invertible element of Z_n');
  if (proof.kind === 'ProofU') {
    return { ...proof, U: (proof.U * pp.P) % pk.n, sResponse: proof.sResponse + pp.sResponse };
  }
  const s = proof.aResponses.get(0);
  if (s === undefined) throw new IdemixError('INVALID_PROOF', 'ProofD does not hide the secret key (index 0)');
  return { ...proof, aResponses: new Map(proof.aResponses).set(0, s + pp.sResponse) };
}
