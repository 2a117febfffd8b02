// POST /revocation against a real server (authority on PostgreSQL): the reference's recorded
// error answers, permission rules, and JWT authentication where the key that verified decides
// the requestor (not the unverified `iss`, digest pitfall 3). Also the startup rules of
// revocation_settings.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions, OptionsError, type ServerOptions } from '../../src/server/options.js';
import { normalizeRevocationSettings } from '../../src/revocation/settings.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { revocationVectors } from '../revocation/fixtures.js';

const ROOT = 'irma-demo.MijnOverheid.root';
const SECRET_A = randomBytes(32);
const SECRET_B = randomBytes(32);

let schemes: SchemeRegistry;
let db: TestDatabase;
let server: RunningServer;
let base: string;

const options = (extra: Partial<ServerOptions> = {}): ServerOptions => ({
  ...defaultOptions(false),
  port: 0,
  listenAddr: '127.0.0.1',
  url: 'http://127.0.0.1:port',
  schemesPath: REFERENCE_SCHEMES,
  quiet: true,
  noAuth: false,
  requestors: {
    revvec: { authMethod: 'token', key: 'revvec-requestor-token', revokePerms: [ROOT] },
    a: { authMethod: 'hmac', key: SECRET_A.toString('base64'), revokePerms: [] },
    b: { authMethod: 'hmac', key: SECRET_B.toString('base64'), revokePerms: ['irma-demo.*'] },
  },
  revocationDbType: 'postgres',
  revocationDbStr: db.dsn,
  revocationSettings: { [ROOT]: { authority: true } },
  ...extra,
});

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  db = await createTestDatabase();
  server = await startServer(options(), { schemes, logger: pino({ level: 'silent' }) });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('POST /revocation', () => {
  it('answers as the reference did for each recorded error', async () => {
    for (const rec of revocationVectors.requestorRevocationErrors as {
      label: string;
      request: { headers: Record<string, string>; body: unknown };
      status: number;
      responseBody: Record<string, unknown>;
    }[]) {
      const res = await fetch(`${base}/revocation`, { method: 'POST', headers: rec.request.headers, body: JSON.stringify(rec.request.body) });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status, `${rec.label}: ${JSON.stringify(body)}`).toBe(rec.status);
      expect(body.error, rec.label).toBe(rec.responseBody.error);
      expect(body.description, rec.label).toBe(rec.responseBody.description);
      if (rec.responseBody.message !== undefined) expect(body.message, rec.label).toBe(rec.responseBody.message);
    }
  });

  it('takes the requestor whose key verified the JWT, not its iss', async () => {
    const revrequest = { '@context': 'https://irma.app/ld/request/revocation/v1', type: ROOT, revocationKey: 'nobody' };
    const jwt = (key: Buffer, kid: string, iss: string) =>
      new SignJWT({ sub: '', revrequest }).setProtectedHeader({ alg: 'HS256', kid }).setIssuer(iss).setIssuedAt().sign(key);
    const send = async (token: string) => fetch(`${base}/revocation`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: token });
    // a has no revoke permission; claiming to be b does not lend it b's.
    const asA = await send(await jwt(SECRET_A, 'a', 'b'));
    expect(asA.status, await asA.clone().text()).toBe(403);
    // b may revoke: the key exists, there is no such record.
    const asB = await send(await jwt(SECRET_B, 'b', 'b'));
    expect(asB.status).toBe(404);
    expect(((await asB.json()) as { error: string }).error).toBe('UNKNOWN_REVOCATION_KEY');
  });
});

describe('revocation_settings startup rules', () => {
  it('refuses what the reference refuses', () => {
    const problems = (raw: Record<string, object>, hasDb = true) => normalizeRevocationSettings(raw, schemes, hasDb).problems;
    expect(problems({ 'irma-demo.MijnOverheid.nonexistent': {} })[0]).toMatch(/unknown credential type/);
    expect(problems({ [ROOT]: { authority: true, revocationServerUrl: 'http://x' } })[0]).toMatch(/cannot be set when authority/);
    expect(problems({ [ROOT]: { server: true } })[0]).toMatch(/requires a revocation_server_url/);
    expect(problems({ [ROOT]: { authority: true } }, false)[0]).toMatch(/requires SQL database/);
    expect(problems({ [ROOT]: { tolerance: 10, revocationServerUrl: 'http://x' } })[0]).toMatch(/at least 30 seconds/);
    // Keys are re-cased to the type id (viper lower-cases them).
    expect(Object.keys(normalizeRevocationSettings({ [ROOT.toLowerCase()]: { revocationServerUrl: 'http://x/' } }, schemes, false).settings)).toEqual([ROOT]);
  });

  it('will not start with an unsupported database type', async () => {
    await expect(startServer(options({ revocationDbType: 'oracle' }), { schemes, logger: pino({ level: 'silent' }) })).rejects.toThrow(OptionsError);
  });
});

describe('irma-server check with revocation', () => {
  it('reports the database and roles, and fails on a bad setting', async () => {
    const { checkRevocation } = await import('../../src/server/revocation-setup.js');
    expect(await checkRevocation(options(), schemes)).toBe(`revocation: PostgreSQL reachable; ${ROOT} authority`);
    await expect(checkRevocation(options({ revocationDbStr: '' }), schemes)).rejects.toThrow(/requires SQL database/);
  });

  it('refuses revoke permissions for an issuer whose key has no revocation material', async () => {
    const { validateOptionsAgainstSchemes } = await import('../../src/server/options.js');
    expect(() => validateOptionsAgainstSchemes(options({ revokePerms: ['irma-demo.stemmen.stempas'] }), schemes)).toThrow(/no revocation key material/);
    expect(() => validateOptionsAgainstSchemes(options({ revokePerms: [ROOT] }), schemes)).not.toThrow();
  });
});
