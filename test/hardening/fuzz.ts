// Property-based fuzzing of every endpoint with hostile requests (fast-check). Most cases are cheap
// to reject and go through Fastify's inject; transport-level ones (huge headers, broken HTTP) go
// over a real socket. The properties, checked after every case:
// * the server answers, and keeps answering (no crash);
// * no 5xx, except the protocol's own (SSE_DISABLED, UNSUPPORTED, EXCEPTION with a reason);
//   never INTERNAL_ERROR;
// * every error from the IRMA and requestor APIs is the protocol's error JSON;
// * a live session is left exactly as it was by any request that was refused, unless the protocol
//   ends the session with that very error (a failed verification).
// Used by fuzz.test.ts (a run in the test suite) and `npm run fuzz` (more cases).
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { decodeB64 } from '../../src/idemix/bigint.js';
import { parseRequestorRequest } from '../../src/protocol/request-body.js';
import { createProofChecker } from '../../src/server/proof-checker.js';
import { startSession as startInternal } from '../../src/server/session-factory.js';
import type { Session } from '../../src/session/session.js';
import { REFERENCE_VECTORS } from '../support/reference.js';
import { makeHarness, referenceSchemes, type Harness } from '../server/harness.js';

const REQUESTOR_TOKEN = 'fuzz-requestor-token-0123456789';
const APP_AUTH = 'FuzzAppAuthorization1';
const APP_HEADERS = { authorization: APP_AUTH, 'x-irma-minprotocolversion': '2.4', 'x-irma-maxprotocolversion': '2.8' };

interface RecordedCall {
  requestHeaders: Record<string, string>;
  requestBody?: Record<string, unknown>;
  responseBody: unknown;
}
interface Recorded {
  label: string;
  requestorRequest: Record<string, unknown>;
  client: RecordedCall[];
}
const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as { recordedAtUnix: number; sessions: Recorded[] };
const recorded = (label: string) => vectors.sessions.find((s) => s.label === label)!;
const DISCLOSE = recorded('disclose-firstname');
const ISSUE = recorded('issue-fullName');
const SIGN = recorded('sign-familyname');
const PROOFS_BODY = DISCLOSE.client[1].requestBody!;
const COMMITMENTS_BODY = ISSUE.client[1].requestBody!;
const SIGNATURE_BODY = SIGN.client[1].requestBody!;
const REQUEST_TEMPLATES: Array<Record<string, unknown>> = [
  DISCLOSE.requestorRequest,
  ISSUE.requestorRequest,
  SIGN.requestorRequest,
  { request: DISCLOSE.requestorRequest, validity: 60, timeout: 30, callbackUrl: 'http://127.0.0.1:1/cb' },
  { type: 'disclosing', content: [{ label: 'x', attributes: ['irma-demo.MijnOverheid.fullName.firstname'] }] },
];

// ---------------------------------------------------------------------------------------------
// Hostile JSON

/** A value to put where something else belongs; RAW:… is spliced into the text unquoted. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53 + 1, -(2 ** 63), 1e308, '', '====', 'not base64!', '\u0000', '\ud800'),
  fc.string({ maxLength: 40 }),
  fc.base64String({ maxLength: 64 }),
  fc.integer({ min: 20, max: 2000 }).map((n) => `RAW:${'9'.repeat(n)}`),
  fc.integer({ min: 20, max: 2000 }).map((n) => `RAW:-${'9'.repeat(n)}`),
  fc.constantFrom('RAW:1e400', 'RAW:-0', 'RAW:0.0000001', 'RAW:123456789012345678901234567890.5'),
  fc.integer({ min: 1, max: 64 * 1024 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 60, max: 20_000 }).map((d) => `RAW:${'['.repeat(d)}${']'.repeat(d)}`),
  fc.array(fc.record({ cred: fc.integer({ min: -5, max: 1e6 }), attr: fc.integer({ min: -5, max: 1e6 }) }), { maxLength: 3 }),
);

/** Every path to a value inside `value`. */
function pathsOf(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

/** `template` with the value at `path` replaced (or deleted), as JSON text. */
function mutated(template: unknown, path: Array<string | number>, value: unknown, remove: boolean): string {
  if (path.length === 0) return toText(value);
  const copy = structuredClone(template) as Record<string | number, unknown>;
  let node = copy;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (remove && !Array.isArray(node)) delete node[last];
  else node[last] = value;
  return toText(copy);
}

/** JSON text, with RAW:… strings spliced in as they are. */
function toText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && v.startsWith('RAW:') ? `@@${Buffer.from(v.slice(4)).toString('hex')}@@` : v)).replace(
    /"@@([0-9a-f]*)@@"/g,
    (_m, hex: string) => Buffer.from(hex, 'hex').toString(),
  );
}

