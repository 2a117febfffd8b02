// A running server keeps its schemes current: the updater fetches a newer signed version from the
// scheme's URL (a local HTTP server here) and swaps the reloaded registry (and the crypto workers
// built on it) in while a session is in flight; that session still completes, and the next one
// can use what the update added. A tampered update is logged and changes nothing.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/index.js';
import { parsePrivateKeyXml, parsePublicKeyXml, type PrivateKey, type PublicKey } from '../../src/idemix/keys.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { installScheme } from '../../src/scheme/scheme-remote.js';
import { writeScheme, type SchemeSpec } from '../../src/scheme/writer.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions } from '../../src/server/options.js';
import { SchemeUpdater } from '../../src/server/scheme-updater.js';
import { serveFolder, type FileServer } from '../support/file-server.js';
import { freePort } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let pk: PublicKey;
let sk: PrivateKey;
let signingKey: KeyObject;
let web: FileServer;
let published: string;
let conf: string;
let wallet: string;
let server: RunningServer | undefined;
let base: string;
let logs: string[];

beforeAll(() => {
  const keys = join(REFERENCE_SCHEMES, 'irma-demo/MijnOverheid');
  pk = parsePublicKeyXml(readFileSync(join(keys, 'PublicKeys/2.xml'), 'utf8'));
  sk = parsePrivateKeyXml(readFileSync(join(keys, 'PrivateKeys/2.xml'), 'utf8'));
  signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
});
beforeEach(async () => {
  published = mkdtempSync(join(tmpdir(), 'update-published-'));
  conf = mkdtempSync(join(tmpdir(), 'update-conf-'));
  wallet = mkdtempSync(join(tmpdir(), 'update-wallet-'));
  web = await serveFolder(published);
  logs = [];
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await web.close();
  for (const d of [published, conf, wallet]) rmSync(d, { recursive: true, force: true });
});

function spec(timestamp: number, types: string[]): SchemeSpec {
  return {
    id: 'sch',
    url: `${web.base}/sch`,
    timestamp,
    signingKey,
    issuers: [{ id: 'Shop', keys: [{ publicKey: pk, privateKey: sk }], credentialTypes: types.map((id) => ({ id, attributes: [{ id: 'a' }] })) }],
  };
}

async function start(cryptoWorkers: number): Promise<SchemeUpdater> {
  await writeScheme(published, spec(1000, ['card']));
  await installScheme(conf, `${web.base}/sch`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const options = { ...defaultOptions(false), port, listenAddr: '127.0.0.1', url: base, schemesPath: conf, quiet: true, cryptoWorkers };
  server = await startServer(options);
  const log = {
    info: (_o: Record<string, unknown>, msg: string) => logs.push(`info ${msg}`),
    error: (o: Record<string, unknown>, msg: string) => logs.push(`error ${msg}: ${String(o.err)}`),
  };
  return new SchemeUpdater({ schemesPath: conf, intervalMinutes: 60, reload: () => server!.reloadSchemes(), log });
}

async function post(request: unknown): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
  return { status: res.status, body: await res.text() };
}

function issuance(type: string): unknown {
  return { '@context': 'https://irma.app/ld/request/issuance/v2', credentials: [{ credential: `sch.Shop.${type}`, keyCounter: 2, attributes: { a: type } }] };
}

describe('scheme updates in a running server', () => {
  for (const workers of [0, 1]) {
    it(`swaps an update in while a session is in flight (crypto workers: ${workers})`, async () => {
      const updater = await start(workers);
      expect((await post(issuance('ticket'))).body).toMatch(/Unknown identifiers: sch.Shop.ticket/);

      const pkg = JSON.parse((await post(issuance('card'))).body) as { sessionPtr: unknown; token: string };
      await writeScheme(published, spec(2000, ['card', 'ticket']));
      const client = new IrmaClient({ storageDir: wallet, schemes: await loadSchemes({ schemesPath: conf }) });
      let swappedDuringSession = false;
      const outcome = await client.runSession(JSON.stringify(pkg.sessionPtr), {
        // The app has the request and asks its user; meanwhile the server updates its schemes.
        permission: async () => {
          const updated = await updater.runOnce();
          swappedDuringSession = updated.length === 1 && updated[0].to === 2000;
          return true;
        },
      });
      expect(swappedDuringSession).toBe(true);
      expect(logs).toContain('info updated schemes in use');
      expect([outcome.status, outcome.proofStatus]).toEqual(['DONE', 'VALID']);
      const result = await (await fetch(`${base}/session/${pkg.token}/result`)).json();
      expect(result).toMatchObject({ status: 'DONE', proofStatus: 'VALID', type: 'issuing' });

      // What the update added is usable right away, without a restart.
      const next = await post(issuance('ticket'));
      expect(next.status).toBe(200);
      const client2 = new IrmaClient({ storageDir: wallet, schemes: await loadSchemes({ schemesPath: conf }) });
      const ptr = (JSON.parse(next.body) as { sessionPtr: unknown }).sessionPtr;
      expect((await client2.runSession(JSON.stringify(ptr))).proofStatus).toBe('VALID');
    }, 60_000);
  }

  it('logs a tampered update, keeps the old schemes, and the session in flight completes', async () => {
    const updater = await start(0);
    const pkg = JSON.parse((await post(issuance('card'))).body) as { sessionPtr: unknown; token: string };
    await writeScheme(published, spec(2000, ['card', 'ticket']));
    const file = join(published, 'sch', 'Shop', 'Issues', 'ticket', 'description.xml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('ticket</', 'ticket2</'));

    const client = new IrmaClient({ storageDir: wallet, schemes: await loadSchemes({ schemesPath: conf }) });
    const outcome = await client.runSession(JSON.stringify(pkg.sessionPtr), {
      permission: async () => (await updater.runOnce()).length === 0,
    });
    expect([outcome.status, outcome.proofStatus]).toEqual(['DONE', 'VALID']);
    expect(logs.join('\n')).toMatch(/^error scheme update failed; keeping the current version: .*does not match its hash/m);
    expect(logs).not.toContain('info updated schemes in use');
    expect((await post(issuance('ticket'))).status).not.toBe(200);
    expect(readFileSync(join(conf, 'sch', 'timestamp'), 'utf8')).toBe('1000\n');
  }, 60_000);
});
