// Strict parsing and gabi-shaped serialisation of proofs and issuer messages.
import { describe, expect, it } from 'vitest';
import { IdemixError } from '../../src/idemix/errors.js';
import {
  parseCLSignature,
  parseIssueSignatureMessage,
  parseProof,
  parseProofD,
  parseProofList,
  parseProofU,
  serializeIssueSignatureMessage,
  serializeProofD,
  serializeProofU,
} from '../../src/idemix/proofs.js';
import { parseSignedMessage } from '../../src/idemix/signed-message.js';
import { post, session } from './proof-fixtures.js';

const proofD = post(session('disclose-two-attrs'), '/proofs').requestBody.proofs[0];
const proofU = post(session('issue-stempas-2048'), '/commitments').requestBody.combinedProofs[0];
const sigMsg = post(session('issue-stempas-2048'), '/commitments').responseBody.sigs[0];

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof IdemixError) return e.code;
    throw e;
  }
  return undefined;
}

describe('proof JSON', () => {
  it('round-trips recorded proofs exactly, with gabi field names', () => {
    expect(serializeProofD(parseProofD(proofD))).toEqual(proofD);
    expect(serializeProofU(parseProofU(proofU))).toEqual(proofU);
    expect(Object.keys(serializeProofD(parseProofD(proofD)))).toEqual(['c', 'A', 'e_response', 'v_response', 'a_responses', 'a_disclosed']);
    expect(serializeIssueSignatureMessage(parseIssueSignatureMessage(sigMsg))).toEqual(sigMsg);
  });

  it('omits empty m_user_responses and m_issuer, keeps KeyshareP null', () => {
    const u = post(session('issue-fullName'), '/commitments');
    expect('m_user_responses' in serializeProofU(parseProofU(u.requestBody.combinedProofs[0]))).toBe(false);
    const s = serializeIssueSignatureMessage(parseIssueSignatureMessage(u.responseBody.sigs[0]));
    expect('m_issuer' in s).toBe(false);
    expect(s.signature.KeyshareP).toBeNull();
  });

  it('detects the proof type as gabi does and matches field names case-insensitively', () => {
    expect(parseProof(proofD).kind).toBe('ProofD');
    expect(parseProof(proofU).kind).toBe('ProofU');
    expect(parseProof({ ...proofU, A: null }).kind).toBe('ProofU');
    const lower = Object.fromEntries(Object.entries(proofU).map(([k, v]) => [k.toLowerCase(), v]));
    expect(parseProof(lower).kind).toBe('ProofU');
    expect(code(() => parseProof({ c: 'AQ==' }))).toBe('MALFORMED');
    expect(parseProofList([proofD, proofU]).map((p) => p.kind)).toEqual(['ProofD', 'ProofU']);
  });

  it('accepts the decimal-number fallback and null for absent optional maps', () => {
    const p = parseProofD({ ...proofD, c: 42 });
    expect(p.c).toBe(42n);
    expect(parseProofU({ ...proofU, m_user_responses: null }).mUserResponses.size).toBe(0);
    expect(parseProofD({ ...proofD, nonrev_proof: null, rangeproofs: {} }).A).toBeGreaterThan(0n);
  });

  it('rejects hostile input with MALFORMED', () => {
    const bad: unknown[] = [
      null,
      [],
      'proof',
      { ...proofD, c: -1 },
      { ...proofD, c: 1.5 },
      { ...proofD, c: '!!' },
      { ...proofD, c: 'AQ' },
      { ...proofD, c: true },
      { ...proofD, c: { x: 1 } },
      { ...proofD, e_response: undefined },
      { ...proofD, v_response: null },
      { ...proofD, a_responses: undefined },
      { ...proofD, a_disclosed: [] },
      { ...proofD, a_disclosed: { ...proofD.a_disclosed, '-1': 'AQ==' } },
      { ...proofD, a_disclosed: { ...proofD.a_disclosed, '01': 'AQ==' } },
      { ...proofD, a_disclosed: { ...proofD.a_disclosed, x: 'AQ==' } },
      { ...proofD, a_disclosed: { ...proofD.a_disclosed, '99999999': 'AQ==' } },
      { ...proofD, a_responses: { ...proofD.a_responses, '7': -3 } },
      { ...proofD, nonrev_proof: { C_r: 'AQ==' } },
      { ...proofD, rangeproofs: { '2': [] } },
      { ...proofD, a: proofD.A },
    ];
    for (const b of bad) expect(code(() => parseProofD(b))).toBe('MALFORMED');
    expect(code(() => parseProofU({ ...proofU, U: -5 }))).toBe('MALFORMED');
    expect(code(() => parseProofU({ ...proofU, m_user_responses: { '3': 'A' } }))).toBe('MALFORMED');
    expect(code(() => parseProofList({}))).toBe('MALFORMED');
    expect(code(() => parseCLSignature({ A: 'AQ==', e: 'AQ==' }))).toBe('MALFORMED');
    expect(code(() => parseIssueSignatureMessage({ ...sigMsg, nonrev: { u: 'AQ==' } }))).toBe('MALFORMED');
    expect(code(() => parseIssueSignatureMessage({ ...sigMsg, proof: null }))).toBe('MALFORMED');
  });

  it('rejects malformed SignedMessages with MALFORMED', () => {
    const sm = post(session('sign-familyname'), '/proofs').requestBody;
    expect(parseSignedMessage(sm).version).toBe(2);
    const { ['@context']: _, ...v1 } = sm;
    expect(parseSignedMessage(v1).version).toBe(1);
    for (const b of [
      { ...sm, message: 5 },
      { ...sm, signature: 'x' },
      { ...sm, timestamp: { ...sm.timestamp, Time: -1 } },
      { ...sm, timestamp: { ...sm.timestamp, Time: '1' } },
      { ...sm, timestamp: { ...sm.timestamp, Sig: { ...sm.timestamp.Sig, Data: '%%' } } },
      { ...sm, timestamp: { ...sm.timestamp, Sig: null } },
      { ...sm, nonce: -2 },
    ]) {
      expect(code(() => parseSignedMessage(b))).toBe('MALFORMED');
    }
  });
});
