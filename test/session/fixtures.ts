// A session record as the server would create it, for state-machine tests.
import type { Session } from '../../src/session/session.js';
import type { Lifetimes } from '../../src/session/lifetimes.js';

export const T0 = Date.UTC(2026, 10, 22, 8, 0, 0);
export const LIFETIMES: Lifetimes = { maxSessionLifetimeMs: 15 * 60_000, sessionResultLifetimeMs: 5 * 60_000 };

export function makeSession(patch: Partial<Session> = {}): Session {
  const request = {
    '@context': 'https://irma.app/ld/request/disclosure/v2',
    context: 'AQ==',
    nonce: 'a1H3e/D/e4BS+o1pOZb3lg==',
    protocolVersion: '2.8',
    devMode: true,
    disclose: [[['irma-demo.MijnOverheid.ageLower.over18']]],
  };
  return {
    clientToken: 'abcdCLIENTtoken00001',
    requestorToken: 'abcdREQUESTORtoken01',
    frontendAuth: 'FRONTENDauthTOKEN001',
    action: 'disclosing',
    requestor: '',
    request,
    clientRequest: request,
    nonce: request.nonce,
    validity: 120,
    timeout: 0,
    status: 'INITIALIZED',
    options: { pairingMethod: 'none' },
    createdAt: T0,
    lastActive: T0,
    outcome: {},
    ...patch,
  };
}
