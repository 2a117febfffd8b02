import { describe, expect, it } from 'vitest';
import {
  cancel,
  claimClientPost,
  commitClientPost,
  completePairing,
  connect,
  getRequest,
  precheckClientPost,
  releaseClaim,
  renewClaim,
  setFrontendOptions,
  touch,
  type ClaimEvent,
  type ConnectEvent,
  type MachineContext,
} from '../../src/session/machine.js';
import { retention, deadline } from '../../src/session/lifetimes.js';
import { parseProtocolVersion as parseVersion } from '../../src/protocol/versions.js';
import type { Session } from '../../src/session/session.js';
import { LIFETIMES, T0, makeSession } from './fixtures.js';

const at = (ms: number): MachineContext => ({ now: T0 + ms, lifetimes: LIFETIMES });
const connectEvent = (patch: Partial<ConnectEvent> = {}): ConnectEvent => ({
  endpoint: '',
  message: '',
  authorization: 'APPauth',
  minVersion: parseVersion('2.4')!,
  maxVersion: parseVersion('2.9')!,
  negotiation: { acceptInsecure: false },
  ...patch,
});
const connected = (patch: Partial<Session> = {}): Session =>
  connect(makeSession(patch), connectEvent(), at(1000)).session!;

describe('connect', () => {
  it('negotiates 2.8, stores the client authorization and answers the wrapped request', () => {
    const t = connect(makeSession(), connectEvent(), at(1000));
    expect(t.session!.status).toBe('CONNECTED');
    expect(t.session!.protocolVersion).toBe('2.8');
    expect(t.session!.clientAuth).toBe('APPauth');
    expect(t.session!.lastActive).toBe(T0 + 1000);
    expect(t.reply.kind).toBe('ok');
    const body = JSON.parse((t.reply as { body: string }).body);
    expect(body['@context']).toBe('https://irma.app/ld/request/client/v1');
    expect(body.options).toEqual({ '@context': 'https://irma.app/ld/options/v1', pairingMethod: 'none' });
    expect(body.request.nonce).toBe('a1H3e/D/e4BS+o1pOZb3lg==');
    expect(body.request.protocolVersion).toBe('2.8');
    expect(t.effects).toEqual([]);
  });

  it('goes to PAIRING without sending the request when pin pairing is on', () => {
    const s = makeSession({ options: { pairingMethod: 'pin', pairingCode: '0123' } });
    const t = connect(s, connectEvent(), at(0));
    expect(t.session!.status).toBe('PAIRING');
    const body = JSON.parse((t.reply as { body: string }).body);
    expect(body.request).toBeUndefined();
    expect(body.options.pairingCode).toBe('0123');
  });

  it('cancels on a version range without overlap, with PROTOCOL_VERSION in the result', () => {
    const t = connect(makeSession(), connectEvent({ maxVersion: parseVersion('2.7')! }), at(0));
    expect(t.reply).toEqual({ kind: 'fail', failure: { type: 'PROTOCOL_VERSION' } });
    expect(t.session!.status).toBe('CANCELLED');
    expect(t.session!.outcome.error?.type).toBe('PROTOCOL_VERSION');
    expect(t.effects.map((e) => e.kind)).toEqual(['finished']);
  });

  it('accepts lower versions only with the insecure flag, then answers the bare request', () => {
    const ev = connectEvent({ minVersion: parseVersion('2.5')!, maxVersion: parseVersion('2.7')!, authorization: undefined });
    expect(connect(makeSession(), ev, at(0)).session!.status).toBe('CANCELLED');
    const t = connect(makeSession(), { ...ev, negotiation: { acceptInsecure: true } }, at(0));
    expect(t.session!.protocolVersion).toBe('2.7');
    const body = JSON.parse((t.reply as { body: string }).body);
    expect(body['@context']).toBe('https://irma.app/ld/request/disclosure/v2');
    expect(body.protocolVersion).toBe('2.7');
  });

  it('cancels when the app sends no Authorization at 2.8', () => {
    const t = connect(makeSession(), connectEvent({ authorization: undefined }), at(0));
    expect(t.reply).toEqual({
      kind: 'fail',
      failure: { type: 'UNAUTHORIZED', message: 'No authorization header provided' },
    });
    expect(t.session!.status).toBe('CANCELLED');
  });

  it('replays an identical GET within 10 s and refuses afterwards', () => {
    const first = connect(makeSession(), connectEvent(), at(0));
    const again = connect(first.session!, connectEvent(), at(9_000));
    expect(again.reply).toEqual(first.reply);
    expect(again.session).toBeUndefined();
    const late = connect(first.session!, connectEvent(), at(10_001));
    expect(late.reply).toEqual({ kind: 'fail', failure: { type: 'UNEXPECTED_REQUEST', message: 'Session already started' } });
  });
});

