import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bitLength } from '../../src/idemix/bigint.js';
import { ensureDemoScheme } from '../../src/scheme/demo.js';
import { issuanceKeys } from '../../src/scheme/issuance-keys.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scheme-demo-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const YEAR = 365 * 24 * 3600;

describe('ensureDemoScheme', () => {
  it('generates a signed demo scheme that loads with signatures required', async () => {
    const messages: string[] = [];
    const now = Math.floor(Date.now() / 1000);
    expect(await ensureDemoScheme(dir, { onProgress: (m) => messages.push(m) })).toBe(dir);
    expect(messages.length).toBeGreaterThan(0);

    const reg = await loadSchemes({ schemesPath: dir, requireSignatures: true });
    const scheme = reg.scheme('demo')!;
    expect(scheme.demo).toBe(true);
    expect(scheme.keyshareServer).toBeUndefined();
    expect([...reg.credentialTypes.keys()].sort()).toEqual(['demo.Example.email', 'demo.Example.person']);
    expect(reg.credentialType('demo.Example.person')!.attributes.map((a) => [a.shortId, a.optional])).toEqual([
      ['firstname', false],
      ['familyname', false],
      ['prefix', true],
      ['over18', false],
    ]);
    expect(reg.credentialType('demo.Example.email')!.attributes.map((a) => a.shortId)).toEqual(['email', 'domain']);

    const { publicKey, privateKey } = issuanceKeys(reg, 'demo.Example.person');
    expect(privateKey.counter).toBe(0);
    expect(bitLength(publicKey.n)).toBe(1024);
    expect(publicKey.R.length).toBeGreaterThanOrEqual(6);
    expect(Math.abs(publicKey.expiryDate - (now + 5 * YEAR))).toBeLessThan(24 * 3600);
    expect(reg.latestPublicKey('demo.Example')).toBe(publicKey);

    const index = readFileSync(join(dir, 'demo/index'), 'utf8');
    expect(index).not.toMatch(/sk\.pem|PrivateKeys/);
    expect(existsSync(join(dir, 'demo/sk.pem'))).toBe(true);
    expect(readFileSync(join(dir, 'demo/timestamp'), 'utf8')).toMatch(/^\d+\n$/);
  });

  it('reuses a valid scheme instead of generating a new key', async () => {
    await ensureDemoScheme(dir);
    const first = (await loadSchemes({ schemesPath: dir })).publicKey('demo.Example', 0)!.n;
    const mtime = statSync(join(dir, 'demo/index')).mtimeMs;
    const messages: string[] = [];
    await ensureDemoScheme(dir, { onProgress: (m) => messages.push(m) });
    expect(messages).toEqual([]);
    expect(statSync(join(dir, 'demo/index')).mtimeMs).toBe(mtime);
    expect((await loadSchemes({ schemesPath: dir })).publicKey('demo.Example', 0)!.n).toBe(first);
  });

  it('regenerates a damaged scheme or one whose key is about to expire, with the next key counter', async () => {
    await ensureDemoScheme(dir);
    const n0 = (await loadSchemes({ schemesPath: dir })).publicKey('demo.Example', 0)!.n;
    unlinkSync(join(dir, 'demo/index.sig'));
    await ensureDemoScheme(dir);
    // A new key under a new counter: old credentials name a key that is gone, not a different one.
    const regenerated = await loadSchemes({ schemesPath: dir });
    expect(regenerated.publicKey('demo.Example', 0)).toBeUndefined();
    const n1 = regenerated.publicKey('demo.Example', 1)!.n;
    expect(n1).not.toBe(n0);

    await ensureDemoScheme(dir, { now: Math.floor(Date.now() / 1000) + 5 * YEAR - 7 * 24 * 3600 });
    expect((await loadSchemes({ schemesPath: dir })).publicKey('demo.Example', 2)!.n).not.toBe(n1);

    rmSync(join(dir, 'demo/Example/PrivateKeys'), { recursive: true });
    await ensureDemoScheme(dir);
    expect(issuanceKeys(await loadSchemes({ schemesPath: dir }), 'demo.Example.email').privateKey.counter).toBe(3);
  });

  it('ignores and cleans up what an interrupted generation left behind', async () => {
    // A half-written scheme beside the real one, as a crash during generation leaves it.
    const leftover = join(dir, '.demo.tmp-0123456789ab');
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, 'description.xml'), '<SchemeManager version="7"><Id>demo</Id>');
    const old = Date.now() / 1000 - 3600;
    utimesSync(leftover, old, old);
    await ensureDemoScheme(dir);
    expect(existsSync(leftover)).toBe(false);
    const reg = await loadSchemes({ schemesPath: dir });
    expect([...reg.schemes.keys()]).toEqual(['demo']);
  });

  it('lives beside other schemes in the same folder', async () => {
    cpSync(join(REFERENCE_SCHEMES, 'irma-demo'), join(dir, 'irma-demo'), { recursive: true });
    await ensureDemoScheme(dir);
    const reg = await loadSchemes({ schemesPath: dir });
    expect([...reg.schemes.keys()].sort()).toEqual(['demo', 'irma-demo']);
  });
});

describe('ensureDemoScheme concurrency', () => {
  it('generates once when several callers race on an empty folder', async () => {
    const messages: string[] = [];
    const onProgress = (m: string) => messages.push(m);
    await Promise.all([1, 2, 3].map(() => ensureDemoScheme(dir, { onProgress })));
    expect(messages.filter((m) => m.startsWith('generating the demo scheme'))).toHaveLength(1);
    expect(existsSync(join(dir, '.demo.lock'))).toBe(false);
    expect((await loadSchemes({ schemesPath: dir })).scheme('demo')).toBeDefined();
  });

  it('takes over a stale lock', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.demo.lock'), '');
    const old = Date.now() / 1000 - 3600;
    utimesSync(join(dir, '.demo.lock'), old, old);
    await ensureDemoScheme(dir);
    expect((await loadSchemes({ schemesPath: dir })).scheme('demo')).toBeDefined();
  });
});
