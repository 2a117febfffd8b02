import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contextOf, LD_CONTEXT, parseSessionRequest, requestForClient, requestorRequestToJson, sessionRequestToJson, sessionTypeOf } from '../../src/protocol/requests.js';
import { parseRequestorRequest, parseRequestorRequestText } from '../../src/protocol/request-body.js';
import {
  parseRequestorJwtClaims,
  requestorJwtClaims,
  sessionTypeOfJwtSubject,
} from '../../src/protocol/requestor-jwt.js';
import { parseRevocationRequest } from '../../src/protocol/revocation-request.js';
import { connectCall, expectProtocolError, vectors } from './fixtures.js';

const FIRSTNAME = 'irma-demo.MijnOverheid.fullName.firstname';
const disclosure = (disclose: unknown, extra: Record<string, unknown> = {}) => ({
  '@context': LD_CONTEXT.disclosing,
  disclose,
  ...extra,
});

describe('recorded requestor requests', () => {
  for (const s of vectors.sessions) {
    it(`${s.label}: plain form parses and serialises back member for member`, () => {
      const rr = parseRequestorRequest(s.requestorRequest);
      expect(rr.validity).toBe(120);
      expect(sessionRequestToJson(rr.request)).toEqual(s.requestorRequest);
      expect(sessionTypeOf(rr.request)).toBe((s.sessionPackage.sessionPtr as { irmaqr: string }).irmaqr);
    });

    it(`${s.label}: extended form parses to the same request`, () => {
      const body = { validity: 60, timeout: 30, callbackUrl: 'https://example.com/cb', request: s.requestorRequest };
      const rr = parseRequestorRequestText(JSON.stringify(body));
      expect(requestorRequestToJson(rr)).toEqual(body);
    });

    it(`${s.label}: the request the app received parses and serialises back byte for byte`, () => {
      const sent = (connectCall(s).responseBody as { request: Record<string, unknown> }).request;
      const request = parseSessionRequest(sent);
      expect(JSON.stringify(sessionRequestToJson(requestForClient(request)))).toBe(JSON.stringify(sent));
    });
  }
});

describe('body forms and @context', () => {
  it('unknown top-level @context', () => {
    expectProtocolError(() => parseRequestorRequest({ '@context': 'https://irma.app/ld/request/x/v9' }), 'INVALID_REQUEST', 'Invalid session request type');
  });

  it('unknown nested @context', () => {
    expectProtocolError(
      () => parseRequestorRequest({ request: { '@context': 'https://irma.app/ld/request/x/v9' } }),
      'INVALID_REQUEST',
      'Invalid requestor request type',
    );
  });

  it('no @context anywhere', () => {
    expectProtocolError(() => parseRequestorRequest({ disclose: [[[FIRSTNAME]]] }), 'INVALID_REQUEST', 'Failed to JSON unmarshal request bytes');
  });

  it('not JSON, or not an object', () => {
    expectProtocolError(() => parseRequestorRequestText('{"@context": '), 'INVALID_REQUEST');
    expectProtocolError(() => parseRequestorRequest([1, 2]), 'INVALID_REQUEST');
    expectProtocolError(() => parseRequestorRequest({ '@context': 5 }), 'INVALID_REQUEST', /@context/);
  });

  it('reads @context as a Go decoder does: any case, the last one, null as absent, else a shape error', () => {
    const entry = fc.tuple(
      fc.constantFrom('@context', '@CONTEXT', '@Context', '@contexts', 'context', 'disclose'),
      fc.oneof(fc.constantFrom(null, 5, true, [], {}), fc.string({ maxLength: 4 })),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), (entries) => {
        // Object.fromEntries keeps a repeated key where it first came with its last value, as JSON.parse does.
        const input = Object.fromEntries(entries);
        const matching = Object.entries(input).filter(([k]) => k.toLowerCase() === '@context');
        const last = matching.length === 0 ? null : matching[matching.length - 1][1];
        if (last === null) expect(contextOf(input)).toBe('');
        else if (typeof last === 'string') expect(contextOf(input)).toBe(last);
        else expectProtocolError(() => contextOf(input), 'INVALID_REQUEST', /@context/);
      }),
    );
    for (const notObject of [[1], 'x', 7, null]) expectProtocolError(() => contextOf(notObject), 'INVALID_REQUEST');
  });

  it('a top-level @context wins over a nested request', () => {
    const rr = parseRequestorRequest(disclosure([[[FIRSTNAME]]], { request: { '@context': LD_CONTEXT.issuing } }));
    expect(sessionTypeOf(rr.request)).toBe('disclosing');
  });

  it('member names match case-insensitively and unknown members are ignored, as in Go', () => {
    const rr = parseRequestorRequest({ Request: { '@Context': LD_CONTEXT.disclosing, DISCLOSE: [[[FIRSTNAME]]], bogus: 1 }, Validity: 7 });
    expect(rr.validity).toBe(7);
    expect(sessionRequestToJson(rr.request)).toEqual(disclosure([[[FIRSTNAME]]]));
  });

  it('validity 0 or absent becomes 120; options are kept', () => {
    const rr = parseRequestorRequest({ validity: 0, timeout: 5, nextSession: { url: 'https://x/next' }, request: disclosure([[[FIRSTNAME]]]) });
    expect(rr).toMatchObject({ validity: 120, timeout: 5, nextSession: { url: 'https://x/next' } });
  });

  it('a nextSession without url keeps the empty url for the server to refuse', () => {
    const rr = parseRequestorRequest({ nextSession: {}, request: disclosure([[[FIRSTNAME]]]) });
    expect(rr.nextSession).toEqual({ url: '' });
  });
});

