// Scheme download and update against a local HTTP server publishing a signed scheme: a first
// install, an update after the publisher changes the scheme, and the updates that must be refused
// (tampered index, signature by another key, a file that does not match its hash) each leaving
// the installed scheme exactly as it was.
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parsePrivateKeyXml, parsePublicKeyXml, type PrivateKey, type PublicKey } from '../../src/idemix/keys.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { installScheme, updateScheme } from '../../src/scheme/scheme-remote.js';
import { signSchemeFolder } from '../../src/scheme/scheme-signing.js';
import { writeScheme, type SchemeSpec } from '../../src/scheme/writer.js';
import { freePort } from '../support/redis.js';
import { serveFolder, type FileServer } from '../support/file-server.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let pk: PublicKey;
let sk: PrivateKey;
let signingKey: KeyObject;
let web: FileServer;
let published: string; // what the web server serves: <published>/sch is the scheme
let conf: string; // the local irma_configuration

beforeAll(async () => {
  const base = join(REFERENCE_SCHEMES, 'irma-demo/MijnOverheid');
  pk = parsePublicKeyXml(readFileSync(join(base, 'PublicKeys/2.xml'), 'utf8'));
  sk = parsePrivateKeyXml(readFileSync(join(base, 'PrivateKeys/2.xml'), 'utf8'));
  signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
});
beforeEach(async () => {
  published = mkdtempSync(join(tmpdir(), 'scheme-published-'));
  conf = mkdtempSync(join(tmpdir(), 'scheme-conf-'));
  web = await serveFolder(published);
});
afterEach(async () => {
  await web.close();
  rmSync(published, { recursive: true, force: true });
  rmSync(conf, { recursive: true, force: true });
});

function spec(timestamp: number, types: string[] = ['card'], over: Partial<SchemeSpec> = {}): SchemeSpec {
  return {
    id: 'sch',
    url: `${web.base}/sch`,
    timestamp,
    signingKey,
    issuers: [{ id: 'Shop', keys: [{ publicKey: pk, privateKey: sk }], credentialTypes: types.map((id) => ({ id, attributes: [{ id: 'a' }] })) }],
    ...over,
  };
}

