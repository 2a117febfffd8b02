// The SD-JWT VC layer on its own: disclosures against the digest's vector, holder key checks, the
// issuer directories, and issued SD-JWT VCs judged by our holder check and by @sd-jwt/sd-jwt-vc.
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { issueBatch, sdJwtRequestProblem } from '../../src/sdjwt/batch.js';
import { disclosureDigest, makeDisclosure } from '../../src/sdjwt/disclosure.js';
import { parseHolderKey, parseHolderKeys, type HolderJwk } from '../../src/sdjwt/holder-key.js';
import { makeIssuerLeaf, makeTestCa } from '../../src/sdjwt/issuer-chain.js';
import { loadSdJwtIssuers, type SdJwtIssuers } from '../../src/sdjwt/issuer-keys.js';
import { verifySdJwtVc } from '../../src/sdjwt/verify.js';
import { independentVerifier, writeIssuerDirs, type TestIssuerDirs } from './support.js';

function holderPair(): { pub: HolderJwk; priv: JsonWebKey } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { pub: parseHolderKey(publicKey.export({ format: 'jwk' })), priv: privateKey.export({ format: 'jwk' }) };
}

let dir: string;
let dirs: TestIssuerDirs;
let issuers: SdJwtIssuers;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdjwt-'));
  dirs = await writeIssuerDirs(join(dir, 'ok'), ['irma-demo.MijnOverheid', 'test.test']);
  issuers = (await loadSdJwtIssuers({ issuerCertificatesDir: dirs.certs, issuerPrivateKeysDir: dirs.privkeys })).issuers;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('disclosures', () => {
  it('match the vector of the digest (§5.3)', () => {
    const salt = Buffer.from([...Array(16).keys()]).toString('base64url');
    expect(salt).toBe('AAECAwQFBgcICQoLDA0ODw');
    const d = makeDisclosure('email', 'test@gmail.com', salt);
    expect(d.encoded).toBe('WyJBQUVDQXdRRkJnY0lDUW9MREEwT0R3IiwiZW1haWwiLCJ0ZXN0QGdtYWlsLmNvbSJd');
    expect(d.digest).toBe('BnF3RlwuwYs-OrZHj5OnNvpdoyM9HwuOQUenkMSvdTU');
    expect(disclosureDigest(d.encoded)).toBe(d.digest);
  });

  it('get a fresh 16-byte salt each time', () => {
    const salts = new Set(Array.from({ length: 50 }, () => JSON.parse(Buffer.from(makeDisclosure('a', 'b').encoded, 'base64url').toString())[0]));
    expect(salts.size).toBe(50);
    for (const s of salts) expect(Buffer.from(s as string, 'base64url')).toHaveLength(16);
  });
});

describe('holder keys', () => {
  const good = holderPair().pub;
  it('keep only crv, kty, x, y', () => {
    expect(parseHolderKey({ ...good, kid: 'k', alg: 'ES256', use: 'sig' })).toEqual(good);
  });
  it.each([
    ['a private key', { ...good, d: good.x }, /private key material \(member d\)/],
    ['an RSA key', { kty: 'RSA', n: 'AQAB', e: 'AQAB' }, /key type must be EC/],
    ['a symmetric key', { kty: 'oct', k: 'AAAA' }, /private key material \(member k\)/],
    ['another curve', { ...good, crv: 'P-384' }, /curve must be P-256/],
    ['a short coordinate', { ...good, x: good.x.slice(1) }, /member x must be a 32-byte/],
    ['a numeric coordinate', { ...good, y: 5 }, /member y must be a 32-byte/],
    ['a point off the curve', { ...good, y: good.x }, /not a point on P-256/],
    ['no object', 'key', /not a JWK object/],
  ])('refuse %s', (_what, jwk, message) => {
    expect(() => parseHolderKey(jwk)).toThrow(message);
  });
  it('refuse one key twice in a message', () => {
    expect(() => parseHolderKeys([good, holderPair().pub, { ...good }])).toThrow('keybinding_pub_keys[2]: the same key occurs twice');
  });
});

