// The client's cryptography, on top of the idemix prover: disclosure proofs (also for
// attribute-based signatures, with the timestamp taken between commitments and responses),
// issuance commitments, and turning the issuer's signatures into credentials.
import { decodeB64, encodeB64 } from '../idemix/bigint.js';
import { encodeAttribute } from '../idemix/attributes.js';
import { IdemixError } from '../idemix/errors.js';
import type { PublicKey } from '../idemix/keys.js';
import { createMetadata } from '../idemix/metadata.js';
import {
  createIssuanceCommitments,
  finishIssuance,
  PreparedDisclosure,
  type Credential,
  type DisclosureChoice,
  type IssuanceState,
} from '../idemix/prover.js';
import { parseIssueSignatureMessage, serializeProof, serializeProofD, type CLSignature, type ProofDJson, type ProofUJson } from '../idemix/proofs.js';
import { signatureNonce } from '../idemix/signature-nonce.js';
import { timestampMessage } from '../idemix/timestamp.js';
import type { CredentialType, SchemeRegistry } from '../scheme/types.js';
import type { DisclosurePlan } from './disclosure-plan.js';
import { ClientError } from './errors.js';
import type { CredentialRequest } from './messages.js';
import type { CredentialStorage, StoredWitness } from './storage.js';
import { acceptIssuedWitness, nonRevWitness } from './revocation.js';
import type { Timestamp } from './timestamp.js';

/** A wallet credential ready for proving. */
export interface HeldCredential {
  type: CredentialType;
  publicKey: PublicKey;
  credential: Credential;
  witness?: StoredWitness;
}

/** One credential to be issued, resolved against the schemes. */
export interface IssuanceTarget {
  request: CredentialRequest;
  type: CredentialType;
  publicKey: PublicKey;
}

/** Loads the credentials a disclosure plan uses, with their issuer public keys. */
export function loadHeldCredentials(plan: DisclosurePlan, storage: CredentialStorage, schemes: SchemeRegistry): Map<string, HeldCredential> {
  const out = new Map<string, HeldCredential>();
  for (const { credentialId } of plan.proofs) {
    const stored = storage.list().find((c) => c.id === credentialId);
    if (!stored) throw new ClientError('requiredAttributeMissing', `no credential ${credentialId} in the wallet`);
    const type = schemes.credentialType(stored.credentialType);
    const publicKey = type && schemes.publicKey(type.issuerId, stored.keyCounter);
    if (!type || !publicKey) {
      throw new ClientError('unknownIdentifier', `no public key ${stored.credentialType}-${stored.keyCounter} for credential ${credentialId}`);
    }
    try {
      const signature: CLSignature = {
        A: decodeB64(stored.signature.A),
        e: decodeB64(stored.signature.e),
        v: decodeB64(stored.signature.v),
        keyshareP: null,
      };
      const attributes = [storage.secretKey, ...stored.attributes.map((a) => decodeB64(a))];
      out.set(credentialId, { type, publicKey, credential: { signature, attributes, keyCounter: stored.keyCounter }, witness: stored.witness });
    } catch (err) {
      throw new ClientError('storage', `stored credential ${credentialId} is corrupt`, { cause: err });
    }
  }
  return out;
}

/** `revocation`: the types the request wants non-revocation proofs for. */
function disclosureChoices(plan: DisclosurePlan, held: Map<string, HeldCredential>, revocation?: ReadonlySet<string>): DisclosureChoice[] {
  return plan.proofs.map((p) => {
    const h = held.get(p.credentialId) as HeldCredential;
    const choice: DisclosureChoice = { credential: h.credential, publicKey: h.publicKey, disclosed: p.disclosed };
    const revIndex = h.type.attributes.find((a) => a.revocation);
    if (revocation?.has(h.type.id) && h.witness && revIndex) {
      choice.nonrev = { index: revIndex.index + 2, witness: nonRevWitness(h.witness, h.publicKey) };
    }
    return choice;
  });
}

export interface DisclosureProving {
  plan: DisclosurePlan;
  held: Map<string, HeldCredential>;
  context: bigint;
  nonce: bigint;
  /** Types to prove non-revocation for. */
  revocation?: ReadonlySet<string>;
  /** For an attribute-based signature: the message, and where to get a timestamp (optional). */
  signature?: { message: string; timestamp?: (T: Buffer) => Promise<Timestamp> };
}

export interface DisclosureProofs {
  proofs: ProofDJson[];
  timestamp: Timestamp | null;
}