/** A hostile body made from `template`: mutated, truncated, deepened, or garbage. */
function hostileBody(template: unknown): fc.Arbitrary<string> {
  const paths = pathsOf(template);
  const text = JSON.stringify(template);
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...paths), hostileValue, fc.boolean()).map(([p, v, rm]) => mutated(template, p, v, rm)) },
    { weight: 2, arbitrary: fc.nat({ max: text.length - 1 }).map((n) => text.slice(0, n)) },
    { weight: 1, arbitrary: fc.integer({ min: 60, max: 20_000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 60, max: 5_000 }).map((d) => `${text.slice(0, -1)},"ignored":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')) },
    { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '{}', '"x"', '1', '{"proofs":null}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}') },
  );
}

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  undefined,
);

/** A token in a URL: of a live session, random, or malformed. */
const tokenKind = fc.constantFrom('live', 'live', 'random', 'malformed', 'done');
const malformedToken = fc.oneof(
  fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s) || 'x'),
  fc.constantFrom('..', '%00', 'a'.repeat(5000), '%2F..%2F', '<script>', 'null', '0'),
);

// ---------------------------------------------------------------------------------------------
// Cases

type Target = 'disclosure' | 'issuance' | 'signature' | 'initialized';

export type FuzzCase =
  | { kind: 'requestor-post'; body: string; contentType?: string; auth: 'valid' | 'wrong' | 'none' | 'huge' }
  | { kind: 'requestor-get'; method: string; sub: string; token: string; tokenKind: string }
  | { kind: 'client-get'; sub: string; target: Target; tokenKind: string; token: string; headers: Record<string, string> }
  | { kind: 'client-post'; endpoint: string; target: Target; tokenKind: string; token: string; body: string; contentType?: string; auth: 'valid' | 'wrong' | 'none' }
  | { kind: 'frontend'; endpoint: string; target: Target; body: string; auth: 'valid' | 'wrong' | 'none' }
  | { kind: 'other'; method: string; url: string; body: string }
  | { kind: 'crypto'; variant: 'other-session' | 'wrong-indices' | 'replay-after-done' | 'commitments-of-another'; indices: unknown };

const METHODS = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');
const target = fc.constantFrom<Target>('disclosure', 'issuance', 'signature', 'initialized');
const templateForTarget = (t: Target) => (t === 'issuance' ? COMMITMENTS_BODY : t === 'signature' ? SIGNATURE_BODY : PROOFS_BODY);

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc
      .record({
        template: fc.constantFrom(...REQUEST_TEMPLATES),
        contentType,
        auth: fc.constantFrom<'valid' | 'wrong' | 'none' | 'huge'>('valid', 'valid', 'wrong', 'none', 'huge'),
        seed: fc.nat(),
      })
      .chain(({ template, contentType, auth }) =>
        hostileBody(template).map((body) => ({ kind: 'requestor-post' as const, body, contentType, auth })),
      ),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('requestor-get' as const),
      method: METHODS,
      sub: fc.constantFrom('status', 'result', 'result-jwt', 'getproof', 'statusevents', '', 'frontend', 'status/extra'),
      tokenKind,
      token: malformedToken,
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('client-get' as const),
      sub: fc.constantFrom('', '/request', '/status', '/statusevents', '/frontend/status', '/frontend/statusevents', '/proofs'),
      target,
      tokenKind,
      token: malformedToken,
      headers: fc.record(
        {
          authorization: fc.oneof(fc.constant(APP_AUTH), fc.string({ maxLength: 30 }), fc.constant('x'.repeat(8000))),
          'x-irma-minprotocolversion': fc.oneof(fc.constantFrom('2.4', '2.8', '3.0', '1.0', '', '2', 'a.b', '99999999999999999999.1'), fc.string({ maxLength: 10 })),
          'x-irma-maxprotocolversion': fc.oneof(fc.constantFrom('2.4', '2.8', '2.9', '', '-1.-1', '2.99999999999999999999'), fc.string({ maxLength: 10 })),
        },
        { requiredKeys: [] },
      ),
    }),
  },
  {
    weight: 30,
    arbitrary: fc
      .record({
        endpoint: fc.constantFrom('/proofs', '/proofs', '/commitments'),
        target,
        tokenKind: fc.constantFrom('live', 'live', 'live', 'random', 'done'),
        token: malformedToken,
        contentType,
        auth: fc.constantFrom<'valid' | 'wrong' | 'none'>('valid', 'valid', 'wrong', 'none'),
      })
      .chain((c) => hostileBody(templateForTarget(c.target)).map((body) => ({ ...c, kind: 'client-post' as const, body }))),
  },
  {
    weight: 8,
    arbitrary: fc
      .record({
        endpoint: fc.constantFrom('/frontend/options', '/frontend/pairingcompleted'),
        target,
        auth: fc.constantFrom<'valid' | 'wrong' | 'none'>('valid', 'wrong', 'none'),
      })
      .chain((c) =>
        hostileBody({ '@context': 'https://irma.app/ld/options/v1', pairingMethod: 'pin' }).map((body) => ({ ...c, kind: 'frontend' as const, body })),
      ),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('other' as const),
      method: METHODS,
      url: fc.oneof(
        fc.constantFrom('/', '/irma', '/irma/', '/irma/session', '/session/', '/publickey', '/revocation', '/health', '/irma/session/x/y/z', '//session', '/session?x=1'),
        fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
      ),
      body: fc.string({ maxLength: 100 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('crypto' as const),
      variant: fc.constantFrom('other-session', 'wrong-indices', 'replay-after-done', 'commitments-of-another'),
      indices: fc.oneof(
        fc.constant(undefined),
        fc.array(fc.array(fc.record({ cred: fc.integer({ min: -2, max: 3 }), attr: fc.integer({ min: -2, max: 12 }) }), { maxLength: 3 }), { maxLength: 3 }),
      ),
    }),
  },
);

// ---------------------------------------------------------------------------------------------
// The server under test, its live sessions, and the checks

interface Live {
  ct: string;
  rt: string;
  frontendAuth: string;
  snapshot: Session;
}

export interface FuzzStats {
  cases: number;
  byKind: Record<string, number>;
  byStatus: Record<string, number>;
  serverErrors: Record<string, number>;
  sessionsEnded: number;
}

export interface Fuzzer {
  run(c: FuzzCase): Promise<void>;
  /** Transport-level cases over a real socket (huge headers, broken HTTP). */
  runRaw(c: RawCase): Promise<void>;
  stats: FuzzStats;
  close(): Promise<void>;
}

export type RawCase = { kind: 'huge-header'; bytes: number } | { kind: 'broken-http'; text: string };

export const rawCase: fc.Arbitrary<RawCase> = fc.oneof(
  fc.integer({ min: 17 * 1024, max: 128 * 1024 }).map((bytes) => ({ kind: 'huge-header' as const, bytes })),
  fc
    .oneof(
      fc.constantFrom(
        'GET / HTTP/1.1\r\n\r\n',
        'GARBAGE\r\n\r\n',
        'GET /health HTTP/9.9\r\nHost: x\r\n\r\n',
        'POST /session HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
        'POST /session HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
        'POST /session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        'GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
        'GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
      ),
      fc.string({ maxLength: 300 }).map((s) => `${s}\r\n\r\n`),
    )
    .map((text) => ({ kind: 'broken-http' as const, text })),
);

export class FuzzFailure extends Error {}

/** Refused requests may end a session only as a failed verification does: with that very error. */
function unchangedOrEndedWith(before: Session, after: Session | undefined, status: number, body: unknown): string | undefined {
  if (after === undefined) return 'session disappeared';
  if (JSON.stringify(after) === JSON.stringify(before)) return undefined;
  if (status < 300) return undefined;
  const error = (body as { error?: string } | undefined)?.error;
  if (after.status === 'CANCELLED' && after.outcome.error?.type === error) return undefined;
  return `session changed by a refused request (${status} ${error}): ${before.status} -> ${after.status}`;
}

const ALLOWED_5XX = new Set(['SSE_DISABLED', 'UNSUPPORTED', 'EXCEPTION', 'NEXT_SESSION']);

export async function startFuzzer(): Promise<Fuzzer> {
  const h: Harness = await makeHarness({
    url: 'http://127.0.0.1:48700',
    noAuth: false,
    requestors: { fuzz: { authMethod: 'token', key: REQUESTOR_TOKEN } },
  });
  const schemes = await referenceSchemes();
  h.server.ctx.checker = createProofChecker(schemes);
  h.clock.now = vectors.recordedAtUnix * 1000;
  // A real listener too, for what inject cannot send.
  await h.server.main.listen({ port: 0, host: '127.0.0.1' });
  const port = (h.server.main.server.address() as { port: number }).port;

  const stats: FuzzStats = { cases: 0, byKind: {}, byStatus: {}, serverErrors: {}, sessionsEnded: 0 };
  const count = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

  async function create(rr: unknown, nonce?: bigint): Promise<Omit<Live, 'snapshot'>> {
    const started = await startInternal(h.server.ctx, parseRequestorRequest(structuredClone(rr)), { requestor: 'fuzz', nonce });
    return { ct: started.session.clientToken, rt: started.package.token, frontendAuth: started.session.frontendAuth };
  }
  async function connectApp(ct: string): Promise<void> {
    const res = await h.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: APP_HEADERS });
    if (res.statusCode !== 200) throw new FuzzFailure(`could not connect a live session: ${res.body}`);
  }
  async function snapshot(s: Omit<Live, 'snapshot'>): Promise<Live> {
    return { ...s, snapshot: (await h.store.get(s.ct))! };
  }
  async function liveSession(t: Target): Promise<Live> {
    const rr = t === 'issuance' ? ISSUE.requestorRequest : t === 'signature' ? SIGN.requestorRequest : DISCLOSE.requestorRequest;
    const s = await create(rr);
    if (t !== 'initialized') await connectApp(s.ct);
    return snapshot(s);
  }
  const live: Record<Target, Live> = {
    disclosure: await liveSession('disclosure'),
    issuance: await liveSession('issuance'),
    signature: await liveSession('signature'),
    initialized: await liveSession('initialized'),
  };
  // A session that is DONE (VALID), by its recorded proofs.
  async function doneSession(): Promise<Live> {
    const nonce = decodeB64((DISCLOSE.client[0].responseBody as { request: { nonce: string } }).request.nonce);
    const s = await create(DISCLOSE.requestorRequest, nonce);
    await connectApp(s.ct);
    const res = await h.inject({ method: 'POST', url: `/irma/session/${s.ct}/proofs`, headers: { ...APP_HEADERS, 'content-type': 'application/json' }, payload: JSON.stringify(PROOFS_BODY) });
    if (res.json().proofStatus !== 'VALID') throw new FuzzFailure(`recorded proofs not VALID: ${res.body}`);
    return snapshot(s);
  }
  const done = await doneSession();

  function checkResponse(status: number, url: string, body: string, contentType: string | undefined, what: string): unknown {
    count(stats.byStatus, String(status));
    let parsed: unknown;
    if (status >= 400) {
      const protocolRoute = /^\/(irma|session)(\/|$)/.test(url.split('?')[0]);
      if (contentType?.startsWith('application/json')) {
        try {
          parsed = JSON.parse(body);
        } catch {
          throw new FuzzFailure(`${what}: error body is not JSON: ${body.slice(0, 200)}`);
        }
        const error = (parsed as { error?: unknown }).error;
        if (typeof error !== 'string') throw new FuzzFailure(`${what}: error JSON without "error": ${body.slice(0, 200)}`);
        if (status >= 500) {
          count(stats.serverErrors, `${status} ${error}: ${(parsed as { message?: string }).message ?? ''}`);
          if (!ALLOWED_5XX.has(error)) throw new FuzzFailure(`${what}: ${status} ${body.slice(0, 300)}`);
        }
      } else if (protocolRoute && status !== 404) {
        throw new FuzzFailure(`${what}: ${status} without the protocol's error JSON: ${body.slice(0, 200)}`);
      } else if (status >= 500) {
        throw new FuzzFailure(`${what}: ${status} ${body.slice(0, 200)}`);
      }
    } else if (contentType?.startsWith('application/json')) {
      try {
        parsed = JSON.parse(body);
      } catch {
        /* a 2xx body need not be JSON (text/event-stream, plain text) */
      }
    }
    return parsed;
  }

  async function send(o: InjectOptions, what: string) {
    const res = await h.inject(o);
    const url = typeof o.url === 'string' ? o.url : '';
    // A HEAD answer has no body to check.
    const type = o.method === 'HEAD' ? undefined : (res.headers['content-type'] as string | undefined);
    if (o.method === 'HEAD' && res.statusCode >= 500) throw new FuzzFailure(`${what}: ${res.statusCode}`);
    const parsed = o.method === 'HEAD' ? undefined : checkResponse(res.statusCode, url, res.body, type, what);
    if (o.method === 'HEAD') count(stats.byStatus, String(res.statusCode));
    return { status: res.statusCode, parsed, body: res.body };
  }

  /** After a case on a live session: it must be as it was, or legitimately changed (then replaced). */
  async function checkLive(t: Target | 'done', status: number, parsed: unknown, what: string) {
    const s = t === 'done' ? done : live[t];
    const after = await h.store.get(s.ct);
    const problem = unchangedOrEndedWith(s.snapshot, after, status, parsed);
    if (problem) throw new FuzzFailure(`${what}: ${problem}`);
    if (t !== 'done' && JSON.stringify(after) !== JSON.stringify(s.snapshot)) {
      stats.sessionsEnded++;
      live[t] = await liveSession(t);
    }
  }

  function tokenFor(kind: string, random: string, s: Live, which: 'ct' | 'rt'): string {
    if (kind === 'live') return s[which];
    if (kind === 'done') return done[which];
    if (kind === 'random') return which === 'ct' ? 'abcdefghijklmnopqrst' : 'ABCDEFGHIJKLMNOPQRST';
    return random;
  }

  async function runCrypto(c: Extract<FuzzCase, { kind: 'crypto' }>, what: string) {
    if (c.variant === 'replay-after-done') {
      for (const body of [JSON.stringify(PROOFS_BODY), JSON.stringify({ ...PROOFS_BODY, indices: c.indices ?? [] })]) {
        const r = await send({ method: 'POST', url: `/irma/session/${done.ct}/proofs`, headers: { ...APP_HEADERS, 'content-type': 'application/json' }, payload: body }, what);
        await checkLive('done', r.status, r.parsed, what);
        if (body === JSON.stringify(PROOFS_BODY) && JSON.stringify(r.parsed) !== JSON.stringify({ proofStatus: 'VALID' })) {
          throw new FuzzFailure(`${what}: replay after DONE answered ${r.body}`);
        }
      }
      return;
    }
    const issuing = c.variant === 'commitments-of-another';
    // Wrong indices are checked only after the proofs verify: that session gets the recorded nonce.
    const recordedNonce = decodeB64((DISCLOSE.client[0].responseBody as { request: { nonce: string } }).request.nonce);
    const s = await create(issuing ? ISSUE.requestorRequest : DISCLOSE.requestorRequest, c.variant === 'wrong-indices' ? recordedNonce : undefined);
    await connectApp(s.ct);
    const before = (await h.store.get(s.ct))!;
    const body = issuing ? COMMITMENTS_BODY : c.variant === 'wrong-indices' ? { ...PROOFS_BODY, indices: c.indices ?? [[{ cred: 7, attr: 99 }]] } : PROOFS_BODY;
    const url = `/irma/session/${s.ct}/${issuing ? 'commitments' : 'proofs'}`;
    const post = () => send({ method: 'POST', url, headers: { ...APP_HEADERS, 'content-type': 'application/json' }, payload: JSON.stringify(body) }, what);
    const first = await post();
    const after = await h.store.get(s.ct);
    const problem = unchangedOrEndedWith(before, after, first.status, first.parsed);
    if (problem) throw new FuzzFailure(`${what}: ${problem}`);
    if (c.variant !== 'wrong-indices' && first.status === 200 && (first.parsed as { proofStatus?: string }).proofStatus === 'VALID') {
      throw new FuzzFailure(`${what}: proofs of another session accepted as VALID`);
    }
    // The same POST again (the app retrying) gets the same answer and changes nothing.
    const again = await post();
    if (again.body !== first.body && after?.status !== 'CANCELLED') throw new FuzzFailure(`${what}: retry answered ${again.body}, first ${first.body}`);
    if (JSON.stringify(await h.store.get(s.ct)) !== JSON.stringify(after)) throw new FuzzFailure(`${what}: retry changed the session`);
  }

  async function run(c: FuzzCase): Promise<void> {
    stats.cases++;
    count(stats.byKind, c.kind);
    const what = `case ${JSON.stringify(c).slice(0, 300)}`;
    switch (c.kind) {
      case 'requestor-post': {
        const headers: Record<string, string> = {};
        if (c.contentType) headers['content-type'] = c.contentType;
        if (c.auth === 'valid') headers.authorization = REQUESTOR_TOKEN;
        if (c.auth === 'wrong') headers.authorization = 'wrong-token';
        if (c.auth === 'huge') headers.authorization = 'h'.repeat(8000);
        await send({ method: 'POST', url: '/session', headers, payload: c.body }, what);
        return;
      }
      case 'requestor-get': {
        const s = live.disclosure;
        // Cancelling a live session with its own token is no attack: the requestor may.
        const kind = c.method === 'DELETE' && c.tokenKind === 'live' ? 'random' : c.tokenKind;
        const token = tokenFor(kind, c.token, s, 'rt');
        const r = await send({ method: c.method as InjectOptions['method'], url: `/session/${token}${c.sub ? `/${c.sub}` : ''}` }, what);
        await checkLive('disclosure', r.status, r.parsed, what);
        return;
      }
      case 'client-get': {
        const token = tokenFor(c.tokenKind, c.token, live[c.target], 'ct');
        const r = await send({ method: 'GET', url: `/irma/session/${token}${c.sub}`, headers: c.headers }, what);
        await checkLive(c.tokenKind === 'done' ? 'done' : c.target, r.status, r.parsed, what);
        return;
      }
      case 'client-post': {
        const token = tokenFor(c.tokenKind, c.token, live[c.target], 'ct');
        const headers: Record<string, string> = { 'x-irma-minprotocolversion': '2.4', 'x-irma-maxprotocolversion': '2.8' };
        if (c.contentType) headers['content-type'] = c.contentType;
        if (c.auth === 'valid') headers.authorization = APP_AUTH;
        if (c.auth === 'wrong') headers.authorization = 'WrongAppAuthorization';
        const r = await send({ method: 'POST', url: `/irma/session/${token}${c.endpoint}`, headers, payload: c.body }, what);
        await checkLive(c.tokenKind === 'done' ? 'done' : c.target, r.status, r.parsed, what);
        return;
      }
      case 'frontend': {
        const s = live[c.target];
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (c.auth === 'valid') headers.authorization = s.frontendAuth;
        if (c.auth === 'wrong') headers.authorization = 'wrong-frontend-auth';
        const r = await send({ method: 'POST', url: `/irma/session/${s.ct}${c.endpoint}`, headers, payload: c.body }, what);
        await checkLive(c.target, r.status, r.parsed, what);
        return;
      }
      case 'other':
        await send({ method: c.method as InjectOptions['method'], url: c.url, payload: c.method === 'GET' || c.method === 'HEAD' ? undefined : c.body }, what);
        return;
      case 'crypto':
        await runCrypto(c, what);
        return;
    }
  }

  async function runRaw(c: RawCase): Promise<void> {
    stats.cases++;
    count(stats.byKind, c.kind);
    const text =
      c.kind === 'huge-header'
        ? `GET /session/${live.disclosure.rt}/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ${'h'.repeat(c.bytes)}\r\n\r\n`
        : c.text;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (data += d));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(data));
      socket.setTimeout(5000, () => {
        socket.destroy();
        reject(new FuzzFailure(`raw case held open: ${JSON.stringify(c).slice(0, 200)}`));
      });
      socket.end(text);
    });
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
    count(stats.byStatus, String(status));
    if (status >= 500) throw new FuzzFailure(`raw case ${JSON.stringify(c).slice(0, 200)}: ${answer.slice(0, 300)}`);
    if (c.kind === 'huge-header' && status !== 431) throw new FuzzFailure(`huge header answered ${answer.slice(0, 200)}`);
    await checkLive('disclosure', status, undefined, 'raw case');
  }

  return {
    run,
    runRaw,
    stats,
    async close() {
      // Still alive and serving after everything.
      const res = await h.inject({ method: 'GET', url: '/health' });
      if (res.statusCode !== 200) throw new FuzzFailure(`server unhealthy after fuzzing: ${res.statusCode}`);
      await h.close();
    },
  };
}

/** Runs `cases` cases (2% of them over a real socket) and returns the statistics. */
export async function fuzz(cases: number, seed?: number): Promise<FuzzStats> {
  const fuzzer = await startFuzzer();
  try {
    const raw = Math.max(1, Math.floor(cases / 50));
    await fc.assert(fc.asyncProperty(fuzzCase, (c) => fuzzer.run(c)), { numRuns: cases - raw, seed, endOnFailure: true });
    await fc.assert(fc.asyncProperty(rawCase, (c) => fuzzer.runRaw(c)), { numRuns: raw, seed, endOnFailure: true });
    return fuzzer.stats;
  } finally {
    await fuzzer.close();
  }
}

export function describeStats(s: FuzzStats, ms: number): string {
  const fmt = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  return [
    `fuzz: ${s.cases} hostile requests in ${(ms / 1000).toFixed(1)} s, no crash, no failed property`,
    `  by kind:   ${fmt(s.byKind)}`,
    `  by status: ${fmt(s.byStatus)}`,
    `  5xx (protocol-defined only): ${fmt(s.serverErrors) || 'none'}`,
    `  live sessions legitimately ended (a verdict) and replaced: ${s.sessionsEnded}`,
  ].join('\n');
}
