import { beforeAll, describe, expect, it } from 'vitest';
import {
  connectResponse,
  frontendSessionStatus,
  parseFrontendOptionsRequest,
  requestResponse,
  serverSessionResponseToJson,
  sessionOptions,
} from '../../src/protocol/messages.js';
import {
  disclosureToJson,
  issueCommitmentMessageToJson,
  parseDisclosure,
  parseIssueCommitmentMessage,
  parseSignedMessage,
  signedMessageToJson,
  splitCommitments,
} from '../../src/protocol/proof-messages.js';
import { addMonths, validateRequestorRequest } from '../../src/protocol/request-validation.js';
import { parseSessionRequest, sessionTypeOf, type SessionRequest } from '../../src/protocol/requests.js';
import { parseRequestorRequest } from '../../src/protocol/request-body.js';
import { withServerFields } from '../../src/protocol/session-start.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import {
  RECORDED_AT,
  connectCall,
  expectProtocolError,
  postCall,
  referenceSchemes,
  vectors,
  type RecordedSession,
} from './fixtures.js';

let schemes: SchemeRegistry;
beforeAll(async () => {
  schemes = await referenceSchemes();
});

const V28 = { major: 2, minor: 8 };

/** The session request as our server would hold it after creating the recorded session. */
function startedRequest(s: RecordedSession): SessionRequest {
  const sent = (connectCall(s).responseBody as { request: { nonce: string; credentials?: { validity: number }[] } }).request;
  const now = sent.credentials ? sent.credentials[0].validity - (addMonths(RECORDED_AT, 6) - RECORDED_AT) : RECORDED_AT;
  const rr = validateRequestorRequest(parseRequestorRequest(s.requestorRequest), schemes, { now });
  return withServerFields(rr.request, { nonce: sent.nonce, devMode: true });
}

describe('connect answer (GET /irma/session/{ct})', () => {
  for (const s of vectors.sessions) {
    it(`${s.label}: equals the reference's, byte for byte`, () => {
      const ours = connectResponse(V28, sessionOptions('none'), startedRequest(s)) as { request: { credentials?: Record<string, unknown>[] } };
      for (const c of ours.request.credentials ?? []) {
        // The recording predates randomblindIDs (see request-validation.test.ts).
        if (c.credential === 'irma-demo.stemmen.stempas') expect(c.randomblindIDs).toEqual(['votingnumber']);
        delete c.randomblindIDs;
      }
      expect(JSON.stringify(ours)).toBe(JSON.stringify(connectCall(s).responseBody));
    });
  }

  it('with pairing pending: options with the code, no request', () => {
    const r = connectResponse(V28, sessionOptions('pin', '0123'), startedRequest(vectors.sessions[3]));
    expect(r).toEqual({
      '@context': 'https://irma.app/ld/request/client/v1',
      protocolVersion: '2.8',
      options: { '@context': 'https://irma.app/ld/options/v1', pairingMethod: 'pin', pairingCode: '0123' },
    });
  });

  it('2.5–2.7 get the bare request with their version; < 2.5 is not served', () => {
    const req = startedRequest(vectors.sessions[3]);
    const r = connectResponse({ major: 2, minor: 7 }, sessionOptions(), req);
    expect(r['@context']).toBe('https://irma.app/ld/request/disclosure/v2');
    expect(r.protocolVersion).toBe('2.7');
    expectProtocolError(() => connectResponse({ major: 2, minor: 4 }, sessionOptions(), req), 'PROTOCOL_VERSION');
  });

  it('GET /request returns the stored request without revocation keys', () => {
    const req = parseSessionRequest({
      '@context': 'https://irma.app/ld/request/issuance/v2',
      protocolVersion: '2.8',
      credentials: [{ credential: 'test.test.revocable', attributes: { email: 'e' }, revocationKey: 'secret' }],
    });
    expect(JSON.stringify(requestResponse(req))).not.toContain('secret');
    expect(requestResponse(req)).toMatchObject({ credentials: [{ revocationSupported: true }] });
  });
});

describe('frontend messages', () => {
  it('options request', () => {
    const ctx = 'https://irma.app/ld/request/frontendoptions/v1';
    expect(parseFrontendOptionsRequest({ '@context': ctx, pairingMethod: 'pin' })).toEqual({ '@context': ctx, pairingMethod: 'pin' });
    expect(parseFrontendOptionsRequest({ '@context': ctx }).pairingMethod).toBe('');
    expectProtocolError(() => parseFrontendOptionsRequest({ pairingMethod: 'pin' }), 'MALFORMED_INPUT', 'Not a frontend options request');
    expectProtocolError(() => parseFrontendOptionsRequest({ '@context': ctx, pairingMethod: 1 }), 'MALFORMED_INPUT', /pairingMethod/);
    expectProtocolError(() => parseFrontendOptionsRequest('pin'), 'MALFORMED_INPUT');
  });

  it('status, with the next session once chained', () => {
    expect(frontendSessionStatus('CONNECTED')).toEqual({ status: 'CONNECTED' });
    const qr = { u: 'https://x/irma/session/abc', irmaqr: 'issuing' as const };
    expect(JSON.stringify(frontendSessionStatus('DONE', qr))).toBe('{"status":"DONE","nextSession":{"u":"https://x/irma/session/abc","irmaqr":"issuing"}}');
  });
});

