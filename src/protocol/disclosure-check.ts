// Matching cryptographically verified disclosure proofs against the request's condiscon, as the
// reference's VerifyAgainstRequest does after the proof list itself checked out (crypto spec
// §6.3 steps 3–6, protocol spec §7.7). Pure: the caller decodes the disclosed attributes.
//
// How the reference matches, and so how we do:
// * indices[i] answers disjunction i. The options of a disjunction are tried in order; an option
//   with n attribute requests is checked against the first n entries of indices[i], pairwise:
//   same identifier, the required value if any, non-null if notNull. Entries beyond n are neither
//   checked nor reported. The empty option matches only when indices[i] is empty.
// * Attributes of one option may come from different proofs, even of one credential type: the
//   reference does not tie an inner conjunction to one credential instance.
// * Fewer index lists than disjunctions: nothing is matched, only EXTRA attributes are reported.
// * Disclosed attributes that no index list (of a requested disjunction) names are EXTRA.
import type { SchemeRegistry } from '../scheme/types.js';
import type { AttributeConDisCon, AttributeRequest } from './condiscon.js';
import { ProtocolError } from './errors.js';
import type { DisclosedAttributeIndex } from './proof-messages.js';
import { translatedValue, type DisclosedAttribute, type DisclosedAttributes, type ProofStatus } from './results.js';

/** What the verifier learnt from one (already verified) disclosure proof. */
export interface VerifiedProof {
  credentialTypeId: string;
  /** Signing date from the metadata attribute (Unix s). */
  issuedAt: number;
  /** Expiry from the metadata attribute (Unix s). */
  expiry: number;
  /** The credential was signed after its issuer public key expired. */
  keyExpired?: boolean;
  /** Disclosed attributes by gabi index (≥ 2), decoded; null for a null attribute. Index 1 (metadata) is implied. */
  attributes: ReadonlyMap<number, string | null>;
  /** The proof carried a non-revocation proof. */
  notRevoked?: boolean;
  /** Unix s: the accumulator was older than the tolerance allows. */
  notRevokedBefore?: number;
}

export interface DisclosureCheckInput {
  /** The request's condiscon, with the chained session's implicit disclosure appended. */
  condiscon: AttributeConDisCon;
  indices: DisclosedAttributeIndex[][];
  proofs: VerifiedProof[];
  schemes: Pick<SchemeRegistry, 'credentialType'>;
  /** Unix s: now, or the timestamp's time for signatures. */
  now: number;
  skipExpiryCheck?: readonly string[];
  /** Credential types for which the request demands non-revocation proofs. */
  revocation?: readonly string[];
}

export interface DisclosureCheckResult {
  proofStatus: ProofStatus;
  /** Absent when the proof list was rejected as a whole (INVALID). */
  disclosed?: DisclosedAttributes;
}

const METADATA_INDEX = 1;

function extract(input: DisclosureCheckInput, index: DisclosedAttributeIndex): DisclosedAttribute {
  const proof = input.proofs[index.cred];
  if (proof === undefined) throw new ProtocolError('EXCEPTION', 'Credential index out of range');
  const type = input.schemes.credentialType(proof.credentialTypeId);
  if (!type) throw new ProtocolError('UNKNOWN_PUBLIC_KEY', 'ProofList contained a disclosure proof of an unknown credential type');
  let id: string;
  let raw: string | null;
  if (index.attr === METADATA_INDEX) {
    id = type.id;
    raw = 'present';
  } else {
    const attrType = type.attributes[index.attr - 2];
    const value = proof.attributes.get(index.attr);
    if (!attrType || value === undefined) throw new ProtocolError('EXCEPTION', 'Attribute index out of range');
    id = attrType.id;
    raw = value;
  }
  const out: DisclosedAttribute = {
    rawvalue: raw,
    value: translatedValue(raw),
    id,
    status: raw === null ? 'NULL' : 'PRESENT',
    issuancetime: proof.issuedAt,
  };
  if (proof.notRevoked) out.notrevoked = true;
  if (proof.notRevokedBefore !== undefined) out.notrevokedbefore = proof.notRevokedBefore;
  return out;
}

