// Parsed POST /session bodies kept by text: the same frozen request per requestor, never an
// issuance request, bounded; and through the server, sessions of one body that stay their own.
import { describe, expect, it, afterEach } from 'vitest';
import { deepFreeze } from '../../src/protocol/deep-freeze.js';
import { MEMO_ENTRIES, MEMO_MAX_CHARS, RequestMemo } from '../../src/server/request-memo.js';
import type { Session } from '../../src/session/session.js';
import { defaultOptions } from '../../src/server/options.js';
import { RequestorAuthenticator } from '../../src/server/requestor-auth.js';
import { DISCLOSURE, makeHarness, START, startSession, type Harness } from './harness.js';

function counting() {
  let calls = 0;
  const parse = (text: string) => {
    calls++;
    return JSON.parse(text) as { a: { b: number[] } };
  };
  return { parse, calls: () => calls };
}
const always = () => true;

describe('RequestMemo', () => {
  it('hands the same requestor the same deeply frozen value for the same text', () => {
    const memo = new RequestMemo<{ a: { b: number[] } }>();
    const { parse, calls } = counting();
    const first = memo.parse('r', '{"a":{"b":[1,2]}}', parse, always);
    expect(memo.parse('r', '{"a":{"b":[1,2]}}', parse, always)).toBe(first);
    expect(calls()).toBe(1);
    expect(Object.isFrozen(first) && Object.isFrozen(first.a) && Object.isFrozen(first.a.b)).toBe(true);
    expect(() => first.a.b.push(3)).toThrow(TypeError);
    // another text, another requestor: parsed anew
    expect(memo.parse('r', '{"a":{"b":[1,2]} }', parse, always)).not.toBe(first);
    const others = memo.parse('other', '{"a":{"b":[1,2]}}', parse, always);
    expect(others).not.toBe(first);
    expect(calls()).toBe(3);
    // and the other's entry is its own: the first requestor's stays a hit, and so does the other's
    expect(memo.parse('r', '{"a":{"b":[1,2]}}', parse, always)).toBe(first);
    expect(memo.parse('other', '{"a":{"b":[1,2]}}', parse, always)).toBe(others);
    expect(calls()).toBe(3);
  });

  it('keeps neither errors nor what keep refuses, nor long bodies', () => {
    const memo = new RequestMemo<{ a: { b: number[] } }>();
    const { parse, calls } = counting();
    expect(() => memo.parse('r', '{', parse, always)).toThrow(SyntaxError);
    expect(() => memo.parse('r', '{', parse, always)).toThrow(SyntaxError);
    const refused = memo.parse('r', '{"a":{"b":[]}}', parse, () => false);
    expect(Object.isFrozen(refused.a)).toBe(true);
    expect(memo.parse('r', '{"a":{"b":[]}}', parse, () => false)).not.toBe(refused);
    const long = `{"a":{"b":[${'1,'.repeat(MEMO_MAX_CHARS / 2)}1]}}`;
    expect(memo.parse('r', long, parse, always)).not.toBe(memo.parse('r', long, parse, always));
    expect(calls()).toBe(6);
    expect(memo.size).toBe(0);
  });

  it('holds at most MEMO_ENTRIES bodies, dropping the least recently used', () => {
    const memo = new RequestMemo<{ a: { b: number[] } }>();
    const { parse, calls } = counting();
    const text = (i: number) => `{"a":{"b":[${i}]}}`;
    const zero = memo.parse('r', text(0), parse, always);
    for (let i = 1; i < MEMO_ENTRIES; i++) memo.parse('r', text(i), parse, always);
    expect(memo.parse('r', text(0), parse, always)).toBe(zero); // now the most recent
    memo.parse('r', text(MEMO_ENTRIES), parse, always); // pushes out text(1)
    expect(memo.size).toBe(MEMO_ENTRIES);
    const before = calls();
    expect(memo.parse('r', text(0), parse, always)).toBe(zero);
    memo.parse('r', text(1), parse, always);
    expect(calls()).toBe(before + 1);
  });

  it('deepFreeze reaches symbols and array members and leaves frozen values alone', () => {
    const s = Symbol('s');
    const v = deepFreeze({ [s]: { x: [{ y: 1 }] } });
    expect(Object.isFrozen(v[s].x[0])).toBe(true);
  });
});

describe('POST /session with a kept body', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('starts sessions of their own (tokens, nonce) that share one frozen condiscon', async () => {
    h = await makeHarness();
    const a = await startSession(h, DISCLOSURE);
    const b = await startSession(h, DISCLOSURE);
    expect(a.token).not.toBe(b.token);
    const sa = (await h.store.get(a.ct)) as Session;
    const sb = (await h.store.get(b.ct)) as Session;
    expect(sa.nonce).not.toBe(sb.nonce);
    expect((sa.request as { nonce: string }).nonce).toBe(sa.nonce);
    expect((sb.clientRequest as { nonce: string }).nonce).toBe(sb.nonce);
    expect(sa.request.disclose).toEqual([[['irma-demo.MijnOverheid.fullName.firstname']]]);
    expect(sb.request.disclose).toBe(sa.request.disclose);
    expect(sb.clientRequest.disclose).toBe(sa.request.disclose);
    // the app sees each session's own nonce
    const res = await h.inject({ method: 'GET', url: `/irma/session/${b.ct}`, headers: { 'x-irma-minprotocolversion': '2.4', 'x-irma-maxprotocolversion': '2.9', authorization: 'APPauthorization0001' } });
    expect(res.statusCode).toBe(200);
    expect(JSON.stringify(res.json())).toContain(sb.nonce as string);
  });

  it('keeps disclosure requests per requestor and never issuance requests', async () => {
    const auth = new RequestorAuthenticator({ ...defaultOptions(false), noAuth: true }, () => START);
    const issuance = JSON.stringify({
      '@context': 'https://irma.app/ld/request/issuance/v2',
      credentials: [{ credential: 'irma-demo.MijnOverheid.fullName', attributes: { firstnames: 'A', firstname: 'A', familyname: 'B', prefix: 'C' } }],
    });
    const disclosure = JSON.stringify(DISCLOSURE);
    const start = (body: string) => auth.authenticate('application/json', undefined, body);
    expect((await start(disclosure)).request).toBe((await start(disclosure)).request);
    const i1 = (await start(issuance)).request;
    const i2 = (await start(issuance)).request;
    expect(i2).toEqual(i1);
    expect(i2).not.toBe(i1);
  });
});
