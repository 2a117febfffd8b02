import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/errors.js';
import { CredentialStorage, type StoredCredential } from '../../src/client/storage.js';
import { bitLength, decodeB64 } from '../../src/idemix/bigint.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irma-client-storage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cred(id: string, storedAt = 1): StoredCredential {
  return {
    id,
    credentialType: 'irma-demo.MijnOverheid.fullName',
    keyCounter: 2,
    signature: { A: 'Ag==', e: 'Aw==', v: 'BA==' },
    attributes: ['AwALmAAaAALx0ShWjyIjPCSgVSzPXbC2', 'gtjSxss='],
    storedAt,
  };
}

describe('credential storage', () => {
  it('makes the secret key once and keeps it', async () => {
    const a = await CredentialStorage.open(dir);
    expect(a.secretKey > 0n).toBe(true);
    expect(bitLength(a.secretKey)).toBeLessThanOrEqual(255);
    const b = await CredentialStorage.open(dir);
    expect(b.secretKey).toBe(a.secretKey);
    const onDisk = JSON.parse(await readFile(join(dir, 'secretkey.json'), 'utf8'));
    expect(decodeB64(onDisk.secretKey)).toBe(a.secretKey);
    expect((await stat(join(dir, 'secretkey.json'))).mode & 0o077).toBe(0);
  });

  it('two wallets opened at once agree on one secret key', async () => {
    const [a, b] = await Promise.all([CredentialStorage.open(dir), CredentialStorage.open(dir)]);
    expect(a.secretKey).toBe(b.secretKey);
  });

  it('round-trips credentials and leaves no temporary files', async () => {
    const s = await CredentialStorage.open(dir);
    await s.update(() => [cred('one'), cred('two', 2)]);
    const again = await CredentialStorage.open(dir);
    expect(again.list()).toEqual([cred('one'), cred('two', 2)]);
    expect((await readdir(dir)).sort()).toEqual(['credentials.json', 'secretkey.json']);
  });

  it('applies concurrent updates one after another', async () => {
    const s = await CredentialStorage.open(dir);
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.update((cur) => [...cur, cred(`c${i}`)])));
    expect(s.list()).toHaveLength(10);
    expect((await CredentialStorage.open(dir)).list().map((c) => c.id).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `c${i}`).sort(),
    );
  });

  it('keeps the old list when an update throws', async () => {
    const s = await CredentialStorage.open(dir);
    await s.update(() => [cred('one')]);
    await expect(
      s.update(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(s.list()).toEqual([cred('one')]);
    await s.update((cur) => [...cur, cred('two')]);
    expect(s.list().map((c) => c.id)).toEqual(['one', 'two']);
  });

  it('refuses corrupt files with a storage error', async () => {
    await writeFile(join(dir, 'credentials.json'), '{"version":1,"credentials":[{"id":3}]}');
    await expect(CredentialStorage.open(dir)).rejects.toMatchObject({ name: 'ClientError', type: 'storage' });
    await writeFile(join(dir, 'credentials.json'), 'not json');
    await expect(CredentialStorage.open(dir)).rejects.toBeInstanceOf(ClientError);
    await rm(join(dir, 'credentials.json'));
    await writeFile(join(dir, 'secretkey.json'), '{"version":1,"secretKey":"!!"}');
    await expect(CredentialStorage.open(dir)).rejects.toMatchObject({ type: 'storage' });
  });
});