describe('pairing and the request endpoint', () => {
  it('runs options -> connect -> PAIRING_REQUIRED -> pairingcompleted -> request', () => {
    const opt = setFrontendOptions(makeSession(), { pairingMethod: 'pin', pairingCode: '4802' }, at(0));
    expect(JSON.parse((opt.reply as { body: string }).body)).toEqual({
      '@context': 'https://irma.app/ld/options/v1',
      pairingMethod: 'pin',
      pairingCode: '4802',
    });
    const pairing = connect(opt.session!, connectEvent(), at(0)).session!;
    const call = { endpoint: '/request', message: '', authorization: 'APPauth' };
    expect(getRequest(pairing, call, at(0)).reply).toEqual({ kind: 'fail', failure: { type: 'PAIRING_REQUIRED' } });
    expect(setFrontendOptions(pairing, { pairingMethod: 'pin', pairingCode: '1' }, at(0)).reply.kind).toBe('fail');
    const done = completePairing(pairing, at(0));
    expect(done.reply).toEqual({ kind: 'ok', status: 204, body: undefined });
    expect(done.session!.status).toBe('CONNECTED');
    const req = getRequest(done.session!, call, at(0));
    expect(JSON.parse((req.reply as { body: string }).body).nonce).toBe('a1H3e/D/e4BS+o1pOZb3lg==');
    expect(getRequest(done.session!, { ...call, authorization: 'other' }, at(0)).reply).toEqual({
      kind: 'fail',
      failure: { type: 'UNAUTHORIZED' },
    });
  });

  it('refuses pairingcompleted outside PAIRING and unknown pairing methods; "" keeps, none clears', () => {
    expect(completePairing(makeSession(), at(0)).reply).toEqual({
      kind: 'fail',
      failure: { type: 'UNEXPECTED_REQUEST', message: 'Pairing was not enabled' },
    });
    expect(setFrontendOptions(makeSession(), { pairingMethod: 'sms', pairingCode: '1' }, at(0)).reply).toEqual({
      kind: 'fail',
      failure: { type: 'UNEXPECTED_REQUEST', message: 'Pairing method unknown' },
    });
    const pin = makeSession({ options: { pairingMethod: 'pin', pairingCode: '1111' } });
    expect(setFrontendOptions(pin, { pairingMethod: '', pairingCode: '2222' }, at(0)).session).toBeUndefined();
    expect(setFrontendOptions(pin, { pairingMethod: 'none', pairingCode: '2' }, at(0)).session!.options).toEqual({
      pairingMethod: 'none',
    });
  });
});