/** Every file under `dir` with its SHA-256, to show that a refused update changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

async function installed(): Promise<string> {
  await writeScheme(published, spec(1000));
  const r = await installScheme(conf, `${web.base}/sch`);
  expect(r).toMatchObject({ id: 'sch', updated: true, to: 1000, path: join(conf, 'sch') });
  return r.path;
}

describe('installScheme', () => {
  it('downloads index, signature and every listed file, plus the demo private keys, into a loadable scheme', async () => {
    await installed();
    const reg = await loadSchemes({ schemesPath: conf });
    expect([...reg.credentialTypes.keys()]).toEqual(['sch.Shop.card']);
    expect(reg.latestPrivateKey('sch.Shop')?.counter).toBe(2);
    expect(readFileSync(join(conf, 'sch', 'pk.pem'), 'utf8')).toBe(readFileSync(join(published, 'sch', 'pk.pem'), 'utf8'));
    for (const f of ['/sch/index', '/sch/index.sig', '/sch/timestamp', '/sch/Shop/PublicKeys/2.xml', '/sch/Shop/PrivateKeys/2.xml']) {
      expect(web.requests).toContain(f);
    }
    // No leftovers of the work folders.
    expect(readdirSync(conf)).toEqual(['sch']);
  });

  it('with a pinned key, refuses a scheme signed by another key; refuses to replace an installed scheme', async () => {
    await writeScheme(published, spec(1000));
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(installScheme(conf, `${web.base}/sch/`, { publicKeyPem: other })).rejects.toThrow(/signature does not verify/);
    expect(readdirSync(conf)).toEqual([]);
    const pinned = readFileSync(join(published, 'sch', 'pk.pem'), 'utf8');
    await installScheme(conf, `${web.base}/sch/description.xml`, { publicKeyPem: pinned });
    await expect(installScheme(conf, `${web.base}/sch`)).rejects.toThrow(/already installed/);
  });

  it('fails cleanly when nothing is published or the host is unreachable', async () => {
    await expect(installScheme(conf, `${web.base}/nothing`)).rejects.toThrow(/HTTP status 404/);
    const closed = await freePort();
    await expect(installScheme(conf, `http://127.0.0.1:${closed}/sch`, { timeoutMs: 2000 })).rejects.toThrow(/cannot fetch .*ECONNREFUSED/);
    await expect(installScheme(conf, 'file:///etc')).rejects.toThrow(/not an http\(s\) URL/);
    expect(readdirSync(conf)).toEqual([]);
  });
});

describe('updateScheme', () => {
  it('installs a newer version, keeping what the index does not list, and is idempotent', async () => {
    const dir = await installed();
    writeFileSync(join(dir, 'Shop', 'PrivateKeys', 'note.txt'), 'kept');
    expect(await updateScheme(dir)).toEqual({ id: 'sch', updated: false, from: 1000, to: 1000 });

    await writeScheme(published, spec(2000, ['card', 'ticket']));
    web.requests.length = 0;
    expect(await updateScheme(dir)).toEqual({ id: 'sch', updated: true, from: 1000, to: 2000 });
    // Only the new and changed files are fetched.
    expect(web.requests).toContain('/sch/Shop/Issues/ticket/description.xml');
    expect(web.requests).not.toContain('/sch/Shop/Issues/card/description.xml');
    const reg = await loadSchemes({ schemesPath: conf });
    expect([...reg.credentialTypes.keys()].sort()).toEqual(['sch.Shop.card', 'sch.Shop.ticket']);
    expect(readFileSync(join(dir, 'Shop', 'PrivateKeys', 'note.txt'), 'utf8')).toBe('kept');

    // A type the publisher removes disappears (its unsigned description would otherwise block loading).
    await writeScheme(published, spec(3000, ['ticket']));
    expect((await updateScheme(dir)).updated).toBe(true);
    expect([...(await loadSchemes({ schemesPath: conf })).credentialTypes.keys()]).toEqual(['sch.Shop.ticket']);
    // An older remote is not an update.
    await writeScheme(published, spec(2500, ['card']));
    expect((await updateScheme(dir)).updated).toBe(false);
    expect(readdirSync(conf)).toEqual(['sch']);
  });

  const refusals: [string, (p: string) => Promise<void>, RegExp][] = [
    [
      'a tampered index',
      async (p) => {
        const index = readFileSync(join(p, 'index'), 'utf8');
        writeFileSync(join(p, 'index'), index.replace(/^[0-9a-f]{64}(?= sch\/Shop\/Issues)/m, '0'.repeat(64)));
      },
      /index signature does not verify/,
    ],
    [
      'a signature by another key',
      async () => {
        await writeScheme(published, spec(2000, ['card', 'ticket'], { signingKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }));
      },
      /index signature does not verify/,
    ],
    [
      'a file that does not match its hash',
      async (p) => {
        const file = join(p, 'Shop', 'Issues', 'ticket', 'description.xml');
        writeFileSync(file, readFileSync(file, 'utf8').replace('ticket</', 'ticket2</'));
      },
      /downloaded file does not match its hash/,
    ],
    [
      'a timestamp that does not match its hash',
      async (p) => {
        writeFileSync(join(p, 'timestamp'), '9999\n');
      },
      /remote timestamp does not match/,
    ],
    [
      'a correctly signed version that the loader refuses',
      async (p) => {
        const file = join(p, 'Shop', 'Issues', 'ticket', 'description.xml');
        writeFileSync(file, readFileSync(file, 'utf8').replace('<CredentialID>ticket<', '<CredentialID>other<'));
        await signSchemeFolder(p, signingKey, 2000);
      },
      /but the folder says "ticket"/,
    ],
  ];
  for (const [what, tamper, error] of refusals) {
    it(`refuses ${what} and keeps the installed version`, async () => {
      const dir = await installed();
      const before = snapshot(dir);
      // A genuine newer version (so that only the tampering can be the reason to refuse it) ...
      await writeScheme(published, spec(2000, ['card', 'ticket']));
      await tamper(join(published, 'sch'));
      await expect(updateScheme(dir)).rejects.toThrow(error);
      expect(snapshot(dir)).toEqual(before);
      expect(readdirSync(conf)).toEqual(['sch']);
      expect([...(await loadSchemes({ schemesPath: conf })).credentialTypes.keys()]).toEqual(['sch.Shop.card']);
    });
  }

  it('refuses an update that renames the scheme or leaves its own URL unreachable', async () => {
    const dir = await installed();
    const before = snapshot(dir);
    cpSync(join(published, 'sch'), join(published, 'copy'), { recursive: true });
    rmSync(join(published, 'sch'), { recursive: true });
    await expect(updateScheme(dir)).rejects.toThrow(/HTTP status 404/);
    expect(snapshot(dir)).toEqual(before);
  });
});
