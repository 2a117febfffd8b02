// writeScheme builds signed schemes that the loader accepts, from reference keys (no key generation).
import { createPublicKey, createSign, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parsePrivateKeyXml, parsePublicKeyXml, type PrivateKey, type PublicKey } from '../../src/idemix/keys.js';
import { SchemeError } from '../../src/scheme/errors.js';
import { issuanceKeys } from '../../src/scheme/issuance-keys.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { writeScheme, type SchemeSpec } from '../../src/scheme/writer.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let pk: PublicKey;
let sk: PrivateKey;
let dir: string;
beforeAll(() => {
  const base = join(REFERENCE_SCHEMES, 'irma-demo/MijnOverheid');
  pk = parsePublicKeyXml(readFileSync(join(base, 'PublicKeys/2.xml'), 'utf8'));
  sk = parsePrivateKeyXml(readFileSync(join(base, 'PrivateKeys/2.xml'), 'utf8'));
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scheme-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function spec(over: Partial<SchemeSpec> = {}): SchemeSpec {
  return {
    id: 'wtest',
    issuers: [
      {
        id: 'Issuer',
        name: { en: 'Issuer & Co <test>' },
        keys: [{ publicKey: pk, privateKey: sk }],
        credentialTypes: [
          {
            id: 'card',
            singleton: true,
            attributes: [{ id: 'a' }, { id: 'b', optional: true }, { id: 'c', randomBlind: true }],
          },
          {
            id: 'revocable',
            revocationServers: ['http://localhost:48683'],
            attributes: [{ id: 'x' }, { revocation: true }],
          },
        ],
      },
    ],
    ...over,
  };
}

describe('writeScheme', () => {
  it('writes a signed scheme that loads with signatures required', async () => {
    const written = await writeScheme(dir, spec());
    expect(written.schemePath).toBe(join(dir, 'wtest'));
    const reg = await loadSchemes({ schemesPath: dir });
    const scheme = reg.scheme('wtest')!;
    expect(scheme.demo).toBe(true);
    expect(scheme.keyshareServer).toBeUndefined();
    expect(reg.issuer('wtest.Issuer')!.name.en).toBe('Issuer & Co <test>');
    const card = reg.credentialType('wtest.Issuer.card')!;
    expect(card.singleton).toBe(true);
    expect(card.attributes.map((a) => [a.shortId, a.optional, a.randomBlind])).toEqual([
      ['a', false, false],
      ['b', true, false],
      ['c', false, true],
    ]);
    const revocable = reg.credentialType('wtest.Issuer.revocable')!;
    expect(revocable.revocationSupported).toBe(true);
    expect(revocable.attributes[1].revocation).toBe(true);
    expect(reg.publicKey('wtest.Issuer', 2)!.n).toBe(pk.n);
    expect(reg.latestPrivateKey('wtest.Issuer')!.p).toBe(sk.p);
    expect(reg.latestPublicKey('wtest.Issuer', 1800000000)!.counter).toBe(2);
  });

  it('signs with the given key, keeps sk.pem and private keys out of the index and private', async () => {
    const written = await writeScheme(dir, spec());
    const index = readFileSync(join(dir, 'wtest/index'), 'utf8');
    expect(index).toMatch(/^[0-9a-f]{64} wtest\/Issuer\/PublicKeys\/2\.xml$/m);
    expect(index).toMatch(/ wtest\/timestamp$/m);
    expect(index).not.toMatch(/sk\.pem|PrivateKeys|pk\.pem/);
    const pkPem = readFileSync(join(dir, 'wtest/pk.pem'));
    expect(createPublicKey(pkPem).export({ format: 'jwk' })).toEqual(
      createPublicKey(written.signingKey as KeyObject).export({ format: 'jwk' }),
    );
    expect(statSync(join(dir, 'wtest/sk.pem')).mode & 0o077).toBe(0);
    expect(statSync(join(dir, 'wtest/Issuer/PrivateKeys/2.xml')).mode & 0o077).toBe(0);
    // Re-signing with the same key gives a scheme that still verifies after a rewrite.
    await writeScheme(dir, spec({ signingKey: written.signingKey }));
    expect(readFileSync(join(dir, 'wtest/pk.pem'))).toEqual(pkPem);
    expect(readdirSync(dir)).toEqual(['wtest']);
    await loadSchemes({ schemesPath: dir });
  });

  it('writes a distributed scheme with a usable keyshare key', async () => {
    const written = await writeScheme(dir, spec({ keyshareServer: 'http://localhost:8080', keyshareAttribute: 'wtest.Issuer.card.a' }));
    const reg = await loadSchemes({ schemesPath: dir });
    expect(reg.scheme('wtest')!.keyshareServer).toBe('http://localhost:8080');
    const signer = createSign('sha256').update('jwt');
    const sig = signer.sign(written.keysharePrivateKeyPem!);
    const kss = reg.keysharePublicKey!('wtest', 0)!;
    expect(kss.asymmetricKeyType).toBe('rsa');
    expect(createPublicKey(readFileSync(join(dir, 'wtest/kss-0.pem'))).equals(kss)).toBe(true);
    const { createVerify } = await import('node:crypto');
    expect(createVerify('sha256').update('jwt').verify(kss, sig)).toBe(true);
  });

  it('writes unsigned schemes that load only without signature checks', async () => {
    await writeScheme(dir, spec({ sign: false }));
    expect(existsSync(join(dir, 'wtest/index'))).toBe(false);
    await expect(loadSchemes({ schemesPath: dir })).rejects.toBeInstanceOf(SchemeError);
    const reg = await loadSchemes({ schemesPath: dir, requireSignatures: false });
    expect(reg.credentialType('wtest.Issuer.card')).toBeDefined();
  });

  it('a tampered written scheme fails to load', async () => {
    await writeScheme(dir, spec());
    const path = join(dir, 'wtest/Issuer/Issues/card/description.xml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('optional="true"', 'optional="false"'));
    const err = await loadSchemes({ schemesPath: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemeError);
    expect((err as SchemeError).path).toBe(path);
  });
});

describe('issuanceKeys', () => {
  it('returns the newest private key and its public key', async () => {
    await writeScheme(dir, spec());
    const reg = await loadSchemes({ schemesPath: dir });
    const keys = issuanceKeys(reg, 'wtest.Issuer.card', 1800000000);
    expect(keys.privateKey.counter).toBe(2);
    expect(keys.publicKey.n).toBe(keys.privateKey.n);
  });

  it('refuses an expired key, as the reference does', async () => {
    const expired = { ...pk, expiryDate: 1000000000 };
    await writeScheme(dir, spec({ issuers: [{ ...spec().issuers[0], keys: [{ publicKey: expired, privateKey: sk }] }] }));
    const reg = await loadSchemes({ schemesPath: dir });
    expect(reg.latestPublicKey('wtest.Issuer', 1800000000)).toBeUndefined();
    expect(reg.publicKey('wtest.Issuer', 2)!.expiryDate).toBe(1000000000);
    expect(() => issuanceKeys(reg, 'wtest.Issuer.card', 1800000000)).toThrow(
      expect.objectContaining({ code: 'EXPIRED_KEY', message: expect.stringContaining('wtest.Issuer-2') }),
    );
    expect(issuanceKeys(reg, 'wtest.Issuer.card', 999999999).publicKey.counter).toBe(2);
  });

  it('refuses without a private key or for an unknown type', async () => {
    await writeScheme(dir, spec({ issuers: [{ ...spec().issuers[0], keys: [{ publicKey: pk }] }] }));
    const reg = await loadSchemes({ schemesPath: dir });
    expect(() => issuanceKeys(reg, 'wtest.Issuer.card')).toThrow(expect.objectContaining({ code: 'MISSING_PRIVATE_KEY' }));
    expect(() => issuanceKeys(reg, 'wtest.Issuer.nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_IDENTIFIER' }));
  });
});

describe('production (non-demo) schemes', () => {
  it('load with a real safe-prime key', async () => {
    await writeScheme(dir, spec({ demo: false }));
    const reg = await loadSchemes({ schemesPath: dir });
    expect(reg.scheme('wtest')!.demo).toBe(false);
    expect(reg.latestPrivateKey('wtest.Issuer')!.counter).toBe(2);
  });

  it('refuse a private key whose factors are not safe primes', async () => {
    // p = 2p'+1 and q = 2q'+1 with composite p', q' (multiples of 3): consistent, 1024-bit, not safe primes.
    const pPrime = 3n * (2n ** 509n + 1n);
    const qPrime = 3n * (2n ** 509n + 7n);
    const p = 2n * pPrime + 1n;
    const q = 2n * qPrime + 1n;
    const n = p * q;
    const fakePk: PublicKey = {
      counter: 0,
      expiryDate: pk.expiryDate,
      params: pk.params,
      n,
      S: 4n,
      Z: 9n,
      R: Array.from({ length: 6 }, (_, i) => BigInt(16 + i)),
    };
    const fakeSk: PrivateKey = { counter: 0, expiryDate: pk.expiryDate, p, q, pPrime, qPrime, n, order: pPrime * qPrime };
    const issuer = { id: 'Issuer', keys: [{ publicKey: fakePk, privateKey: fakeSk }], credentialTypes: [{ id: 'card', attributes: [{ id: 'a' }] }] };
    await writeScheme(dir, spec({ demo: false, issuers: [issuer] }));
    const err = await loadSchemes({ schemesPath: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemeError);
    expect((err as SchemeError).code).toBe('INVALID_KEY');
    expect((err as SchemeError).path).toBe(join(dir, 'wtest/Issuer/PrivateKeys/0.xml'));
  });
});
