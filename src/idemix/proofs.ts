// The JSON shapes gabi puts on the wire for proofs and signatures, with strict parsing (every
// big integer checked, index maps checked, unsupported extensions refused) and serialisation
// in gabi's field names.
import { decodeB64, encodeB64 } from './bigint.js';
import { IdemixError } from './errors.js';
import { fields, present } from './json-object.js';
import {
  parseNonRevProof,
  parseSignedAccumulatorRef,
  serializeNonRevProof,
  type NonRevProof,
  type NonRevProofJson,
  type SignedAccumulatorRef,
} from './nonrevocation.js';

/** Attribute index (gabi numbering: 0 secret, 1 metadata, j+2 attribute type j) → value. */
export type IndexedValues = Map<number, bigint>;

export interface ProofD {
  kind: 'ProofD';
  c: bigint;
  A: bigint;
  eResponse: bigint;
  vResponse: bigint;
  aResponses: IndexedValues;
  aDisclosed: IndexedValues;
  /** Non-revocation proof bound to this proof's challenge and revocation attribute. */
  nonrev?: NonRevProof;
}

export interface ProofU {
  kind: 'ProofU';
  U: bigint;
  c: bigint;
  vPrimeResponse: bigint;
  sResponse: bigint;
  mUserResponses: IndexedValues;
}

export type Proof = ProofD | ProofU;

export interface ProofS {
  c: bigint;
  eResponse: bigint;
}

export interface CLSignature {
  A: bigint;
  e: bigint;
  v: bigint;
  /** R_0^{x_kss} of a keyshare server; null without one. */
  keyshareP: bigint | null;
}

/** The issuer's non-revocation witness for a fresh credential: u^e = ν of sacc. */
export interface IssuedWitness {
  u: bigint;
  e: bigint;
  sacc: SignedAccumulatorRef;
}

export interface IssueSignatureMessage {
  proof: ProofS;
  signature: CLSignature;
  mIssuer: IndexedValues;
  nonrev?: IssuedWitness;
}

/** Go's zero time.Time, which the issuer leaves in the witness's Updated. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Attribute indices beyond this cannot belong to any key we load (keys have tens of bases). */
const MAX_INDEX = 0xffff;

function int(f: Map<string, unknown>, name: string, what: string): bigint {
  const v = f.get(name.toLowerCase());
  if (v === undefined || v === null) throw new IdemixError('MALFORMED', `${what} lacks ${name}`);
  return decodeB64(v, `${what}.${name}`);
}

function indexed(f: Map<string, unknown>, name: string, what: string, required: boolean): IndexedValues {
  const v = f.get(name.toLowerCase());
  const out: IndexedValues = new Map();
  if (v === undefined || v === null) {
    if (required) throw new IdemixError('MALFORMED', `${what} lacks ${name}`);
    return out;
  }
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new IdemixError('MALFORMED', `${what}.${name} must be an object`);
  }
  const keys = Object.keys(v).sort((a, b) => Number(a) - Number(b));
  for (const k of keys) {
    if (!/^(0|[1-9][0-9]{0,4})$/.test(k) || Number(k) > MAX_INDEX) {
      throw new IdemixError('MALFORMED', `${what}.${name} has a bad index "${k}"`);
    }
    out.set(Number(k), decodeB64((v as Record<string, unknown>)[k], `${what}.${name}[${k}]`));
  }
  return out;
}

function emptyish(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  return typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
}

export function parseProofD(json: unknown): ProofD {
  const f = fields(json, 'ProofD');
  // Range proofs change the challenge; verifying without them would be unsound.
  if (!emptyish(f.get('rangeproofs'))) {
    throw new IdemixError('MALFORMED', 'ProofD with rangeproofs is not supported');
  }
  const proof: ProofD = {
    kind: 'ProofD',
    c: int(f, 'c', 'ProofD'),
    A: int(f, 'A', 'ProofD'),
    eResponse: int(f, 'e_response', 'ProofD'),
    vResponse: int(f, 'v_response', 'ProofD'),
    aResponses: indexed(f, 'a_responses', 'ProofD', true),
    aDisclosed: indexed(f, 'a_disclosed', 'ProofD', true),
  };
  if (present(f, 'nonrev_proof')) proof.nonrev = parseNonRevProof(f.get('nonrev_proof'));
  return proof;
}

export function parseProofU(json: unknown): ProofU {
  const f = fields(json, 'ProofU');
  return {
    kind: 'ProofU',
    U: int(f, 'U', 'ProofU'),
    c: int(f, 'c', 'ProofU'),
    vPrimeResponse: int(f, 'v_prime_response', 'ProofU'),
    sResponse: int(f, 's_response', 'ProofU'),
    mUserResponses: indexed(f, 'm_user_responses', 'ProofU', false),
  };
}

/** gabi's rule for a list element: a non-null "A" makes a ProofD, else a non-null "U" a ProofU. */
export function parseProof(json: unknown): Proof {
  const f = fields(json, 'proof');
  if (present(f, 'A')) return parseProofD(json);
  if (present(f, 'U')) return parseProofU(json);
  throw new IdemixError('MALFORMED', 'unknown proof type (neither A nor U present)');
}

/**
 * Proof lists decoded before, by their JSON array. The server decodes an app's proofs once to
 * validate the message and again to check them; on the same thread, with the same parsed
 * message, the second time is a lookup. Nothing changes a parsed message or a decoded proof.
 */