describe('condiscon rules', () => {
  it('attribute requests without value or notNull re-serialise as strings', () => {
    const r = parseSessionRequest(
      disclosure([[[{ type: FIRSTNAME }, { type: 'irma-demo.MijnOverheid.fullName.familyname', notNull: false }]]]),
    );
    expect(sessionRequestToJson(r).disclose).toEqual([[[FIRSTNAME, 'irma-demo.MijnOverheid.fullName.familyname']]]);
  });

  it('value and notNull survive; a null value means no value', () => {
    const r = parseSessionRequest(
      disclosure([[[{ type: FIRSTNAME, value: 'Bob', notNull: true }], [{ type: 'irma-demo.MijnOverheid.fullName.prefix', value: null }]]]),
    );
    expect(r.disclose[0][0][0]).toEqual({ type: FIRSTNAME, value: 'Bob', notNull: true });
    expect(sessionRequestToJson(r).disclose).toEqual([[[{ type: FIRSTNAME, value: 'Bob', notNull: true }], ['irma-demo.MijnOverheid.fullName.prefix']]]);
  });

  it('an empty value is a required value', () => {
    const r = parseSessionRequest(disclosure([[[{ type: FIRSTNAME, value: '' }]]]));
    expect(sessionRequestToJson(r).disclose).toEqual([[[{ type: FIRSTNAME, value: '' }]]]);
  });

  it('empty disjunction', () => {
    expectProtocolError(() => parseSessionRequest(disclosure([[[FIRSTNAME]], []])), 'INVALID_REQUEST', 'Empty disjunction');
  });

  it('an empty inner conjunction is allowed (optional disjunction)', () => {
    const r = parseSessionRequest(disclosure([[[FIRSTNAME]], [[], ['irma-demo.MijnOverheid.fullName.prefix']]]));
    expect(r.disclose[1][0]).toEqual([]);
  });

  it('no attributes at all', () => {
    expectProtocolError(() => parseSessionRequest(disclosure([])), 'INVALID_REQUEST', 'Disclosure request had no attributes');
    expectProtocolError(() => parseSessionRequest(disclosure([[[]]])), 'INVALID_REQUEST', 'Disclosure request had no attributes');
    expectProtocolError(() => parseSessionRequest({ '@context': LD_CONTEXT.disclosing }), 'INVALID_REQUEST', 'Disclosure request had no attributes');
  });

  it('identifiers of 2 or 5 parts', () => {
    expectProtocolError(
      () => parseSessionRequest(disclosure([[['irma-demo.MijnOverheid']]])),
      'INVALID_REQUEST',
      'Expected attribute request to consist of 4 or 3 parts, 2 found',
    );
    expectProtocolError(
      () => parseSessionRequest(disclosure([[[`${FIRSTNAME}.x`]]])),
      'INVALID_REQUEST',
      'Expected attribute request to consist of 4 or 3 parts, 5 found',
    );
  });

  it('attributes of one credential type must be adjacent in an inner conjunction', () => {
    expectProtocolError(
      () =>
        parseSessionRequest(
          disclosure([[[FIRSTNAME, 'irma-demo.RU.studentCard.university', 'irma-demo.MijnOverheid.fullName.familyname']]]),
        ),
      'INVALID_REQUEST',
      'Within inner conjunctions, attributes from the same credential type must be adjacent',
    );
  });

  it('wrong types inside the condiscon', () => {
    expectProtocolError(() => parseSessionRequest(disclosure('x')), 'INVALID_REQUEST', /^disclose/);
    expectProtocolError(() => parseSessionRequest(disclosure([[[42]]])), 'INVALID_REQUEST', /^disclose\.0\.0\.0/);
    expectProtocolError(() => parseSessionRequest(disclosure([[[{ type: FIRSTNAME, value: 5 }]]])), 'INVALID_REQUEST', /disclose/);
  });

  it('oversize identifiers', () => {
    expectProtocolError(
      () => parseSessionRequest(disclosure([[[`irma-demo.MijnOverheid.fullName.${'a'.repeat(600)}`]]])),
      'INVALID_REQUEST',
      /identifier too long/,
    );
  });
});