describe('recorded proof messages', () => {
  for (const s of vectors.sessions) {
    const post = postCall(s);
    const type = sessionTypeOf(parseRequestorRequest(s.requestorRequest).request);
    it(`${s.label}: the ${post.path.split('/').pop()} body parses and serialises back byte for byte`, () => {
      const body = post.requestBody!;
      const back =
        type === 'issuing'
          ? issueCommitmentMessageToJson(parseIssueCommitmentMessage(body))
          : type === 'signing'
            ? signedMessageToJson(parseSignedMessage(body))
            : disclosureToJson(parseDisclosure(body));
      expect(JSON.stringify(back)).toBe(JSON.stringify(body));
    });

    it(`${s.label}: our answer equals the reference's at 2.8`, () => {
      const resp = post.responseBody as { proofStatus: 'VALID'; sigs?: unknown[] };
      expect(JSON.stringify(serverSessionResponseToJson(resp, V28, type))).toBe(JSON.stringify(resp));
    });
  }

  it('the signature in the recorded result is the posted SignedMessage', () => {
    const s = vectors.sessions.find((x) => x.label === 'sign-familyname')!;
    const sm = parseSignedMessage(postCall(s).requestBody);
    expect(signedMessageToJson(sm)).toEqual(s.requestorResult.signature);
    expect(sm.timestamp?.Time).toBe(1795335258);
  });

  it('splits an issuance message into disclosure and commitments', () => {
    const s = vectors.sessions.find((x) => x.label === 'issue-with-disclosure')!;
    const m = parseIssueCommitmentMessage(postCall(s).requestBody);
    const { disclosure, commitments } = splitCommitments(m, 1);
    expect(disclosure.proofs).toHaveLength(1);
    expect(disclosure.indices).toEqual([[{ cred: 0, attr: 3 }]]);
    expect(commitments).toHaveLength(1);
    expect(Object.keys(commitments[0] as object)).toContain('U');
    expectProtocolError(() => splitCommitments(m, 3), 'MALFORMED_INPUT', 'Received insufficient proofs');
  });

  it('bad envelopes are MALFORMED_INPUT', () => {
    expectProtocolError(() => parseDisclosure({ proofs: {}, indices: [] }), 'MALFORMED_INPUT', /proofs/);
    expectProtocolError(() => parseDisclosure({ proofs: [], indices: [[{ cred: -1, attr: 2 }]] }), 'MALFORMED_INPUT', /indices\.0\.0\.cred/);
    expectProtocolError(() => parseDisclosure({ proofs: [], indices: [[{ cred: 0, attr: 'x' }]] }), 'MALFORMED_INPUT', /attr/);
    expectProtocolError(() => parseIssueCommitmentMessage({ combinedProofs: [] }), 'MALFORMED_INPUT', /n_2/);
    expectProtocolError(() => parseIssueCommitmentMessage({ n_2: 'not base64!', combinedProofs: [] }), 'MALFORMED_INPUT', /n_2/);
    expectProtocolError(() => parseSignedMessage({ signature: [], timestamp: { Time: 'now' } }), 'MALFORMED_INPUT', /timestamp/);
    expectProtocolError(() => parseSignedMessage([]), 'MALFORMED_INPUT');
  });

  it('absent lists and a null timestamp are accepted as the reference accepts them', () => {
    expect(parseDisclosure({})).toEqual({ proofs: [], indices: [] });
    expect(parseSignedMessage({ timestamp: null }).timestamp).toBeNull();
  });
});

describe('server answers in older protocol versions', () => {
  it('2.5–2.6: a bare status, or for issuance the bare signatures', () => {
    const v = { major: 2, minor: 6 };
    expect(serverSessionResponseToJson({ proofStatus: 'VALID' }, v, 'disclosing')).toBe('VALID');
    expect(serverSessionResponseToJson({ proofStatus: 'VALID', sigs: [{ a: 1 }] }, v, 'issuing')).toEqual([{ a: 1 }]);
  });

  it('a next session cannot be expressed before 2.7', () => {
    expectProtocolError(
      () => serverSessionResponseToJson({ proofStatus: 'VALID', nextSession: { u: 'u', irmaqr: 'disclosing' } }, { major: 2, minor: 6 }, 'disclosing'),
      'NEXT_SESSION',
    );
  });
});