const decodedLists = new WeakMap<unknown[], readonly Proof[]>();

export function parseProofList(json: unknown): Proof[] {
  if (!Array.isArray(json)) throw new IdemixError('MALFORMED', 'proof list must be an array');
  const hit = decodedLists.get(json);
  if (hit !== undefined && hit.length === json.length) return [...hit];
  const list = json.map(parseProof);
  decodedLists.set(json, list);
  return [...list];
}

export function parseProofDList(json: unknown): ProofD[] {
  if (!Array.isArray(json)) throw new IdemixError('MALFORMED', 'proof list must be an array');
  const hit = decodedLists.get(json);
  if (hit !== undefined && hit.length === json.length && hit.every((p) => p.kind === 'ProofD')) return hit.slice() as ProofD[];
  return json.map(parseProofD);
}

export function parseProofS(json: unknown): ProofS {
  const f = fields(json, 'ProofS');
  return { c: int(f, 'c', 'ProofS'), eResponse: int(f, 'e_response', 'ProofS') };
}

export function parseCLSignature(json: unknown): CLSignature {
  const f = fields(json, 'signature');
  return {
    A: int(f, 'A', 'signature'),
    e: int(f, 'e', 'signature'),
    v: int(f, 'v', 'signature'),
    keyshareP: present(f, 'KeyshareP') ? int(f, 'KeyshareP', 'signature') : null,
  };
}

export function parseIssueSignatureMessage(json: unknown): IssueSignatureMessage {
  const f = fields(json, 'IssueSignatureMessage');
  const out: IssueSignatureMessage = {
    proof: parseProofS(f.get('proof')),
    signature: parseCLSignature(f.get('signature')),
    mIssuer: indexed(f, 'm_issuer', 'IssueSignatureMessage', false),
  };
  if (present(f, 'nonrev')) {
    const w = fields(f.get('nonrev'), 'nonrev');
    out.nonrev = { u: int(w, 'u', 'nonrev'), e: int(w, 'e', 'nonrev'), sacc: parseSignedAccumulatorRef(w.get('sacc'), 'nonrev.sacc') };
  }
  return out;
}

function indexedJson(m: IndexedValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of [...m].sort((a, b) => a[0] - b[0])) out[String(k)] = encodeB64(v);
  return out;
}

export interface ProofDJson {
  c: string;
  A: string;
  e_response: string;
  v_response: string;
  a_responses: Record<string, string>;
  a_disclosed: Record<string, string>;
  nonrev_proof?: NonRevProofJson;
}

export interface ProofUJson {
  U: string;
  c: string;
  v_prime_response: string;
  s_response: string;
  m_user_responses?: Record<string, string>;
}

export function serializeProofD(p: ProofD): ProofDJson {
  const out: ProofDJson = {
    c: encodeB64(p.c),
    A: encodeB64(p.A),
    e_response: encodeB64(p.eResponse),
    v_response: encodeB64(p.vResponse),
    a_responses: indexedJson(p.aResponses),
    a_disclosed: indexedJson(p.aDisclosed),
  };
  if (p.nonrev) out.nonrev_proof = serializeNonRevProof(p.nonrev);
  return out;
}

export function serializeProofU(p: ProofU): ProofUJson {
  const out: ProofUJson = {
    U: encodeB64(p.U),
    c: encodeB64(p.c),
    v_prime_response: encodeB64(p.vPrimeResponse),
    s_response: encodeB64(p.sResponse),
  };
  if (p.mUserResponses.size > 0) out.m_user_responses = indexedJson(p.mUserResponses);
  return out;
}

export function serializeProof(p: Proof): ProofDJson | ProofUJson {
  return p.kind === 'ProofD' ? serializeProofD(p) : serializeProofU(p);
}

export function serializeProofS(p: ProofS): { c: string; e_response: string } {
  return { c: encodeB64(p.c), e_response: encodeB64(p.eResponse) };
}

export function serializeCLSignature(s: CLSignature): { A: string; e: string; v: string; KeyshareP: string | null } {
  return {
    A: encodeB64(s.A),
    e: encodeB64(s.e),
    v: encodeB64(s.v),
    KeyshareP: s.keyshareP === null ? null : encodeB64(s.keyshareP),
  };
}

export interface IssueSignatureMessageJson {
  proof: { c: string; e_response: string };
  signature: { A: string; e: string; v: string; KeyshareP: string | null };
  m_issuer?: Record<string, string>;
  nonrev?: { u: string; e: string; sacc: { data: string; pk: number }; Updated: string };
}

export function serializeIssueSignatureMessage(m: IssueSignatureMessage): IssueSignatureMessageJson {
  const out: IssueSignatureMessageJson = {
    proof: serializeProofS(m.proof),
    signature: serializeCLSignature(m.signature),
  };
  if (m.nonrev) {
    out.nonrev = {
      u: encodeB64(m.nonrev.u),
      e: encodeB64(m.nonrev.e),
      sacc: { data: Buffer.from(m.nonrev.sacc.data).toString('base64'), pk: m.nonrev.sacc.pk },
      Updated: GO_ZERO_TIME,
    };
  }
  if (m.mIssuer.size > 0) out.m_issuer = indexedJson(m.mIssuer);
  return out;
}