describe('issuer directories', () => {
  it('load key, chain (leaf first) and the issuer URL of the leaf', () => {
    const i = issuers.get('test.test')!;
    expect(i.iss).toBe('https://issuer.example');
    expect(i.x5c).toHaveLength(2);
    expect(new X509Certificate(Buffer.from(i.x5c[1], 'base64')).fingerprint256).toBe(new X509Certificate(dirs.ca.certificate).fingerprint256);
  });

  async function loadError(setup: (d: TestIssuerDirs) => Promise<unknown>): Promise<string> {
    const d = await writeIssuerDirs(await mkdtemp(join(dir, 'bad-')), ['irma-demo.RU']);
    await setup(d);
    return loadSdJwtIssuers({ issuerCertificatesDir: d.certs, issuerPrivateKeysDir: d.privkeys }).then(
      () => 'loaded',
      (e: Error) => e.message,
    );
  }

  it('name the file that cannot be used', async () => {
    expect(await loadError((d) => writeFile(join(d.privkeys, 'irma-demo.RU.pem'), 'garbage'))).toMatch(/privkeys\/irma-demo\.RU\.pem: not a PEM private key/);
    expect(await loadError((d) => writeFile(join(d.certs, 'irma-demo.RU.pem'), 'garbage'))).toMatch(/certs\/irma-demo\.RU\.pem: no CERTIFICATE block/);
    expect(await loadError((d) => writeFile(join(d.privkeys, 'x.pem'), 'garbage'))).toMatch(/privkeys\/x\.pem: the file name must be <scheme>\.<issuer>\.pem/);
    expect(await loadError((d) => rm(join(d.certs, 'irma-demo.RU.pem')))).toMatch(/privkeys\/irma-demo\.RU\.pem: no certificate chain .*certs\/irma-demo\.RU\.pem/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    expect(await loadError((d) => writeFile(join(d.privkeys, 'irma-demo.RU.pem'), p384))).toMatch(/irma-demo\.RU\.pem: the private key must be an EC key on P-256/);
    const other = makeIssuerLeaf(makeTestCa(), { issuerId: 'irma-demo.RU', host: 'other.example' });
    expect(await loadError((d) => writeFile(join(d.privkeys, 'irma-demo.RU.pem'), other.privateKey))).toMatch(/certs\/irma-demo\.RU\.pem: the first certificate is not the one of private key/);
  });
});

describe('issued SD-JWT VCs', () => {
  const attributes = { email: 'test@gmail.com', domain: 'gmail.com' };
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + 86400 * 180;

  it('verify for the holder and for @sd-jwt/sd-jwt-vc, also presented with a key-binding JWT', async () => {
    const holders = [holderPair(), holderPair()];
    const sdjwts = await issueBatch({
      credentials: [{ credential: 'test.test.email', attributes, validity: exp, sdJwtBatchSize: 2 }],
      keys: holders.map((h) => h.pub),
      issuers,
      iat,
    });
    expect(sdjwts).toHaveLength(2);
    for (const [k, sdjwt] of sdjwts.entries()) {
      expect(sdjwt.endsWith('~')).toBe(true);
      const header = JSON.parse(Buffer.from(sdjwt.split('.')[0], 'base64url').toString());
      expect(Object.keys(header)).toEqual(['alg', 'typ', 'x5c']);
      expect(header).toMatchObject({ alg: 'ES256', typ: 'dc+sd-jwt' });
      const payload = JSON.parse(Buffer.from(sdjwt.split('~')[0].split('.')[1], 'base64url').toString());
      expect(Object.keys(payload)).toEqual(['_sd', '_sd_alg', 'cnf', 'exp', 'iat', 'iss', 'vct']);
      expect(payload).toMatchObject({ iss: 'https://issuer.example', vct: 'test.test.email', iat, exp, cnf: { jwk: holders[k].pub } });

      const mine = await verifySdJwtVc(sdjwt, { trustAnchors: [new X509Certificate(dirs.ca.certificate)], now: iat, holderKey: holders[k].pub });
      expect(mine.claims).toEqual(attributes);

      const theirs = independentVerifier(dirs.ca.certificate, holders[k].priv);
      const plain = await theirs.verify(sdjwt, { currentDate: iat });
      expect(plain.payload).toMatchObject({ ...attributes, vct: 'test.test.email' });
      const presented = await theirs.present(sdjwt, { email: true }, { kb: { payload: { iat, aud: 'https://verifier.example', nonce: 'n-0S6_WzA2Mj' } } });
      const checked = await theirs.verify(presented, { currentDate: iat, keyBindingNonce: 'n-0S6_WzA2Mj' });
      expect(checked.kb?.payload.aud).toBe('https://verifier.example');
      expect(checked.payload.email).toBe('test@gmail.com');
      expect(checked.payload.domain).toBeUndefined();
      // A key-binding JWT by another key than cnf's does not pass.
      const forged = await independentVerifier(dirs.ca.certificate, holderPair().priv).present(sdjwt, { email: true }, {
        kb: { payload: { iat, aud: 'https://verifier.example', nonce: 'n' } },
      });
      await expect(theirs.verify(forged, { currentDate: iat, keyBindingNonce: 'n' })).rejects.toThrow();
    }
  });

  it('are refused by the holder when tampered with, from an untrusted issuer, or bound to another key', async () => {
    const h = holderPair();
    const [sdjwt] = await issueBatch({ credentials: [{ credential: 'test.test.email', attributes, validity: exp, sdJwtBatchSize: 1 }], keys: [h.pub], issuers, iat });
    const anchors = [new X509Certificate(dirs.ca.certificate)];
    const check = (s: string, opts: Partial<Parameters<typeof verifySdJwtVc>[1]> = {}) =>
      verifySdJwtVc(s, { trustAnchors: anchors, now: iat, holderKey: h.pub, ...opts }).then(() => 'ok', (e: Error) => e.message);
    expect(await check(sdjwt)).toBe('ok');
    expect(await check(sdjwt, { holderKey: holderPair().pub })).toBe('cnf.jwk is not the key sent for this instance');
    expect(await check(sdjwt, { trustAnchors: [new X509Certificate(makeTestCa().certificate)] })).toBe('the issuer certificate does not chain to a trusted certificate');
    expect(await check(sdjwt, { now: exp + 1000 })).toBe('the SD-JWT VC has expired');
    expect(await check(sdjwt.slice(0, -1))).toMatch(/must end in ~/);
    const extra = makeDisclosure('email', 'evil@example.com').encoded;
    expect(await check(`${sdjwt}${extra}~`)).toBe('a disclosure has no digest in _sd');
    const [jws, ...rest] = sdjwt.split('~');
    const [h64, p64, s64] = jws.split('.');
    const payload = JSON.parse(Buffer.from(p64, 'base64url').toString());
    payload.vct = 'test.test.mobilephone';
    const tampered = [h64, Buffer.from(JSON.stringify(payload)).toString('base64url'), s64].join('.');
    expect(await check([tampered, ...rest].join('~'))).toBe('the issuer signature does not verify');
  });

  it('need a key per instance and an issuer per credential that asks for them', async () => {
    const h = holderPair();
    const creds = [{ credential: 'test.test.email', attributes, validity: exp, sdJwtBatchSize: 2 }];
    await expect(issueBatch({ credentials: creds, keys: [h.pub], issuers, iat })).rejects.toThrow(
      'number of requested SD-JWTs (2) does not match the number of pub keys (1)',
    );
    const other = [{ credential: 'irma-demo.RU.studentCard', attributes: {}, validity: exp, sdJwtBatchSize: 1 }];
    await expect(issueBatch({ credentials: other, keys: [h.pub], issuers, iat })).rejects.toThrow('no issuer configured for irma-demo.RU');
    expect(sdJwtRequestProblem(other, issuers)).toMatch(/no SD-JWT VC issuer configured for irma-demo.RU/);
    expect(sdJwtRequestProblem([{ ...other[0], sdJwtBatchSize: 0 }, ...creds], issuers)).toBeUndefined();
    expect(sdJwtRequestProblem(other, undefined)).toBeUndefined();
    const many = Array.from({ length: 6 }, () => ({ ...creds[0], sdJwtBatchSize: 200 }));
    expect(sdJwtRequestProblem(many, issuers)).toMatch(/requested number of sdjwts \(1200\) is higher than the maximum per session \(1000\)/);
  });
});
