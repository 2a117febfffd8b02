// Apps speaking protocol 2.5–2.7 (spec §5.2, §7.6), served only with
// accept_insecure_protocol_versions: the bare request on connect, and bare answers to POSTs
// below 2.7, where newer apps get the ClientSessionRequest and ServerSessionResponse wrappers.
import { afterEach, describe, expect, it } from 'vitest';
import { APP_HEADERS, connectApp, makeHarness, startSession, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const ISSUANCE = {
  '@context': 'https://irma.app/ld/request/issuance/v2',
  credentials: [{ credential: 'irma-demo.MijnOverheid.fullName', attributes: { firstnames: 'A', firstname: 'A', familyname: 'B' } }],
};

function appHeaders(max: string) {
  return { ...APP_HEADERS, 'x-irma-maxprotocolversion': max };
}

async function post(ct: string, endpoint: string, max: string) {
  return h.inject({
    method: 'POST',
    url: `/irma/session/${ct}/${endpoint}`,
    headers: { ...appHeaders(max), 'content-type': 'application/json' },
    payload: endpoint === 'proofs' ? '{"proofs":[],"indices":[]}' : '{"n_2":"AQ==","combinedProofs":[]}',
  });
}

describe('older app protocol versions', () => {
  it('are refused by default', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    const res = await connectApp(h, s.ct, appHeaders('2.7'));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('PROTOCOL_VERSION');
  });

  it('2.7 gets the bare request and the wrapped response', async () => {
    h = await makeHarness({ acceptInsecureProtocolVersions: true });
    const s = await startSession(h);
    const connected = await connectApp(h, s.ct, appHeaders('2.7'));
    expect(connected.statusCode).toBe(200);
    const request = connected.json();
    expect(request['@context']).toBe('https://irma.app/ld/request/disclosure/v2');
    expect(request.protocolVersion).toBe('2.7');
    expect(request.options).toBeUndefined();
    const done = await post(s.ct, 'proofs', '2.7');
    expect(done.json()).toEqual({ proofStatus: 'VALID' });
  });

  it('2.6 gets a bare proof status for proofs and a bare signature list for commitments', async () => {
    h = await makeHarness({ acceptInsecureProtocolVersions: true });
    const d = await startSession(h);
    expect((await connectApp(h, d.ct, appHeaders('2.6'))).json().protocolVersion).toBe('2.6');
    expect((await post(d.ct, 'proofs', '2.6')).json()).toBe('VALID');

    const i = await startSession(h, ISSUANCE);
    expect((await connectApp(h, i.ct, appHeaders('2.6'))).json().credentials).toHaveLength(1);
    expect((await post(i.ct, 'commitments', '2.6')).json()).toEqual(h.checker.sigs);
    expect((await h.inject({ method: 'GET', url: `/session/${i.token}/status` })).json()).toBe('DONE');
  });
});
