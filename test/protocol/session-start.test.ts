import { describe, expect, it } from 'vitest';
import { decodeB64, encodeB64 } from '../../src/idemix/bigint.js';
import { implicitDisclosure, withImplicitDisclosure } from '../../src/protocol/chaining.js';
import { LD_CONTEXT, parseSessionRequest, sessionRequestToJson } from '../../src/protocol/requests.js';
import { parseRequestorRequest } from '../../src/protocol/request-body.js';
import type { DisclosedAttributes } from '../../src/protocol/results.js';
import {
  augmentedReturnUrl,
  frontendSessionRequest,
  generateNonce,
  pairingHint,
  sessionPointer,
  withServerFields,
  type SessionPackage,
} from '../../src/protocol/session-start.js';
import { expectProtocolError, vectors } from './fixtures.js';

describe('session package', () => {
  for (const s of vectors.sessions) {
    it(`${s.label}: pairing hint, pointer and frontend request as the reference made them`, () => {
      const rr = parseRequestorRequest(s.requestorRequest);
      const recorded = s.sessionPackage as unknown as SessionPackage;
      const clientToken = recorded.sessionPtr.u.split('/').pop()!;
      const pkg: SessionPackage = {
        sessionPtr: sessionPointer('http://127.0.0.1:48700/irma/', clientToken, recorded.sessionPtr.irmaqr as 'disclosing'),
        token: recorded.token,
        frontendRequest: frontendSessionRequest(recorded.frontendRequest.authorization, pairingHint(rr)),
      };
      expect(JSON.stringify(pkg)).toBe(JSON.stringify(recorded));
    });
  }

  it('a next session always recommends pairing; a plain disclosure does not', () => {
    const request = { '@context': LD_CONTEXT.disclosing, disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]] };
    expect(pairingHint(parseRequestorRequest({ request }))).toBe(false);
    expect(pairingHint(parseRequestorRequest({ request, nextSession: { url: 'https://x/next' } }))).toBe(true);
    expect(pairingHint(parseRequestorRequest({ request, nextSession: { url: '' } }))).toBe(false);
  });
});

describe('session pointer', () => {
  it('appends session/<ct> to the /irma URL, with or without trailing slash', () => {
    expect(sessionPointer('https://example.com/irma/', 'yKVz9vyW01EvpcjefYGl', 'disclosing')).toEqual({
      u: 'https://example.com/irma/session/yKVz9vyW01EvpcjefYGl',
      irmaqr: 'disclosing',
    });
    expect(sessionPointer('https://example.com/irma', 'abc', 'issuing').u).toBe('https://example.com/irma/session/abc');
  });

  it('a request host replaces the host part only', () => {
    expect(sessionPointer('http://10.0.0.1:8088/irma/', 'abc', 'signing', 'irma.example.com').u).toBe('http://irma.example.com/irma/session/abc');
    expect(sessionPointer('https://a.example/irma/', 'abc', 'signing', 'b.example:8443').u).toBe('https://b.example:8443/irma/session/abc');
    expectProtocolError(() => sessionPointer('https://a.example/irma/', 'abc', 'signing', 'bad host/x'), 'INVALID_REQUEST');
  });
});

describe('server-set fields', () => {
  const request = parseSessionRequest({
    '@context': LD_CONTEXT.disclosing,
    nonce: 'AQID',
    context: 'Ag==',
    devMode: true,
    disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]],
  });

  it('overwrite nonce, context and devMode', () => {
    const out = withServerFields(request, { nonce: encodeB64(0xd8b19a75_9877e842_e4e26fb8_773223fen), devMode: false });
    expect(sessionRequestToJson(out)).toMatchObject({ nonce: '2LGadZh36ELk4m+4dzIj/g==', context: 'AQ==' });
    expect(out.devMode).toBeUndefined();
    expect(withServerFields(request, { nonce: encodeB64(1n), devMode: true }).devMode).toBe(true);
    expect(request.nonce).toBe('AQID');
  });

  it('nonces are fresh 128-bit integers in their minimal encoding', () => {
    const nonces = Array.from({ length: 20_000 }, generateNonce);
    expect(new Set(nonces).size).toBe(nonces.length);
    let shorter = 0;
    let highBit = 0;
    for (const nonce of nonces) {
      const n = decodeB64(nonce);
      expect(n < 1n << 128n).toBe(true);
      expect(encodeB64(n)).toBe(nonce);
      if (n < 1n << 120n) shorter++;
      if (n >= 1n << 127n) highBit++;
    }
    // A leading zero byte (1 in 256) is dropped, not encoded; the top bit is set half the time.
    expect(shorter).toBeGreaterThan(20);
    expect(highBit).toBeGreaterThan(9_000);
    expect(highBit).toBeLessThan(11_000);
  });

  it('return URL augmentation', () => {
    const r = (extra: Record<string, unknown>) =>
      parseSessionRequest({ '@context': LD_CONTEXT.disclosing, disclose: [[['a.b.c.d']]], ...extra });
    expect(augmentedReturnUrl(r({ clientReturnUrl: 'https://x/done', augmentReturnUrl: true }), 'RT', true)).toBe('https://x/done?token=RT');
    expect(augmentedReturnUrl(r({ clientReturnUrl: 'https://x/?a=1', augmentReturnUrl: true }), 'RT', true)).toBe('https://x/?a=1&token=RT');
    expect(augmentedReturnUrl(r({ clientReturnUrl: 'https://x/done', augmentReturnUrl: true }), 'RT', false)).toBe('https://x/done');
    expect(augmentedReturnUrl(r({ clientReturnUrl: 'https://x/done' }), 'RT', true)).toBe('https://x/done');
    expect(augmentedReturnUrl(r({}), 'RT', true)).toBeUndefined();
  });
});

describe('chained sessions', () => {
  const disclosed: DisclosedAttributes = [
    [
      { rawvalue: 'Alice', value: { '': 'Alice', en: 'Alice', nl: 'Alice' }, id: 'a.b.c.first', status: 'PRESENT', issuancetime: 0 },
      { rawvalue: null, value: null, id: 'a.b.c.prefix', status: 'NULL', issuancetime: 0 },
    ],
    [],
    [{ rawvalue: 'present', value: { '': 'present', en: 'present', nl: 'present' }, id: 'a.b.d', status: 'PRESENT', issuancetime: 0 }],
  ];

  it('each disclosed list becomes a single-option disjunction requiring the same values', () => {
    expect(implicitDisclosure(disclosed)).toEqual([
      [[{ type: 'a.b.c.first', value: 'Alice' }, { type: 'a.b.c.prefix' }]],
      [[]],
      [[{ type: 'a.b.d', value: 'present' }]],
    ]);
    expect(implicitDisclosure(undefined)).toEqual([]);
  });

  it('is appended after the request condiscon', () => {
    const cdc = [[[{ type: 'x.y.z.w' }]]];
    expect(withImplicitDisclosure(cdc, implicitDisclosure(disclosed))).toHaveLength(4);
    expect(cdc).toHaveLength(1);
  });
});
