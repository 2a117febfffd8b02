// The verifier's side of disclosure and attribute-based signatures: resolve keys from the
// proofs' metadata, verify the list, hand back what each proof discloses.
import { IdemixError } from './errors.js';
import type { PublicKey } from './keys.js';
import { parseMetadata, type Metadata } from './metadata.js';
import { verifyProofList, type AccumulatorOpener } from './proof-list.js';
import type { IndexedValues, ProofD } from './proofs.js';

export interface DisclosedCredential {
  metadata: Metadata;
  /** Raw disclosed values by gabi index (1 = metadata). */
  disclosed: IndexedValues;
}

/** The metadata a ProofD discloses at index 1, which names its credential type and key. */
export function proofMetadata(proof: ProofD): Metadata {
  const m = proof.aDisclosed.get(1);
  if (m === undefined) throw new IdemixError('INVALID_PROOF', 'ProofD does not disclose its metadata attribute');
  return parseMetadata(m);
}

/**
 * Looks up every proof's public key from its metadata; `lookup` returns undefined for an
 * unknown credential type hash or key counter, which becomes UNKNOWN_PUBLIC_KEY.
 */
export function resolvePublicKeys(
  proofs: readonly ProofD[],
  lookup: (metadata: Metadata) => PublicKey | undefined,
): PublicKey[] {
  return proofs.map((p, i) => {
    const meta = proofMetadata(p);
    const pk = lookup(meta);
    if (pk === undefined) {
      throw new IdemixError(
        'UNKNOWN_PUBLIC_KEY',
        `proof ${i}: no public key for credential type ${meta.credentialTypeHashHex} counter ${meta.keyCounter}`,
      );
    }
    return pk;
  });
}

export interface DisclosureVerification {
  proofs: readonly ProofD[];
  publicKeys: readonly PublicKey[];
  /** Defaults as in a request without them: context 1, nonce 0. */
  context?: bigint;
  nonce?: bigint;
  /** true for attribute-based signatures, where nonce must be N_sig. */
  sig?: boolean;
  /** Keyshare group per proof ('.' for every proof by default). */
  groups?: readonly string[];
  /** gabi index of each proof's revocation attribute (undefined where its type has none). */
  revocationIndices?: readonly (number | undefined)[];
  /** Needed to check any non-revocation proof present. */
  openAccumulator?: AccumulatorOpener;
}

/** Verifies a ProofD list; throws INVALID_PROOF unless every proof checks out. */
export function verifyDisclosureProofs(v: DisclosureVerification): DisclosedCredential[] {
  if (v.proofs.length !== v.publicKeys.length) {
    throw new IdemixError('MALFORMED', 'need exactly one public key per proof');
  }
  if (v.groups !== undefined && v.groups.length !== v.proofs.length) {
    throw new IdemixError('MALFORMED', 'need exactly one group per proof');
  }
  verifyProofList(
    v.proofs.map((proof, i) => ({ proof, publicKey: v.publicKeys[i], group: v.groups?.[i], revocationIndex: v.revocationIndices?.[i] })),
    v.context ?? 1n,
    v.nonce ?? 0n,
    v.sig ?? false,
    v.openAccumulator,
  );
  return v.proofs.map((p) => ({ metadata: proofMetadata(p), disclosed: new Map(p.aDisclosed) }));
}