describe('posting proofs', () => {
  const call = { endpoint: '/proofs', message: '{"proofs":[]}', authorization: 'APPauth' };
  const verdict = {
    ok: true as const,
    outcome: { proofStatus: 'VALID' as const, disclosed: [] },
    response: { proofStatus: 'VALID' },
  };
  const claimEvent = (claimant: string, patch: Partial<ClaimEvent> = {}): ClaimEvent => ({
    ...call,
    claimant,
    request: 'digest-of-proofs',
    lifetimeMs: 30_000,
    ...patch,
  });
  /** A connected session whose POST `claimant` claimed at 2 s. */
  const claimedBy = (claimant: string, s = connected()): Session => claimClientPost(s, claimEvent(claimant), at(2000)).session!;

  it('is refused before connecting and passes the precheck once connected', () => {
    expect(precheckClientPost(makeSession(), call, at(0))?.reply).toEqual({
      kind: 'fail',
      failure: { type: 'UNEXPECTED_REQUEST', message: 'Session not yet started or already finished' },
    });
    expect(precheckClientPost(connected(), call, at(2000))).toBeUndefined();
  });

  it('commits DONE once; an identical retry gets the same answer, a different body does not', () => {
    const s = claimedBy('A');
    const t = commitClientPost(s, { ...call, nonce: s.nonce, claimant: 'A', verdict }, at(2000));
    expect(t.held).toBe(true);
    expect(t.session!.status).toBe('DONE');
    expect(t.session!.outcome.proofStatus).toBe('VALID');
    expect(t.session!.claim).toBeUndefined();
    expect(t.effects.map((e) => e.kind)).toEqual(['finished']);
    expect(t.reply).toEqual({ kind: 'ok', status: 200, body: '{"proofStatus":"VALID"}' });
    // A second process that verified the same body concurrently sees the winner's answer.
    const loser = commitClientPost(t.session!, { ...call, nonce: s.nonce, claimant: 'B', verdict }, at(2500));
    expect(loser.reply).toEqual(t.reply);
    expect(loser.session).toBeUndefined();
    expect(loser.effects).toEqual([]);
    const other = commitClientPost(t.session!, { ...call, message: '{}', nonce: s.nonce, claimant: 'B', verdict }, at(2500));
    expect(other.reply.kind).toBe('fail');
    // Another Authorization never gets the stored answer.
    const stranger = commitClientPost(t.session!, { ...call, authorization: 'x', nonce: s.nonce, claimant: 'B', verdict }, at(2500));
    expect(stranger.reply.kind).toBe('fail');
  });

  it('does not commit proofs verified against another nonce', () => {
    const s = claimedBy('A');
    const t = commitClientPost(s, { ...call, nonce: 'AQ==', claimant: 'A', verdict }, at(2000));
    expect(t.session).toBeUndefined();
    expect(t.reply.kind).toBe('fail');
  });

  it('cancels on a cancelling failure and only drops the claim on another', () => {
    const s = claimedBy('A');
    const failure = { type: 'UNKNOWN_PUBLIC_KEY' as const };
    const t = commitClientPost(s, { ...call, nonce: s.nonce, claimant: 'A', verdict: { ok: false, failure, cancels: true } }, at(2000));
    expect(t.session!.status).toBe('CANCELLED');
    expect(t.session!.outcome).toEqual({ error: failure });
    expect(t.session!.claim).toBeUndefined();
    const n = commitClientPost(
      s,
      { ...call, nonce: s.nonce, claimant: 'A', verdict: { ok: false, failure: { type: 'NEXT_SESSION' }, cancels: false } },
      at(2000),
    );
    expect(n.reply).toEqual({ kind: 'fail', failure: { type: 'NEXT_SESSION' } });
    expect(n.session).toEqual({ ...s, claim: undefined });
  });
});

