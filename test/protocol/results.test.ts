import { describe, expect, it } from 'vitest';
import { ProtocolError, remoteError } from '../../src/protocol/errors.js';
import {
  isFinalStatus,
  proofJwtClaims,
  resultJwtClaims,
  sessionResultSchema,
  sessionResultToJson,
  type SessionResult,
} from '../../src/protocol/results.js';
import { vectors } from './fixtures.js';

const parseRecorded = (r: Record<string, unknown>) => sessionResultSchema.parse(r) as SessionResult;

describe('SessionResult', () => {
  for (const s of vectors.sessions) {
    it(`${s.label}: the recorded /result parses and serialises back byte for byte`, () => {
      expect(JSON.stringify(sessionResultToJson(parseRecorded(s.requestorResult)))).toBe(JSON.stringify(s.requestorResult));
    });
  }

  it('an unfinished session shows only token, status and type', () => {
    expect(JSON.stringify(sessionResultToJson({ token: 't', status: 'INITIALIZED', type: 'issuing', disclosed: [] }))).toBe(
      '{"token":"t","status":"INITIALIZED","type":"issuing"}',
    );
  });

  it('a cancelled session carries its error; a chained one the next token', () => {
    const r: SessionResult = {
      token: 't',
      status: 'CANCELLED',
      type: 'disclosing',
      error: remoteError(new ProtocolError('PROTOCOL_VERSION')),
      nextSession: 'n',
    };
    expect(Object.keys(sessionResultToJson(r))).toEqual(['token', 'status', 'type', 'error', 'nextSession']);
  });

  it('unsatisfied disjunctions stay null', () => {
    const r: SessionResult = { token: 't', status: 'DONE', type: 'disclosing', proofStatus: 'MISSING_ATTRIBUTES', disclosed: [null, []] };
    expect(sessionResultToJson(r).disclosed).toEqual([null, []]);
  });

  it('legacy sessions get a flat list of the first attribute per conjunction', () => {
    const s = vectors.sessions.find((x) => x.label === 'disclose-two-credentials')!;
    const legacy = sessionResultToJson(parseRecorded(s.requestorResult), { legacy: true }) as { disclosed: { id: string }[] };
    expect(legacy.disclosed.map((a) => a.id)).toEqual(['irma-demo.MijnOverheid.fullName.familyname', 'irma-demo.stemmen.stempas.election']);
  });

  it('final statuses', () => {
    expect(['DONE', 'CANCELLED', 'TIMEOUT'].every((st) => isFinalStatus(st as 'DONE'))).toBe(true);
    expect(['INITIALIZED', 'PAIRING', 'CONNECTED'].some((st) => isFinalStatus(st as 'DONE'))).toBe(false);
  });
});

describe('result JWT claims (§3.4)', () => {
  const s = vectors.sessions.find((x) => x.label === 'sign-familyname')!;
  const result = parseRecorded(s.requestorResult);

  it('/result-jwt: standard claims, then every result member', () => {
    const claims = resultJwtClaims(result, { issuer: 'irmaserver', now: 1000, validity: 120 });
    expect(Object.keys(claims)).toEqual(['exp', 'iat', 'iss', 'sub', 'token', 'status', 'type', 'proofStatus', 'disclosed', 'signature']);
    expect(claims).toMatchObject({ exp: 1120, iat: 1000, iss: 'irmaserver', sub: 'signing_result' });
    expect(claims.disclosed).toEqual(s.requestorResult.disclosed);
  });

  it('sub names are the code\'s, not the docs\'', () => {
    expect(resultJwtClaims({ token: 't', status: 'DONE', type: 'disclosing' }, { now: 1, validity: 120 }).sub).toBe('disclosing_result');
    expect(resultJwtClaims({ token: 't', status: 'DONE', type: 'issuing' }, { now: 1, validity: 120 }).sub).toBe('issuing_result');
  });

  it('an empty issuer is left out', () => {
    expect('iss' in resultJwtClaims(result, { issuer: '', now: 1, validity: 120 })).toBe(false);
  });

  it('/getproof: attributes map incl. EXTRA and nulls, status, signature', () => {
    const claims = proofJwtClaims(
      {
        token: 't',
        status: 'DONE',
        type: 'disclosing',
        proofStatus: 'VALID',
        disclosed: [
          [{ rawvalue: 'Alice', value: { '': 'Alice', en: 'Alice', nl: 'Alice' }, id: 'a.b.c.first', status: 'PRESENT', issuancetime: 0 }],
          null,
          [{ rawvalue: null, value: null, id: 'a.b.c.prefix', status: 'EXTRA', issuancetime: 0 }],
        ],
      },
      { issuer: 'irmaserver', now: 1000, validity: 120 },
    );
    expect(claims).toEqual({
      attributes: { 'a.b.c.first': 'Alice', 'a.b.c.prefix': '' },
      exp: 1120,
      iat: 1000,
      iss: 'irmaserver',
      status: 'VALID',
      sub: 'disclosure_result',
    });
    const sig = proofJwtClaims(result, { now: 1, validity: 0 });
    expect(sig.sub).toBe('abs_result');
    expect(sig.signature).toEqual(s.requestorResult.signature);
    expect('exp' in sig).toBe(false);
  });

  it('/getproof before the proofs arrived: empty status', () => {
    const claims = proofJwtClaims({ token: 't', status: 'INITIALIZED', type: 'issuing' }, { now: 1, validity: 120 });
    expect(claims).toMatchObject({ status: '', sub: 'issue_result', attributes: {} });
  });
});