function satisfies(request: AttributeRequest, attr: DisclosedAttribute): boolean {
  return (
    request.type === attr.id &&
    (!request.notNull || attr.rawvalue !== null) &&
    (request.value === undefined || attr.rawvalue === request.value)
  );
}

/** The attributes answering one disjunction, or null when none of its options is met. */
function matchDisjunction(input: DisclosureCheckInput, options: AttributeRequest[][], indices: DisclosedAttributeIndex[]) {
  for (const option of options) {
    if (indices.length < option.length) continue;
    if (option.length === 0) {
      if (indices.length === 0) return [];
      continue;
    }
    const attrs: DisclosedAttribute[] = [];
    let ok = true;
    for (let j = 0; j < option.length && ok; j++) {
      const attr = extract(input, indices[j]);
      ok = satisfies(option[j], attr);
      attrs.push(attr);
    }
    if (ok) return attrs;
  }
  return null;
}

function extraAttributes(input: DisclosureCheckInput): DisclosedAttribute[] {
  const named = new Set<string>();
  input.indices.forEach((list, i) => {
    if (i < input.condiscon.length) for (const ix of list) named.add(`${ix.cred}:${ix.attr}`);
  });
  const extra: DisclosedAttribute[] = [];
  input.proofs.forEach((proof, cred) => {
    const attrs = [...proof.attributes.keys()].filter((a) => a > METADATA_INDEX).sort((a, b) => a - b);
    for (const attr of attrs) {
      if (named.has(`${cred}:${attr}`)) continue;
      extra.push({ ...extract(input, { cred, attr }), status: 'EXTRA' });
    }
  });
  return extra;
}

function checkIndices(input: DisclosureCheckInput): void {
  for (const list of input.indices) {
    for (const { cred, attr } of list) {
      const proof = input.proofs[cred];
      if (!Number.isInteger(cred) || proof === undefined) throw new ProtocolError('EXCEPTION', 'Credential index out of range');
      if (attr !== METADATA_INDEX && !proof.attributes.has(attr)) {
        throw new ProtocolError('EXCEPTION', 'Attribute index out of range');
      }
    }
  }
}

/**
 * The proof status and `disclosed` of a verified proof list against the condiscon. Malformed
 * indices -> EXCEPTION, a proof of an unknown credential type -> UNKNOWN_PUBLIC_KEY (both
 * ProtocolErrors that cancel the session, as in the reference).
 */
export function checkDisclosure(input: DisclosureCheckInput): DisclosureCheckResult {
  // A singleton credential twice, or a missing demanded non-revocation proof, voids the list.
  const singletons = new Set<string>();
  for (const proof of input.proofs) {
    const type = input.schemes.credentialType(proof.credentialTypeId);
    if (!type) throw new ProtocolError('UNKNOWN_PUBLIC_KEY', 'Received unknown credential type');
    if (type.singleton) {
      if (singletons.has(type.id)) return { proofStatus: 'INVALID' };
      singletons.add(type.id);
    }
    if (!proof.notRevoked && input.revocation?.includes(type.id)) return { proofStatus: 'INVALID' };
  }

  checkIndices(input);
  let complete = input.indices.length >= input.condiscon.length;
  let disclosed: DisclosedAttributes = [];
  if (complete) {
    disclosed = input.condiscon.map((options, i) => matchDisjunction(input, options, input.indices[i]));
    complete = disclosed.every((l) => l !== null);
  }
  const extra = extraAttributes(input);
  if (extra.length > 0) disclosed.push(extra);

  if (!complete) return { proofStatus: 'MISSING_ATTRIBUTES', disclosed };
  for (const proof of input.proofs) {
    const skip = input.skipExpiryCheck?.includes(proof.credentialTypeId) ?? false;
    if ((!skip && proof.expiry < input.now) || proof.keyExpired) return { proofStatus: 'EXPIRED', disclosed };
  }
  return { proofStatus: 'VALID', disclosed };
}