describe('signature and issuance requests', () => {
  const sig = (extra: Record<string, unknown>) => ({ '@context': LD_CONTEXT.signing, ...extra });
  const iss = (extra: Record<string, unknown>) => ({ '@context': LD_CONTEXT.issuing, ...extra });

  it('signature rules', () => {
    expectProtocolError(() => parseSessionRequest(sig({ disclose: [[[FIRSTNAME]]] })), 'INVALID_REQUEST', 'Signature request had empty message');
    expectProtocolError(() => parseSessionRequest(sig({ message: 'm' })), 'INVALID_REQUEST', 'Signature request had no attributes');
    expectProtocolError(() => parseSessionRequest(sig({ message: 'm', disclose: [[]] })), 'INVALID_REQUEST', 'Empty disjunction');
  });

  it('a signature request always carries its message', () => {
    const r = parseSessionRequest(sig({ message: 'hi', disclose: [[[FIRSTNAME]]] }));
    expect(Object.keys(sessionRequestToJson(r))).toEqual(['@context', 'disclose', 'message']);
  });

  it('issuance rules', () => {
    expectProtocolError(() => parseSessionRequest(iss({})), 'INVALID_REQUEST', 'Empty issuance request');
    expectProtocolError(
      () => parseSessionRequest(iss({ credentials: [{ credential: 'irma-demo.MijnOverheid', attributes: {} }] })),
      'INVALID_REQUEST',
      'Expected credential ID to consist of 3 parts, 2 found',
    );
    expectProtocolError(
      () => parseSessionRequest(iss({ credentials: [{ credential: 'irma-demo.MijnOverheid.root', attributes: { BSN: 1 } }] })),
      'INVALID_REQUEST',
      /credentials\.0\.attributes\.BSN/,
    );
  });

  it('numbers must be integers that fit', () => {
    const cred = { credential: 'irma-demo.MijnOverheid.root', attributes: { BSN: '1' } };
    expectProtocolError(() => parseSessionRequest(iss({ credentials: [{ ...cred, validity: 1e300 }] })), 'INVALID_REQUEST', /validity/);
    expectProtocolError(() => parseSessionRequest(iss({ credentials: [{ ...cred, validity: 1.5 }] })), 'INVALID_REQUEST', /validity/);
    expectProtocolError(() => parseSessionRequest(iss({ credentials: [{ ...cred, keyCounter: -1 }] })), 'INVALID_REQUEST', /keyCounter/);
    expectProtocolError(() => parseRequestorRequest({ timeout: 2.5, request: iss({ credentials: [cred] }) }), 'INVALID_REQUEST', /timeout/);
  });

  it('a null attribute value is issued as the empty string, as Go decodes it', () => {
    const r = parseSessionRequest(iss({ credentials: [{ credential: 'irma-demo.MijnOverheid.fullName', attributes: { prefix: null } }] }));
    expect(r).toMatchObject({ credentials: [{ attributes: { prefix: '' } }] });
  });

  it('the app never sees a revocation key', () => {
    const r = parseSessionRequest(
      iss({ credentials: [{ credential: 'test.test.revocable', attributes: { email: 'a@b' }, revocationKey: 'k1', revocationSupported: false }] }),
    );
    const json = sessionRequestToJson(requestForClient(r)) as { credentials: Record<string, unknown>[] };
    expect(json.credentials[0]).toEqual({ credential: 'test.test.revocable', attributes: { email: 'a@b' }, revocationSupported: true });
    expect((sessionRequestToJson(r) as { credentials: Record<string, unknown>[] }).credentials[0].revocationKey).toBe('k1');
  });

  it('credential members in the reference order, attribute names sorted', () => {
    const r = parseSessionRequest(
      iss({ credentials: [{ attributes: { b: '2', a: '1' }, credential: 'x.y.z', keyCounter: 3, validity: 9, sdJwtBatchSize: 2 }] }),
    );
    const c = (sessionRequestToJson(r) as { credentials: Record<string, unknown>[] }).credentials[0];
    expect(JSON.stringify(c)).toBe('{"validity":9,"keyCounter":3,"credential":"x.y.z","attributes":{"a":"1","b":"2"},"sdJwtBatchSize":2}');
  });
});