/** Disclosure proofs; for a signature bound to N_sig over the message and the timestamp. */
export async function proveDisclosure(p: DisclosureProving): Promise<DisclosureProofs> {
  const prepared = new PreparedDisclosure(disclosureChoices(p.plan, p.held, p.revocation));
  if (!p.signature) return { proofs: prepared.prove(p.context, p.nonce).map(serializeProofD), timestamp: null };
  const { message } = p.signature;
  let timestamp: Timestamp | null = null;
  if (p.signature.timestamp) {
    const T = timestampMessage({
      randomizedA: prepared.randomizedA,
      message,
      disclosed: prepared.disclosed,
      version: 2,
      publicKeys: prepared.publicKeys,
    });
    timestamp = await p.signature.timestamp(T);
  }
  const nonce = signatureNonce(p.nonce, message, timestamp ? Buffer.from(timestamp.Sig.Data, 'base64') : null);
  return { proofs: prepared.prove(p.context, nonce, true).map(serializeProofD), timestamp };
}

/** gabi indices (j + 2) of a credential type's random-blind attributes. */
function randomBlindIndices(type: CredentialType): number[] {
  return type.attributes.filter((a) => a.randomBlind).map((a) => a.index + 2);
}

export interface IssuanceCommitment {
  /** The IssueCommitmentMessage body. */
  message: { n_2: string; combinedProofs: (ProofDJson | ProofUJson)[]; indices?: DisclosurePlan['indices'] };
  state: IssuanceState;
}

export function commitIssuance(p: {
  plan: DisclosurePlan;
  held: Map<string, HeldCredential>;
  secretKey: bigint;
  context: bigint;
  nonce: bigint;
  targets: readonly IssuanceTarget[];
  revocation?: ReadonlySet<string>;
}): IssuanceCommitment {
  const c = createIssuanceCommitments({
    secretKey: p.secretKey,
    credentials: p.targets.map((t) => ({ publicKey: t.publicKey, randomBlindIndices: randomBlindIndices(t.type) })),
    disclosures: disclosureChoices(p.plan, p.held, p.revocation),
    context: p.context,
    nonce: p.nonce,
  });
  const message: IssuanceCommitment['message'] = {
    n_2: encodeB64(c.nonce2),
    combinedProofs: c.proofs.map(serializeProof),
  };
  if (p.plan.indices.length > 0) message.indices = p.plan.indices;
  return { message, state: c.state };
}

/**
 * The attribute list the issuer signs, as the holder recomputes it: metadata (own clock for the
 * issuance date, the request's validity and key counter), then each attribute type in order,
 * random-blind slots left 0 for the jointly generated value.
 */
export function issuanceAttributes(t: IssuanceTarget, issuedAt: number, revocationE = 0n): bigint[] {
  const metadata = createMetadata({
    credentialTypeId: t.type.id,
    keyCounter: t.publicKey.counter,
    issuedAt,
    validUntil: t.request.validity,
  });
  return [
    metadata,
    ...t.type.attributes.map((a) => (a.revocation ? revocationE : a.randomBlind ? 0n : encodeAttribute(t.request.attributes[a.shortId] ?? null))),
  ];
}

/**
 * Checks each IssueSignatureMessage (ProofS, random-blind shares, CL signature on the attributes
 * we expect) and returns the credentials; throws if any of them fails, so none is stored.
 */
export function completeIssuance(
  state: IssuanceState,
  sigs: readonly unknown[],
  targets: readonly IssuanceTarget[],
  issuedAt: number,
): { signature: CLSignature; attributes: bigint[]; witness?: StoredWitness }[] {
  return sigs.map((json, i) => {
    const msg = parseIssueSignatureMessage(json);
    // A keyshare P would take part in the CL check; without a keyshare server it must be absent,
    // or an issuer could make any signature "verify" by choosing P.
    if (msg.signature.keyshareP !== null) throw new IdemixError('ISSUANCE_FAILED', 'unexpected KeyshareP in the signature');
    const t = targets[i];
    // A witness exactly when the request announced a revocable credential (as irmaclient).
    if (!!msg.nonrev !== t.type.revocationSupported) throw new IdemixError('ISSUANCE_FAILED', 'non-revocation witness does not match the request');
    let witness: StoredWitness | undefined;
    if (msg.nonrev) {
      try {
        witness = acceptIssuedWitness(msg.nonrev, t.publicKey);
      } catch (e) {
        throw new IdemixError('ISSUANCE_FAILED', `non-revocation witness: ${(e as Error).message}`);
      }
    }
    const cred = finishIssuance(state, i, msg, issuanceAttributes(t, issuedAt, msg.nonrev?.e ?? 0n));
    return { signature: cred.signature, attributes: cred.attributes.slice(1), ...(witness ? { witness } : {}) };
  });
}