describe('claiming the app\'s POST', () => {
  const call = { endpoint: '/proofs', message: '{"proofs":[]}', authorization: 'APPauth' };
  const verdict = { ok: true as const, outcome: { proofStatus: 'VALID' as const }, response: { proofStatus: 'VALID' } };
  const claimEvent = (claimant: string, patch: Partial<ClaimEvent> = {}): ClaimEvent => ({
    ...call,
    claimant,
    request: 'digest-of-proofs',
    lifetimeMs: 30_000,
    ...patch,
  });

  it('records claimant, deadline and request digest on a connected session, and nothing else', () => {
    const s = connected();
    const t = claimClientPost(s, claimEvent('A'), at(2000));
    expect(t.held).toBe(true);
    expect(t.retry).toBeUndefined();
    expect(t.session).toEqual({ ...s, claim: { claimant: 'A', until: T0 + 32_000, request: 'digest-of-proofs' } });
    expect(t.effects).toEqual([]);
    // Lost in a failover, the claim would let a second process start the same work.
    expect(t.durable).toBe(true);
  });

  it('refuses like the protocol before connecting, and with the wrong Authorization', () => {
    const early = claimClientPost(makeSession(), claimEvent('A'), at(0));
    expect(early.held).toBe(false);
    expect(early.session).toBeUndefined();
    expect(early.reply).toMatchObject({ kind: 'fail', failure: { type: 'UNEXPECTED_REQUEST' } });
    const stranger = claimClientPost(connected(), claimEvent('A', { authorization: 'x' }), at(2000));
    expect(stranger.reply).toEqual({ kind: 'fail', failure: { type: 'UNAUTHORIZED' } });
    expect(stranger.session).toBeUndefined();
  });

  it('makes the same request wait for a live claim and refuses a different one, changing nothing', () => {
    const s = claimClientPost(connected(), claimEvent('A'), at(2000)).session!;
    const same = claimClientPost(s, claimEvent('B'), at(31_999));
    expect(same.held).toBe(false);
    expect(same.retry).toEqual({ busy: s.claim });
    expect(same.session).toBeUndefined();
    const different = claimClientPost(s, claimEvent('B', { message: '{}', request: 'other-digest' }), at(3000));
    expect(different.held).toBe(false);
    expect(different.retry).toBeUndefined();
    expect(different.reply).toEqual({
      kind: 'fail',
      failure: { type: 'UNEXPECTED_REQUEST', message: 'Session is already handling another request' },
    });
    expect(different.session).toBeUndefined();
  });

  it('lets the next attempt take over a claim past its deadline; the old claimant cannot commit', () => {
    const s = claimClientPost(connected(), claimEvent('A'), at(2000)).session!;
    const taken = claimClientPost(s, claimEvent('B'), at(32_000));
    expect(taken.held).toBe(true);
    expect(taken.session!.claim).toEqual({ claimant: 'B', until: T0 + 62_000, request: 'digest-of-proofs' });
    const late = commitClientPost(taken.session!, { ...call, nonce: s.nonce, claimant: 'A', verdict }, at(33_000));
    expect(late.held).toBe(false);
    expect(late.session).toBeUndefined();
    expect(late.retry).toEqual({ busy: taken.session!.claim });
    // The claimant that crashed is gone and nobody holds the request: the late one retries from scratch.
    const orphan = commitClientPost(taken.session!, { ...call, nonce: s.nonce, claimant: 'A', verdict }, at(62_000));
    expect(orphan.retry).toEqual({ busy: undefined });
    // The new claimant commits, and its answer is what everyone else then replays.
    const done = commitClientPost(taken.session!, { ...call, nonce: s.nonce, claimant: 'B', verdict }, at(33_000));
    expect(done.session!.status).toBe('DONE');
    expect(claimClientPost(done.session!, claimEvent('A'), at(34_000)).reply).toEqual(done.reply);
  });

  it('takes over at once a claim whose process was found dead, and only that process\'s', () => {
    const s = claimClientPost(connected(), claimEvent('A', { process: 'procA' }), at(2000)).session!;
    expect(s.claim).toEqual({ claimant: 'A', until: T0 + 32_000, request: 'digest-of-proofs', process: 'procA' });
    // Another process found dead says nothing about procA: the request still waits.
    const wrong = claimClientPost(s, claimEvent('B', { process: 'procB', deadProcess: 'procC' }), at(2500));
    expect(wrong.held).toBe(false);
    expect(wrong.retry).toEqual({ busy: s.claim });
    const taken = claimClientPost(s, claimEvent('B', { process: 'procB', deadProcess: 'procA' }), at(2500));
    expect(taken.held).toBe(true);
    expect(taken.session!.claim).toEqual({ claimant: 'B', until: T0 + 32_500, request: 'digest-of-proofs', process: 'procB' });
    // The dead process's attempt cannot commit any more.
    expect(commitClientPost(taken.session!, { ...call, nonce: s.nonce, claimant: 'A', verdict }, at(2600)).held).toBe(false);
    // A different request may take the claim of a dead process too.
    const other = claimClientPost(s, claimEvent('C', { message: '{}', request: 'other-digest', deadProcess: 'procA' }), at(2500));
    expect(other.held).toBe(true);
  });

  it('renews only a claim still held or free, extending it from now', () => {
    const s = claimClientPost(connected(), claimEvent('A'), at(2000)).session!;
    const renewed = renewClaim(s, claimEvent('A', { lifetimeMs: 40_000 }), at(10_000));
    expect(renewed.held).toBe(true);
    expect(renewed.session!.claim!.until).toBe(T0 + 50_000);
    const stolen = renewClaim(s, claimEvent('B'), at(10_000));
    expect(stolen.held).toBe(false);
    expect(stolen.retry).toEqual({ busy: s.claim });
  });

  it('releases only its own claim, so a failed attempt lets the next one in', () => {
    const s = claimClientPost(connected(), claimEvent('A'), at(2000)).session!;
    expect(releaseClaim(s, { claimant: 'B' }, at(3000)).session).toBeUndefined();
    const released = releaseClaim(s, { claimant: 'A' }, at(3000)).session!;
    expect(released.claim).toBeUndefined();
    expect(released.status).toBe('CONNECTED');
    expect(claimClientPost(released, claimEvent('B'), at(3000)).held).toBe(true);
  });

  it('drops the claim when the session ends otherwise (cancel, timeout)', () => {
    const s = claimClientPost(connected(), claimEvent('A'), at(2000)).session!;
    expect(cancel(s, at(3000)).session!.claim).toBeUndefined();
    const expired = touch(s, at(1000 + 15 * 60_000)).session!;
    expect(expired.status).toBe('TIMEOUT');
    expect(expired.claim).toBeUndefined();
    const late = commitClientPost(expired, { ...call, nonce: s.nonce, claimant: 'A', verdict }, at(1000 + 15 * 60_000));
    expect(late.held).toBe(false);
    expect(late.reply.kind).toBe('fail');
  });
});

