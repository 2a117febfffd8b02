import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bitLength } from '../../src/idemix/bigint.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

function typeHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest().subarray(0, 16).toString('hex');
}

describe('loadSchemes on the reference irma_configuration', () => {
  let reg: SchemeRegistry;
  beforeAll(async () => {
    reg = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  });

  it('loads the three credential schemes and skips the requestor scheme', () => {
    expect([...reg.schemes.keys()].sort()).toEqual(['irma-demo', 'test', 'test2']);
    expect(reg.scheme('test-requestors')).toBeUndefined();
    const demo = reg.scheme('irma-demo')!;
    expect(demo.demo).toBe(true);
    expect(demo.keyshareServer).toBeUndefined();
    expect(demo.timestampServer).toBe('https://atumd.staging.yivi.app/');
    expect(demo.url).toBe('http://localhost:48681/irma_configuration/irma-demo');
    expect(demo.name).toEqual({ en: 'Irma Demo', nl: 'Irma Demo' });
    expect(demo.path).toBe(join(REFERENCE_SCHEMES, 'irma-demo'));
    expect(reg.scheme('test2')!.keyshareServer).toBe('http://localhost:8082');
    expect(reg.scheme('test')!.keyshareServer).toBe('http://localhost:8080');
  });

  it('knows every issuer and credential type with full identifiers', () => {
    expect([...reg.issuers.keys()].sort()).toEqual([
      'irma-demo.MijnOverheid',
      'irma-demo.RU',
      'irma-demo.stemmen',
      'test.test',
      'test.test2',
      'test2.test',
    ]);
    const issuer = reg.issuer('irma-demo.MijnOverheid')!;
    expect(issuer).toMatchObject({ schemeId: 'irma-demo', shortId: 'MijnOverheid', name: { en: 'Demo MijnOverheid.nl' } });
    expect(reg.credentialTypes.size).toBe(12);
    expect(reg.credentialType('test2.test.mijnirma')).toMatchObject({ schemeId: 'test2', issuerId: 'test2.test', singleton: true });
  });

  it('keeps attributes in document order with their flags', () => {
    const fullName = reg.credentialType('irma-demo.MijnOverheid.fullName')!;
    expect(fullName.attributes.map((a) => [a.shortId, a.index, a.optional])).toEqual([
      ['firstnames', 0, false],
      ['firstname', 1, false],
      ['familyname', 2, false],
      ['prefix', 3, true],
    ]);
    expect(fullName.singleton).toBe(false);
    expect(fullName.revocationSupported).toBe(false);
    expect(fullName.name).toEqual({ en: 'Demo Name', nl: 'Demo Naam' });

    // displayIndex must not reorder: position is document order.
    const card = reg.credentialType('irma-demo.RU.studentCard')!;
    expect(card.attributes.map((a) => a.shortId)).toEqual(['university', 'studentCardNumber', 'studentID', 'level']);

    const stempas = reg.credentialType('irma-demo.stemmen.stempas')!;
    expect(stempas.singleton).toBe(true);
    expect(stempas.attributes.map((a) => [a.shortId, a.randomBlind])).toEqual([
      ['election', false],
      ['votingnumber', true],
    ]);
    expect(reg.attributeType('irma-demo.stemmen.stempas.votingnumber')).toMatchObject({
      credentialTypeId: 'irma-demo.stemmen.stempas',
      index: 1,
      randomBlind: true,
    });
  });

  it('reads singleton and revocation types', () => {
    const root = reg.credentialType('irma-demo.MijnOverheid.root')!;
    expect(root.singleton).toBe(true);
    expect(root.revocationSupported).toBe(true);
    expect(root.attributes.map((a) => [a.shortId, a.revocation])).toEqual([
      ['BSN', false],
      ['', true],
    ]);
    const singleton = reg.credentialType('irma-demo.MijnOverheid.singleton')!;
    expect(singleton.singleton).toBe(true);
    expect(singleton.revocationSupported).toBe(false);
    expect(reg.credentialType('test.test.revocable')!.revocationSupported).toBe(true);
    expect(reg.credentialType('test.test.email')!.singleton).toBe(false);
    expect(reg.attributeType('irma-demo.MijnOverheid.root.BSN')).toBeDefined();
    expect(reg.attributeType('irma-demo.MijnOverheid.root.')).toBeUndefined();
  });

  it('looks credential types up by their metadata hash', () => {
    expect(reg.credentialTypeByHash('d6cb6a94f69de5e7697d2d4d6b553e0c')!.id).toBe('irma-demo.RU.studentCard');
    expect(reg.credentialTypeByHash('08b8e700330162515cb86393ed9d3146')!.id).toBe('irma-demo.MijnOverheid.root');
    expect(reg.credentialTypeByHash('D6CB6A94F69DE5E7697D2D4D6B553E0C')!.id).toBe('irma-demo.RU.studentCard');
    for (const ct of reg.credentialTypes.values()) {
      expect(ct.hashHex).toBe(typeHash(ct.id));
      expect(reg.credentialTypeByHash(typeHash(ct.id))).toBe(ct);
    }
    expect(reg.credentialTypeByHash(typeHash('irma-demo.RU.nothing'))).toBeUndefined();
  });

  it('loads public keys by counter, with sizes and bases as on disk', () => {
    expect(reg.publicKey('irma-demo.RU', 2)!.R.length).toBe(16);
    expect(reg.publicKey('irma-demo.RU', 0)!.R.length).toBe(6);
    expect(reg.publicKey('irma-demo.MijnOverheid', 2)!.R.length).toBe(20);
    const stemmen = reg.publicKey('irma-demo.stemmen', 0)!;
    expect(bitLength(stemmen.n)).toBe(2048);
    expect(stemmen.R.length).toBe(12);
    expect(bitLength(reg.publicKey('test.test', 2)!.n)).toBe(4096);
    expect(reg.publicKey('irma-demo.RU', 3)).toBeUndefined();
    expect(reg.publicKey('irma-demo.RU', 2)!.issuerId).toBe('irma-demo.RU');
  });

  it('picks the newest key that has not expired', () => {
    // test.test expiry dates: 0 → 1491436800, 1 → 1893456000, 2 → 1541420437, 3 → 1881423265, 4 → 1810898075
    expect(reg.latestPublicKey('test.test', 1800000000)!.counter).toBe(4);
    expect(reg.latestPublicKey('test.test', 1850000000)!.counter).toBe(3);
    expect(reg.latestPublicKey('test.test', 1890000000)!.counter).toBe(1);
    expect(reg.latestPublicKey('test.test', 1893456000)!.counter).toBe(1);
    expect(reg.latestPublicKey('test.test', 1893456001)).toBeUndefined();
    expect(reg.latestPublicKey('nope.nope')).toBeUndefined();
  });

  it('loads the keyshare server keys of distributed schemes', () => {
    const kss0 = reg.keysharePublicKey!('test', 0)!;
    expect(kss0.asymmetricKeyType).toBe('rsa');
    expect(kss0.export({ type: 'spki', format: 'pem' })).toBe(readFileSync(join(REFERENCE_SCHEMES, 'test/kss-0.pem'), 'utf8'));
    expect(reg.keysharePublicKey!('test', 1)).toBeDefined();
    expect(reg.keysharePublicKey!('test', 2)).toBeUndefined();
    expect(reg.keysharePublicKey!('test2', 0)).toBeDefined();
    expect(reg.keysharePublicKey!('irma-demo', 0)).toBeUndefined();
  });

  it('finds the private keys stored inside the schemes', () => {
    for (const c of [0, 1, 2]) expect(reg.privateKey('irma-demo.MijnOverheid', c)!.counter).toBe(c);
    expect(reg.privateKey('irma-demo.stemmen', 0)!.n).toBe(reg.publicKey('irma-demo.stemmen', 0)!.n);
    expect(reg.latestPrivateKey('irma-demo.MijnOverheid')!.counter).toBe(2);
    expect(reg.latestPrivateKey('irma-demo.RU')).toBeUndefined();
    expect(reg.privateKey('irma-demo.MijnOverheid', 3)).toBeUndefined();
    const sk = reg.privateKey('irma-demo.MijnOverheid', 2)!;
    expect(sk.p * sk.q).toBe(reg.publicKey('irma-demo.MijnOverheid', 2)!.n);
    // The same bytes the reference signs with.
    expect(readFileSync(join(REFERENCE_SCHEMES, 'irma-demo/MijnOverheid/PrivateKeys/2.xml'), 'utf8')).toContain(sk.p.toString());
  });
});