describe('base request members', () => {
  it('revocation as a list becomes a map; labels keys must be integers', () => {
    const r = parseSessionRequest(disclosure([[[FIRSTNAME]]], { revocation: ['test.test.revocable'], labels: { '0': { en: 'a', nl: 'b' } } }));
    expect(sessionRequestToJson(r)).toMatchObject({ revocation: { 'test.test.revocable': {} }, labels: { '0': { en: 'a', nl: 'b' } } });
    const m = parseSessionRequest(disclosure([[[FIRSTNAME]]], { revocation: { 'test.test.revocable': { tolerance: 60 } } }));
    expect(m.revocation).toEqual({ 'test.test.revocable': { tolerance: 60 } });
    expectProtocolError(() => parseSessionRequest(disclosure([[[FIRSTNAME]]], { labels: { first: { en: 'a' } } })), 'INVALID_REQUEST', /label key/);
  });

  it('nonce, context and protocolVersion are normalised; bad ones refused', () => {
    const r = parseSessionRequest(disclosure([[[FIRSTNAME]]], { nonce: 42, context: 'AQ==', protocolVersion: 2.8, host: 'h.example' }));
    expect(sessionRequestToJson(r)).toEqual(
      disclosure([[[FIRSTNAME]]], { nonce: 'Kg==', context: 'AQ==', protocolVersion: '2.8', host: 'h.example' }),
    );
    expectProtocolError(() => parseSessionRequest(disclosure([[[FIRSTNAME]]], { nonce: '***' })), 'INVALID_REQUEST', /nonce/);
    expectProtocolError(() => parseSessionRequest(disclosure([[[FIRSTNAME]]], { protocolVersion: '2' })), 'INVALID_REQUEST', /protocolVersion/);
  });

  it('a __proto__ member of a map is refused, not swallowed', () => {
    const body = JSON.parse(
      `{"@context":"${LD_CONTEXT.issuing}","credentials":[{"credential":"a.b.c","attributes":{"__proto__":"x"}}]}`,
    );
    expectProtocolError(() => parseSessionRequest(body), 'INVALID_REQUEST', /attributes/);
  });
});

describe('pre-condiscon requests (§7.8)', () => {
  const over18 = 'irma-demo.MijnOverheid.ageLower.over18';

  it('a legacy disclosure converts to single-attribute options, labels kept', () => {
    const rr = parseRequestorRequest({
      type: 'disclosing',
      content: [
        { label: 'Age', attributes: [over18, 'irma-demo.RU.studentCard.level'] },
        { label: 'Name', attributes: { [FIRSTNAME]: 'Alice', 'irma-demo.MijnOverheid.fullName.prefix': null } },
      ],
    });
    expect(rr.legacy).toBe(true);
    expect(sessionRequestToJson(rr.request)).toEqual({
      '@context': LD_CONTEXT.disclosing,
      disclose: [
        [[over18], ['irma-demo.RU.studentCard.level']],
        [[{ type: FIRSTNAME, value: 'Alice' }], ['irma-demo.MijnOverheid.fullName.prefix']],
      ],
      labels: { '0': { en: 'Age', nl: 'Age' }, '1': { en: 'Name', nl: 'Name' } },
    });
  });

  it('legacy signature and issuance requests, bare or wrapped', () => {
    const sig = parseRequestorRequest({ validity: 60, request: { type: 'signing', message: 'hi', content: [{ label: 'l', attributes: [over18] }] } });
    expect(sig).toMatchObject({ validity: 60, legacy: true, request: { '@context': LD_CONTEXT.signing, message: 'hi' } });
    const iss = parseRequestorRequest({
      type: 'issuing',
      credentials: [{ credential: 'irma-demo.MijnOverheid.root', attributes: { BSN: '1' } }],
      disclose: [{ label: 'l', attributes: [over18] }],
    });
    expect(iss.request).toMatchObject({ '@context': LD_CONTEXT.issuing, disclose: [[[{ type: over18 }]]] });
  });

  it('the type must match the content, and the content must be valid', () => {
    const bad = [
      { type: 'issuing', content: [{ label: 'l', attributes: [over18] }] },
      { type: 'disclosing', content: [] },
      { type: 'signing', content: [{ label: 'l', attributes: [over18] }] },
      { type: 'disclosing', content: [{ label: 'l', attributes: 'x' }] },
    ];
    for (const b of bad) expectProtocolError(() => parseRequestorRequest(b), 'INVALID_REQUEST', 'Failed to JSON unmarshal request bytes');
  });
});

