import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/errors.js';
import {
  parseClientSessionRequest,
  parseQr,
  parseServerSessionResponse,
  parseSessionRequest,
  type SessionType,
} from '../../src/client/messages.js';
import { decodeB64 } from '../../src/idemix/bigint.js';
import { REFERENCE_VECTORS } from '../support/reference.js';

interface RecordedExchange {
  method: string;
  path: string;
  requestBody?: unknown;
  responseBody: unknown;
}
interface RecordedSession {
  label: string;
  sessionPackage: { sessionPtr: { u: string; irmaqr: SessionType } };
  client: RecordedExchange[];
}
const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as { sessions: RecordedSession[] };

function expectClientError(fn: () => unknown, type: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).type).toBe(type);
    return;
  }
  expect.unreachable('no error thrown');
}

describe('server messages the client reads', () => {
  it.each(vectors.sessions.map((s) => [s.label, s] as const))('parses the recorded %s session', (_label, s) => {
    const type = parseQr(s.sessionPackage.sessionPtr).irmaqr as SessionType;
    const first = s.client[0].responseBody as { request: { nonce: string; disclose?: unknown[]; credentials?: unknown[] } };
    const csr = parseClientSessionRequest(first, type);
    expect(csr.protocolVersion).toBe('2.8');
    expect(csr.pairingMethod).toBe('none');
    expect(csr.request?.type).toBe(type);
    expect(csr.request?.nonce).toBe(decodeB64(first.request.nonce));
    expect(csr.request?.context).toBe(1n);
    expect(csr.request?.disclose).toHaveLength(first.request.disclose?.length ?? 0);
    expect(csr.request?.credentials?.length).toBe(first.request.credentials?.length);
    const answer = parseServerSessionResponse(s.client[1].responseBody);
    expect(answer.proofStatus).toBe('VALID');
    expect(answer.sigs).toHaveLength(type === 'issuing' ? (first.request.credentials?.length ?? -1) : 0);
  });

  it('normalises attribute requests and credential defaults', () => {
    const r = parseSessionRequest(
      {
        '@context': 'https://irma.app/ld/request/issuance/v2',
        nonce: 'Kg==',
        credentials: [{ credential: 'a.b.c', validity: 1800000000, attributes: { x: 'y' } }],
        disclose: [[['a.b.d.e', { type: 'a.b.d.f', value: 'v' }], []]],
      },
      'issuing',
    );
    expect(r.nonce).toBe(42n);
    expect(r.context).toBe(1n);
    expect(r.credentials).toEqual([
      { credential: 'a.b.c', validity: 1800000000, keyCounter: 0, attributes: { x: 'y' }, revocationSupported: false, sdJwtBatchSize: 0 },
    ]);
    expect(r.disclose).toEqual([[[{ type: 'a.b.d.e' }, { type: 'a.b.d.f', value: 'v' }], []]]);
  });

  it('reads a pairing answer without a request', () => {
    const csr = parseClientSessionRequest(
      {
        '@context': 'https://irma.app/ld/request/client/v1',
        protocolVersion: '2.8',
        options: { '@context': 'https://irma.app/ld/options/v1', pairingMethod: 'pin', pairingCode: '0123' },
      },
      'disclosing',
    );
    expect(csr).toEqual({ protocolVersion: '2.8', pairingMethod: 'pin', pairingCode: '0123' });
  });

  it('refuses malformed server messages with invalidRequest', () => {
    const disclosure = { '@context': 'https://irma.app/ld/request/disclosure/v2', nonce: 'Kg==', disclose: [[['a.b.c.d']]] };
    expectClientError(() => parseSessionRequest(disclosure, 'signing'), 'invalidRequest');
    expectClientError(() => parseSessionRequest({ ...disclosure, disclose: [[]] }, 'disclosing'), 'invalidRequest');
    expectClientError(() => parseSessionRequest({ ...disclosure, disclose: [] }, 'disclosing'), 'invalidRequest');
    expectClientError(() => parseSessionRequest({ ...disclosure, disclose: [[['nodots']]] }, 'disclosing'), 'invalidRequest');
    expectClientError(() => parseSessionRequest({ ...disclosure, nonce: '-5' }, 'disclosing'), 'invalidRequest');
    expectClientError(() => parseSessionRequest({ ...disclosure, nonce: -5 }, 'disclosing'), 'invalidRequest');
    expectClientError(
      () =>
        parseSessionRequest(
          { '@context': 'https://irma.app/ld/request/signature/v2', disclose: [[['a.b.c.d']]], message: '' },
          'signing',
        ),
      'invalidRequest',
    );
    expectClientError(
      () =>
        parseClientSessionRequest(
          { '@context': 'https://irma.app/ld/request/client/v1', protocolVersion: '2.8', options: { pairingMethod: 'pin' } },
          'disclosing',
        ),
      'invalidRequest',
    );
    expectClientError(() => parseQr({ u: 'ftp://x/irma/session/abc', irmaqr: 'disclosing' }), 'invalidRequest');
    expectClientError(() => parseQr({ u: 'https://x/irma/session/abc', irmaqr: 'nonsense' }), 'invalidRequest');
    expectClientError(() => parseServerSessionResponse({ proofStatus: 'GREAT' }), 'invalidRequest');
    expectClientError(() => parseServerSessionResponse('VALID'), 'invalidRequest');
  });
});
