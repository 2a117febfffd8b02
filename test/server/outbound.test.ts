// Callbacks and chained sessions over real HTTP (spec §3.5, §9.1; §13.20, 23).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RESPONSE_BYTES, post } from '../../src/server/outbound.js';
import { REFERENCE_JWTKEYS } from '../support/reference.js';
import { APP_HEADERS, DISCLOSURE } from './harness.js';
import { endpoint, JSON_HEADERS, startLive, type LiveServer } from './live.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function live(patch = {}): Promise<LiveServer> {
  const l = await startLive(patch);
  cleanup.push(() => l.running.close());
  return l;
}

async function start(l: LiveServer, body: unknown) {
  const res = await fetch(`${l.base}/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  const pkg = await res.json();
  return { token: pkg.token as string, ct: pkg.sessionPtr.u.split('/').pop() as string, pkg };
}

async function appFinishes(l: LiveServer, ct: string, endpoint = 'proofs') {
  const connect = await fetch(`${l.base}/irma/session/${ct}`, { headers: APP_HEADERS });
  expect(connect.status).toBe(200);
  return fetch(`${l.base}/irma/session/${ct}/${endpoint}`, { method: 'POST', headers: { ...APP_HEADERS, ...JSON_HEADERS }, body: endpoint === 'proofs' ? '{}' : '{"n_2":"AQ==","combinedProofs":[]}' });
}

describe('callbacks (§13.20)', () => {
  it('POSTs the JSON result once when the session ends, without a key', async () => {
    const cb = await endpoint((_r, res) => res.end());
    cleanup.push(cb.close);
    const l = await live({ allowUnsignedCallbacks: true });
    const s = await start(l, { callbackUrl: cb.url, request: DISCLOSURE });
    expect((await appFinishes(l, s.ct)).status).toBe(200);
    await cb.waitFor(1);
    expect(cb.received[0].headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(cb.received[0].headers['user-agent']).toBe('irmago');
    expect(JSON.parse(cb.received[0].body)).toMatchObject({ token: s.token, status: 'DONE', proofStatus: 'VALID' });
    await fetch(`${l.base}/session/${s.token}`, { method: 'DELETE' });
    await new Promise((r) => setTimeout(r, 200));
    expect(cb.received).toHaveLength(1);
  });

  it('POSTs a result JWT when a key is installed, also for a cancel', async () => {
    const cb = await endpoint((_r, res) => res.end());
    cleanup.push(cb.close);
    const l = await live({ jwtPrivateKey: readFileSync(join(REFERENCE_JWTKEYS, 'sk.pem'), 'utf8') });
    const s = await start(l, { callbackUrl: cb.url, request: DISCLOSURE });
    expect((await fetch(`${l.base}/session/${s.token}`, { method: 'DELETE' })).status).toBe(200);
    await cb.waitFor(1);
    expect(cb.received[0].headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(decodeJwt(cb.received[0].body)).toMatchObject({ sub: 'disclosing_result', status: 'CANCELLED', token: s.token });
  });
});

describe('chained sessions (§13.23)', () => {
  it('starts the next session the requestor answers with and hands it to app and frontend', async () => {
    const next = await endpoint((_r, res) => {
      res.writeHead(200, JSON_HEADERS).end(JSON.stringify({
        '@context': 'https://irma.app/ld/request/issuance/v2',
        credentials: [{ credential: 'irma-demo.MijnOverheid.fullName', attributes: { firstnames: 'A', firstname: 'yes', familyname: 'B' } }],
      }));
    });
    cleanup.push(next.close);
    const l = await live({ allowUnsignedCallbacks: true });
    const s = await start(l, { nextSession: { url: next.url }, request: DISCLOSURE });
    expect(s.pkg.frontendRequest.pairingHint).toBe(true);
    const res = await appFinishes(l, s.ct);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.proofStatus).toBe('VALID');
    expect(body.nextSession.irmaqr).toBe('issuing');
    expect(JSON.parse(next.received[0].body)).toMatchObject({ token: s.token, status: 'CONNECTED', proofStatus: 'VALID' });

    const result = await (await fetch(`${l.base}/session/${s.token}/result`)).json();
    expect(result.status).toBe('DONE');
    expect(result.nextSession).toMatch(/^[a-zA-Z0-9]{20}$/);
    expect(await (await fetch(`${l.base}/session/${result.nextSession}/status`)).json()).toBe('INITIALIZED');

    const fe = { authorization: s.pkg.frontendRequest.authorization };
    const feStatus = await (await fetch(`${l.base}/irma/session/${s.ct}/frontend/status`, { headers: fe })).json();
    expect(feStatus).toEqual({ status: 'DONE', nextSession: body.nextSession });
    const nextCt = body.nextSession.u.split('/').pop();
    expect((await fetch(`${l.base}/irma/session/${nextCt}/frontend/status`, { headers: fe })).status).toBe(200);

    // The next session requires again what was disclosed, with the disclosed value.
    expect((await appFinishes(l, nextCt, 'commitments')).status).toBe(200);
    expect(l.checker.calls[1].implicitDisclosure).toEqual([[[{ type: 'irma-demo.MijnOverheid.fullName.firstname', value: 'yes' }]]]);
  });

  it('finishes without a next session on 204 and stays CONNECTED when the endpoint fails', async () => {
    const none = await endpoint((_r, res) => res.writeHead(204).end());
    cleanup.push(none.close);
    const l = await live({ allowUnsignedCallbacks: true });
    const s = await start(l, { nextSession: { url: none.url }, request: DISCLOSURE });
    const body = await (await appFinishes(l, s.ct)).json();
    expect(body).toEqual({ proofStatus: 'VALID' });

    const broken = await endpoint((_r, res) => res.writeHead(500).end());
    cleanup.push(broken.close);
    const t = await start(l, { nextSession: { url: broken.url }, request: DISCLOSURE });
    const res = await appFinishes(l, t.ct);
    expect(res.status).toBe(500);
    expect((await res.json()).error).toBe('NEXT_SESSION');
    expect(await (await fetch(`${l.base}/session/${t.token}/status`)).json()).toBe('CONNECTED');
  });
});

describe('outbound answers', () => {
  it('refuses an answer larger than a session request may be, instead of buffering it', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const huge = await endpoint((_r, res) => {
      res.writeHead(200, JSON_HEADERS);
      // 64 MiB unless the reader hangs up first.
      let sent = 0;
      const more = () => {
        while (sent < 64 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    cleanup.push(huge.close);
    await expect(post(huge.url, { contentType: 'application/json', body: '{}' })).rejects.toThrow(
      `response body larger than ${MAX_RESPONSE_BYTES} bytes`,
    );
  });
});