describe('requestor JWT claims (§4.2)', () => {
  const rr = { request: disclosure([[[FIRSTNAME]]]) };

  it('sub names and session types map to the claim', () => {
    expect(sessionTypeOfJwtSubject('verification_request')).toBe('disclosing');
    expect(sessionTypeOfJwtSubject('signature_request')).toBe('signing');
    expect(sessionTypeOfJwtSubject('issue_request')).toBe('issuing');
    expect(sessionTypeOfJwtSubject('issuing')).toBe('issuing');
    expectProtocolError(() => sessionTypeOfJwtSubject('revocation_request'), 'INVALID_REQUEST', 'Invalid session type');
  });

  it('reads the extended request from the matching claim', () => {
    const { type, request } = parseRequestorJwtClaims({ sub: 'verification_request', iss: 'r', iat: 1, sprequest: rr });
    expect(type).toBe('disclosing');
    expect(request.validity).toBe(120);
  });

  it('a bare request in the claim, or a mismatching @context, is an invalid JWT body', () => {
    expectProtocolError(
      () => parseRequestorJwtClaims({ sub: 'verification_request', sprequest: disclosure([[[FIRSTNAME]]]) }),
      'INVALID_REQUEST',
      'Invalid JWT body: Not a ServiceProviderRequest',
    );
    expectProtocolError(
      () => parseRequestorJwtClaims({ sub: 'issue_request', iprequest: rr }),
      'INVALID_REQUEST',
      'Invalid JWT body: Not an issuance request',
    );
    expectProtocolError(() => parseRequestorJwtClaims({ sub: 'signature_request' }), 'INVALID_REQUEST', 'Invalid JWT body: Not a SignatureRequestorRequest');
    expectProtocolError(
      () => parseRequestorJwtClaims({ sub: 'verification_request', sprequest: { request: { disclose: [[[FIRSTNAME]]] } } }),
      'INVALID_REQUEST',
      'Invalid JWT body: not a disclosing session request',
    );
    expectProtocolError(
      () => parseRequestorJwtClaims({ sub: 'verification_request', sprequest: { request: { '@context': 'x', disclose: [] } } }),
      'INVALID_REQUEST',
      'Invalid JWT body: Not a disclosure request',
    );
  });

  it('a legacy request inside the claim is accepted, as by the reference', () => {
    const legacy = { request: { type: 'disclosing', content: [{ label: 'l', attributes: [FIRSTNAME] }] } };
    expect(parseRequestorJwtClaims({ sub: 'verification_request', sprequest: legacy }).request.legacy).toBe(true);
    expectProtocolError(
      () => parseRequestorJwtClaims({ sub: 'signature_request', absrequest: legacy }),
      'INVALID_REQUEST',
      'Invalid JWT body: not a signing session request',
    );
  });

  it('claims built for signing round-trip', () => {
    const claims = requestorJwtClaims(parseRequestorRequest(rr), { issuer: 'me', iat: 100 });
    expect(Object.keys(claims)).toEqual(['sub', 'iss', 'iat', 'sprequest']);
    expect(parseRequestorJwtClaims(claims).request.request).toEqual(parseRequestorRequest(rr).request);
  });
});

describe('revocation request (§3.7)', () => {
  it('parses and checks @context', () => {
    const r = parseRevocationRequest({ '@context': 'https://irma.app/ld/request/revocation/v1', type: 'test.test.revocable', revocationKey: 'k' });
    expect(r).toEqual({ '@context': 'https://irma.app/ld/request/revocation/v1', type: 'test.test.revocable', revocationKey: 'k' });
    expectProtocolError(() => parseRevocationRequest({ type: 'x' }), 'INVALID_REQUEST', 'not a revocation request');
  });
});
