import { describe, expect, it } from 'vitest';
import {
  cancel,
  commitClientPost,
  completePairing,
  connect,
  getRequest,
  precheckClientPost,
  setFrontendOptions,
  touch,
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

  it('is refused before connecting and passes the precheck once connected', () => {
    expect(precheckClientPost(makeSession(), call, at(0))?.reply).toEqual({
      kind: 'fail',
      failure: { type: 'UNEXPECTED_REQUEST', message: 'Session not yet started or already finished' },
    });
    expect(precheckClientPost(connected(), call, at(2000))).toBeUndefined();
  });

  it('commits DONE once; an identical retry gets the same answer, a different body does not', () => {
    const s = connected();
    const t = commitClientPost(s, { ...call, nonce: s.nonce, verdict }, at(2000));
    expect(t.session!.status).toBe('DONE');
    expect(t.session!.outcome.proofStatus).toBe('VALID');
    expect(t.effects.map((e) => e.kind)).toEqual(['finished']);
    expect(t.reply).toEqual({ kind: 'ok', status: 200, body: '{"proofStatus":"VALID"}' });
    // A second process that verified the same body concurrently sees the winner's answer.
    const loser = commitClientPost(t.session!, { ...call, nonce: s.nonce, verdict }, at(2500));
    expect(loser.reply).toEqual(t.reply);
    expect(loser.session).toBeUndefined();
    expect(loser.effects).toEqual([]);
    const other = commitClientPost(t.session!, { ...call, message: '{}', nonce: s.nonce, verdict }, at(2500));
    expect(other.reply.kind).toBe('fail');
    // Another Authorization never gets the stored answer.
    const stranger = commitClientPost(t.session!, { ...call, authorization: 'x', nonce: s.nonce, verdict }, at(2500));
    expect(stranger.reply.kind).toBe('fail');
  });

  it('does not commit proofs verified against another nonce', () => {
    const s = connected();
    const t = commitClientPost(s, { ...call, nonce: 'AQ==', verdict }, at(2000));
    expect(t.session).toBeUndefined();
    expect(t.reply.kind).toBe('fail');
  });

  it('cancels on a cancelling failure and leaves the session alone on another', () => {
    const s = connected();
    const failure = { type: 'UNKNOWN_PUBLIC_KEY' as const };
    const t = commitClientPost(s, { ...call, nonce: s.nonce, verdict: { ok: false, failure, cancels: true } }, at(2000));
    expect(t.session!.status).toBe('CANCELLED');
    expect(t.session!.outcome).toEqual({ error: failure });
    const n = commitClientPost(
      s,
      { ...call, nonce: s.nonce, verdict: { ok: false, failure: { type: 'NEXT_SESSION' }, cancels: false } },
      at(2000),
    );
    expect(n.session).toBeUndefined();
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
