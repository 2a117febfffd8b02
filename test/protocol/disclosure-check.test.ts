import { beforeAll, describe, expect, it } from 'vitest';
import { implicitDisclosure, withImplicitDisclosure } from '../../src/protocol/chaining.js';
import type { AttributeConDisCon } from '../../src/protocol/condiscon.js';
import { checkDisclosure, type DisclosureCheckInput, type VerifiedProof } from '../../src/protocol/disclosure-check.js';
import {
  parseDisclosure,
  parseIssueCommitmentMessage,
  parseSignedMessage,
  signatureDisclosure,
  splitCommitments,
  type DisclosedAttributeIndex,
} from '../../src/protocol/proof-messages.js';
import { parseSessionRequest, sessionTypeOf, LD_CONTEXT } from '../../src/protocol/requests.js';
import { parseRequestorRequest } from '../../src/protocol/request-body.js';
import { sessionResultToJson, type SessionResult } from '../../src/protocol/results.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { RECORDED_AT, expectProtocolError, postCall, proof, referenceSchemes, vectors, verifiedProofsOf } from './fixtures.js';

let schemes: SchemeRegistry;
beforeAll(async () => {
  schemes = await referenceSchemes();
});

describe('recorded sessions', () => {
  for (const s of vectors.sessions) {
    it(`${s.label}: proof status and disclosed attributes equal the reference's result`, () => {
      const rr = parseRequestorRequest(s.requestorRequest);
      const type = sessionTypeOf(rr.request);
      const body = postCall(s).requestBody;
      const result: SessionResult = { token: s.requestorResult.token as string, status: 'DONE', type };
      let disclosure;
      if (type === 'signing') {
        result.signature = parseSignedMessage(body);
        disclosure = signatureDisclosure(result.signature);
      } else if (type === 'issuing') {
        const credentials = rr.request['@context'] === LD_CONTEXT.issuing ? rr.request.credentials.length : 0;
        disclosure = splitCommitments(parseIssueCommitmentMessage(body), credentials).disclosure;
      } else {
        disclosure = parseDisclosure(body);
      }
      const check = checkDisclosure({
        condiscon: rr.request.disclose,
        indices: disclosure.indices,
        proofs: verifiedProofsOf(disclosure.proofs, schemes),
        schemes,
        now: RECORDED_AT,
      });
      result.proofStatus = check.proofStatus;
      result.disclosed = check.disclosed;
      expect(JSON.stringify(sessionResultToJson(result))).toBe(JSON.stringify(s.requestorResult));
    });
  }

  it('the recorded credentials are expired half a year later', () => {
    const s = vectors.sessions.find((x) => x.label === 'disclose-firstname')!;
    const d = parseDisclosure(postCall(s).requestBody);
    const input = {
      condiscon: parseRequestorRequest(s.requestorRequest).request.disclose,
      indices: d.indices,
      proofs: verifiedProofsOf(d.proofs, schemes),
      schemes,
    };
    expect(checkDisclosure({ ...input, now: RECORDED_AT + 366 * 86400 }).proofStatus).toBe('EXPIRED');
    expect(checkDisclosure({ ...input, now: RECORDED_AT + 366 * 86400, skipExpiryCheck: ['irma-demo.MijnOverheid.fullName'] }).proofStatus).toBe('VALID');
  });
});

const FN = 'irma-demo.MijnOverheid.fullName';
const FIRST = `${FN}.firstname`; // gabi index 3
const FAMILY = `${FN}.familyname`; // 4
const PREFIX = `${FN}.prefix`; // 5, optional
const UNI = 'irma-demo.RU.studentCard.university'; // 2
const BSN = 'irma-demo.MijnOverheid.singleton.BSN'; // 2

const alice = () => proof(FN, { 2: 'Alice Bo', 3: 'Alice', 4: 'Example', 5: null });
const ix = (cred: number, attr: number): DisclosedAttributeIndex => ({ cred, attr });
const cdc = (disclose: unknown): AttributeConDisCon =>
  parseSessionRequest({ '@context': LD_CONTEXT.disclosing, disclose: [[[FIRST]], ...(disclose as unknown[])] }).disclose.slice(1);