describe('cancel and timeouts', () => {
  it('cancels an unfinished session once and resets its outcome; finished sessions stay', () => {
    const t = cancel(connected(), at(5000));
    expect(t.session!.status).toBe('CANCELLED');
    expect(t.session!.outcome).toEqual({});
    expect(t.effects).toHaveLength(1);
    const again = cancel(t.session!, at(6000));
    expect(again.session).toBeUndefined();
    expect(again.reply).toEqual({ kind: 'ok', status: 200, body: undefined });
  });

  it('times out an INITIALIZED session after its request timeout, persisting TIMEOUT once', () => {
    const s = makeSession({ timeout: 1 });
    expect(touch(s, at(999)).session).toBeUndefined();
    const t = touch(s, at(1500));
    expect(t.session!.status).toBe('TIMEOUT');
    expect(t.session!.lastActive).toBe(T0 + 1000);
    expect(t.effects).toHaveLength(1);
    expect(touch(t.session!, at(2000)).session).toBeUndefined();
    // The app arriving late is refused, and the timeout is what gets written.
    const late = connect(s, connectEvent(), at(1500));
    expect(late.session!.status).toBe('TIMEOUT');
    expect(late.reply.kind).toBe('fail');
  });

  it('uses max_session_lifetime once connected and keeps results for session_result_lifetime', () => {
    const s = connected({ timeout: 2 });
    expect(deadline(s, LIFETIMES)).toBe(T0 + 1000 + 15 * 60_000);
    expect(touch(s, at(1000 + 15 * 60_000 - 1)).session).toBeUndefined();
    expect(touch(s, at(1000 + 15 * 60_000)).session!.status).toBe('TIMEOUT');
    expect(retention(s, LIFETIMES, T0 + 1000)).toBe(20 * 60_000);
    const done = cancel(s, at(60_000)).session!;
    expect(retention(done, LIFETIMES, T0 + 60_000)).toBe(5 * 60_000);
    expect(retention(done, LIFETIMES, T0 + 60_000 + 5 * 60_000)).toBe(0);
  });
});