function check(condiscon: AttributeConDisCon, indices: DisclosedAttributeIndex[][], proofs: VerifiedProof[], extra: Partial<DisclosureCheckInput> = {}) {
  return checkDisclosure({ condiscon, indices, proofs, schemes, now: RECORDED_AT, ...extra });
}

const rawValues = (r: ReturnType<typeof check>) =>
  r.disclosed?.map((l) => (l === null ? null : l.map((a) => `${a.id}=${a.rawvalue}:${a.status}`)));

describe('matching', () => {
  it('a required value must match', () => {
    const bob = cdc([[[{ type: FIRST, value: 'Bob' }]]]);
    const r = check(bob, [[ix(0, 3)]], [proof(FN, { 3: 'Alice' })]);
    expect(r.proofStatus).toBe('MISSING_ATTRIBUTES');
    expect(r.disclosed).toEqual([null]);
    expect(check(cdc([[[{ type: FIRST, value: 'Alice' }]]]), [[ix(0, 3)]], [alice()]).proofStatus).toBe('VALID');
  });

  it('a null optional attribute is disclosed with status NULL, unless notNull is asked', () => {
    const r = check(cdc([[[PREFIX]]]), [[ix(0, 5)]], [alice()]);
    expect(r.proofStatus).toBe('VALID');
    expect(r.disclosed![0]![0]).toMatchObject({ rawvalue: null, value: null, status: 'NULL', id: PREFIX });
    expect(check(cdc([[[{ type: PREFIX, notNull: true }]]]), [[ix(0, 5)]], [alice()]).proofStatus).toBe('MISSING_ATTRIBUTES');
  });

  it('a required empty value is not satisfied by null', () => {
    expect(check(cdc([[[{ type: PREFIX, value: '' }]]]), [[ix(0, 5)]], [alice()]).proofStatus).toBe('MISSING_ATTRIBUTES');
  });

  it('values carry the translation map and the signing week', () => {
    const r = check(cdc([[[FIRST]]]), [[ix(0, 3)]], [alice()]);
    expect(r.disclosed![0]![0]).toEqual({
      rawvalue: 'Alice',
      value: { '': 'Alice', en: 'Alice', nl: 'Alice' },
      id: FIRST,
      status: 'PRESENT',
      issuancetime: 1795046400,
    });
  });

  it('options of a disjunction are tried in order', () => {
    const r = check(cdc([[[UNI], [FIRST, FAMILY]]]), [[ix(0, 3), ix(0, 4)]], [proof(FN, { 3: 'Alice', 4: 'Example' })]);
    expect(r.proofStatus).toBe('VALID');
    expect(rawValues(r)).toEqual([[`${FIRST}=Alice:PRESENT`, `${FAMILY}=Example:PRESENT`]]);
  });

  it('attributes are matched positionally', () => {
    expect(check(cdc([[[FIRST, FAMILY]]]), [[ix(0, 4), ix(0, 3)]], [alice()]).proofStatus).toBe('MISSING_ATTRIBUTES');
  });

  it('the empty option matches only an empty index list', () => {
    const optional = cdc([[[], [UNI]], [[FIRST]]]);
    const skipped = check(optional, [[], [ix(0, 3)]], [proof(FN, { 3: 'Alice' })]);
    expect(skipped.proofStatus).toBe('VALID');
    expect(rawValues(skipped)).toEqual([[], [`${FIRST}=Alice:PRESENT`]]);
    const uni = proof('irma-demo.RU.studentCard', { 2: 'Radboud' });
    const chosen = check(optional, [[ix(1, 2)], [ix(0, 3)]], [proof(FN, { 3: 'Alice' }), uni]);
    expect(rawValues(chosen)).toEqual([[`${UNI}=Radboud:PRESENT`], [`${FIRST}=Alice:PRESENT`]]);
    // something disclosed for the optional disjunction that matches no option
    expect(check(optional, [[ix(0, 4)], [ix(0, 3)]], [alice()]).proofStatus).toBe('MISSING_ATTRIBUTES');
  });

  it('a three-part request is met by the credential itself, disclosed as "present"', () => {
    const r = check(cdc([[[FN]]]), [[ix(0, 1)]], [alice()]);
    expect(r.proofStatus).toBe('VALID');
    expect(r.disclosed![0]![0]).toMatchObject({ id: FN, rawvalue: 'present', status: 'PRESENT' });
    // …and the attributes the proof discloses become EXTRA
    expect(rawValues(r)![1]).toEqual([`${FN}.firstnames=Alice Bo:EXTRA`, `${FIRST}=Alice:EXTRA`, `${FAMILY}=Example:EXTRA`, `${PREFIX}=null:EXTRA`]);
  });

  it('unrequested disclosed attributes form one final EXTRA list, in proof and index order', () => {
    const uni = proof('irma-demo.RU.studentCard', { 2: 'Radboud', 5: 'master' });
    const r = check(cdc([[[FIRST]]]), [[ix(1, 3)]], [uni, alice()]);
    expect(r.proofStatus).toBe('VALID');
    expect(rawValues(r)).toEqual([
      [`${FIRST}=Alice:PRESENT`],
      [`${UNI}=Radboud:EXTRA`, 'irma-demo.RU.studentCard.level=master:EXTRA', `${FN}.firstnames=Alice Bo:EXTRA`, `${FAMILY}=Example:EXTRA`, `${PREFIX}=null:EXTRA`],
    ]);
  });

  it('index entries beyond an option are neither checked nor EXTRA (as in the reference)', () => {
    const r = check(cdc([[[FIRST]]]), [[ix(0, 3), ix(0, 4)]], [proof(FN, { 3: 'Alice', 4: 'Example' })]);
    expect(r.proofStatus).toBe('VALID');
    expect(rawValues(r)).toEqual([[`${FIRST}=Alice:PRESENT`]]);
  });

  it('one inner conjunction may draw from two credentials of the same type (as in the reference)', () => {
    const r = check(cdc([[[FIRST, FAMILY]]]), [[ix(0, 3), ix(1, 4)]], [proof(FN, { 3: 'Alice' }), proof(FN, { 4: 'Other' })]);
    expect(r.proofStatus).toBe('VALID');
  });

  it('fewer index lists than disjunctions: nothing matched, only EXTRA reported', () => {
    const r = check(cdc([[[FIRST]], [[FAMILY]]]), [[ix(0, 3)]], [alice()]);
    expect(r.proofStatus).toBe('MISSING_ATTRIBUTES');
    expect(rawValues(r)).toEqual([[`${FN}.firstnames=Alice Bo:EXTRA`, `${FAMILY}=Example:EXTRA`, `${PREFIX}=null:EXTRA`]]);
  });

  it('an unsatisfied disjunction is null while the others are reported', () => {
    const r = check(cdc([[[FIRST]], [[UNI]]]), [[ix(0, 3)], [ix(0, 4)]], [alice()]);
    expect(r.proofStatus).toBe('MISSING_ATTRIBUTES');
    expect(rawValues(r)!.slice(0, 2)).toEqual([[`${FIRST}=Alice:PRESENT`], null]);
  });

  it('the implicit disclosure of a chain must be disclosed again with the same values', () => {
    const previous = check(cdc([[[FIRST]]]), [[ix(0, 3)]], [proof(FN, { 3: 'Alice' })]).disclosed;
    const chained = withImplicitDisclosure(cdc([[[UNI]]]), implicitDisclosure(previous));
    const uni = proof('irma-demo.RU.studentCard', { 2: 'Radboud' });
    expect(check(chained, [[ix(0, 2)], [ix(1, 3)]], [uni, proof(FN, { 3: 'Alice' })]).proofStatus).toBe('VALID');
    expect(check(chained, [[ix(0, 2)], [ix(1, 3)]], [uni, proof(FN, { 3: 'Mallory' })]).proofStatus).toBe('MISSING_ATTRIBUTES');
  });
});

describe('list-level rules', () => {
  it('a singleton credential twice voids the list', () => {
    const r = check(cdc([[[BSN]]]), [[ix(0, 2)]], [proof('irma-demo.MijnOverheid.singleton', { 2: '1' }), proof('irma-demo.MijnOverheid.singleton', {})]);
    expect(r).toEqual({ proofStatus: 'INVALID' });
  });

  it('a demanded non-revocation proof must be there', () => {
    const rev = (extra: Partial<VerifiedProof>) => proof('test.test.revocable', { 2: 'a@b' }, extra);
    const condiscon = cdc([[['test.test.revocable.email']]]);
    expect(check(condiscon, [[ix(0, 2)]], [rev({})], { revocation: ['test.test.revocable'] })).toEqual({ proofStatus: 'INVALID' });
    const ok = check(condiscon, [[ix(0, 2)]], [rev({ notRevoked: true, notRevokedBefore: 1795000000 })], { revocation: ['test.test.revocable'] });
    expect(ok.proofStatus).toBe('VALID');
    expect(ok.disclosed![0]![0]).toMatchObject({ notrevoked: true, notrevokedbefore: 1795000000 });
  });

  it('expiry: any proof of the list, skippable per type, but never for an expired issuer key', () => {
    const old = proof(FN, { 3: 'Alice' }, { expiry: RECORDED_AT - 1 });
    expect(check(cdc([[[FIRST]]]), [[ix(0, 3)]], [old]).proofStatus).toBe('EXPIRED');
    expect(check(cdc([[[FIRST]]]), [[ix(0, 3)]], [old], { skipExpiryCheck: [FN] }).proofStatus).toBe('VALID');
    expect(check(cdc([[[FIRST]]]), [[ix(0, 3)]], [proof(FN, { 3: 'A' }, { expiry: RECORDED_AT })]).proofStatus).toBe('VALID');
    const badKey = proof(FN, { 3: 'Alice' }, { keyExpired: true });
    expect(check(cdc([[[FIRST]]]), [[ix(0, 3)]], [badKey], { skipExpiryCheck: [FN] }).proofStatus).toBe('EXPIRED');
  });

  it('missing attributes are reported before expiry', () => {
    const old = proof(FN, { 3: 'Alice' }, { expiry: RECORDED_AT - 1 });
    expect(check(cdc([[[FAMILY]]]), [[ix(0, 3)]], [old]).proofStatus).toBe('MISSING_ATTRIBUTES');
  });

  it('an empty proof list satisfies a request of optional disjunctions only', () => {
    expect(check(cdc([[[], [FIRST]]]), [[]], []).proofStatus).toBe('VALID');
    expect(check(cdc([[[FIRST]]]), [[]], []).proofStatus).toBe('MISSING_ATTRIBUTES');
  });
});

describe('malformed indices', () => {
  it('a proof number out of range, or an attribute the proof does not disclose', () => {
    expectProtocolError(() => check(cdc([[[FIRST]]]), [[ix(1, 3)]], [alice()]), 'EXCEPTION', 'Credential index out of range');
    expectProtocolError(() => check(cdc([[[FIRST]]]), [[ix(0, 9)]], [alice()]), 'EXCEPTION', 'Attribute index out of range');
    expectProtocolError(() => check(cdc([[[FIRST]]]), [[ix(0, 0)]], [alice()]), 'EXCEPTION', 'Attribute index out of range');
    expectProtocolError(
      () => check(cdc([[[FIRST]]]), [[ix(0, 9)]], [proof(FN, { 9: 'x' })]),
      'EXCEPTION',
      'Attribute index out of range',
    );
  });

  it('a proof of an unknown credential type', () => {
    expectProtocolError(() => check(cdc([[[FIRST]]]), [[ix(0, 3)]], [proof('irma-demo.X.y', { 3: 'a' })]), 'UNKNOWN_PUBLIC_KEY');
  });
});
