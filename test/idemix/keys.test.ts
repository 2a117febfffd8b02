import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProbablePrime } from '../../src/idemix/bigint.js';
import { IdemixError } from '../../src/idemix/errors.js';
import {
  checkKeyPair,
  parsePrivateKeyXml,
  parsePublicKeyXml,
  privateKeyToXml,
  publicKeyToXml,
} from '../../src/idemix/keys.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

function keyFiles(kind: 'PublicKeys' | 'PrivateKeys'): string[] {
  const out: string[] = [];
  for (const scheme of readdirSync(REFERENCE_SCHEMES)) {
    const sdir = join(REFERENCE_SCHEMES, scheme);
    for (const issuer of readdirSync(sdir, { withFileTypes: true })) {
      const dir = join(sdir, issuer.name, kind);
      if (!issuer.isDirectory() || !existsSync(dir)) continue;
      for (const f of readdirSync(dir)) if (f.endsWith('.xml')) out.push(join(scheme, issuer.name, kind, f));
    }
  }
  return out.sort();
}

const read = (rel: string) => readFileSync(join(REFERENCE_SCHEMES, rel), 'utf8');

function expectCode(f: () => unknown, code: string): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(IdemixError);
  expect((err as IdemixError).code).toBe(code);
}

const publicFiles = keyFiles('PublicKeys');
const privateFiles = keyFiles('PrivateKeys');

describe('reference public keys', () => {
  it('finds every key file of the reference schemes', () => {
    expect(publicFiles.length).toBe(15);
    expect(privateFiles.length).toBe(4);
  });

  for (const rel of publicFiles) {
    it(`parses and round-trips ${rel}`, () => {
      const xml = read(rel);
      const pk = parsePublicKeyXml(xml, rel.split('/').slice(0, 2).join('.'));
      // Counter equals the file name; the modulus size selects the parameters.
      expect(pk.counter).toBe(Number(rel.split('/').pop()!.replace('.xml', '')));
      expect(pk.n.toString(2).length).toBe(pk.params.Ln);
      // Bases@num equals the child count, and the values are the document's, in order.
      const num = Number(/<Bases num="(\d+)"/.exec(xml)![1]);
      expect(pk.R.length).toBe(num);
      const first = /<Base_0>\s*(\d+)\s*<\/Base_0>/.exec(xml)![1];
      expect(pk.R[0]).toBe(BigInt(first));
      const last = new RegExp(`<Base_${num - 1}>\\s*(\\d+)\\s*</Base_${num - 1}>`).exec(xml)![1];
      expect(pk.R[num - 1]).toBe(BigInt(last));
      expect(pk.S).toBe(BigInt(/<S>\s*(\d+)\s*<\/S>/.exec(xml)![1]));
      expect(pk.Z).toBe(BigInt(/<Z>\s*(\d+)\s*<\/Z>/.exec(xml)![1]));
      expect(pk.expiryDate).toBe(Number(/<ExpiryDate>(\d+)</.exec(xml)![1]));
      expect(pk.G !== undefined).toBe(xml.includes('<G>'));
      expect(pk.ecdsa !== undefined).toBe(xml.includes('<ECDSA>'));
      expect(pk.issuerId).toBe(rel.split('/').slice(0, 2).join('.'));
      const again = parsePublicKeyXml(publicKeyToXml(pk), pk.issuerId);
      expect(again).toEqual(pk);
    });
  }

  it('reads the sizes and base counts the spec lists', () => {
    const shape = (rel: string) => {
      const pk = parsePublicKeyXml(read(rel));
      return [pk.params.Ln, pk.R.length];
    };
    expect(shape('irma-demo/RU/PublicKeys/2.xml')).toEqual([1024, 16]);
    expect(shape('irma-demo/MijnOverheid/PublicKeys/2.xml')).toEqual([1024, 20]);
    expect(shape('irma-demo/stemmen/PublicKeys/0.xml')).toEqual([2048, 12]);
    expect(shape('test/test/PublicKeys/2.xml')).toEqual([4096, 6]);
  });

  it('writes gabi’s layout', () => {
    const pk = parsePublicKeyXml(read('test/test/PublicKeys/2.xml'));
    // That file was written by gabi itself, so our output must match it byte for byte.
    expect(publicKeyToXml(pk)).toBe(read('test/test/PublicKeys/2.xml').replace(/\n?$/, '\n'));
  });
});

describe('reference private keys', () => {
  for (const rel of privateFiles) {
    it(`parses ${rel} and matches its public key`, () => {
      const sk = parsePrivateKeyXml(read(rel));
      const pk = parsePublicKeyXml(read(rel.replace('PrivateKeys', 'PublicKeys')));
      checkKeyPair(pk, sk);
      expect(sk.order).toBe(sk.pPrime * sk.qPrime);
      for (const x of [sk.p, sk.q, sk.pPrime, sk.qPrime]) expect(isProbablePrime(x, 8)).toBe(true);
      const again = parsePrivateKeyXml(privateKeyToXml(sk));
      expect(again).toEqual(sk);
    });
  }

  it('rejects mismatched pairs and broken relations with INVALID_KEY', () => {
    const sk = parsePrivateKeyXml(read('irma-demo/MijnOverheid/PrivateKeys/2.xml'));
    const pk = parsePublicKeyXml(read('irma-demo/MijnOverheid/PublicKeys/2.xml'));
    const other = parsePublicKeyXml(read('irma-demo/RU/PublicKeys/2.xml'));
    expectCode(() => checkKeyPair(other, sk), 'INVALID_KEY');
    expectCode(() => checkKeyPair(pk, { ...sk, pPrime: sk.pPrime + 2n }), 'INVALID_KEY');
    expectCode(() => checkKeyPair(pk, { ...sk, counter: 7 }), 'INVALID_KEY');
    expectCode(() => checkKeyPair(pk, { ...sk, order: sk.order + 1n }), 'INVALID_KEY');
    // A consistent-looking pair whose "primes" are composite: p' = 3·5, q' = 7·11.
    const [pp, qq] = [15n, 77n];
    const [p, q] = [2n * pp + 1n, 2n * qq + 1n];
    expectCode(
      () => checkKeyPair({ ...pk, n: p * q }, { ...sk, p, q, pPrime: pp, qPrime: qq, n: p * q, order: pp * qq }),
      'INVALID_KEY',
    );
  });

  it('ignores an <n> element and derives n = p·q', () => {
    const xml = read('irma-demo/MijnOverheid/PrivateKeys/0.xml').replace(/<n>\d+<\/n>/, '<n>12345</n>');
    const sk = parsePrivateKeyXml(xml);
    expect(sk.n).toBe(sk.p * sk.q);
  });
});

describe('malformed key XML', () => {
  const good = read('irma-demo/RU/PublicKeys/0.xml');
  const goodSk = read('irma-demo/stemmen/PrivateKeys/0.xml');

  const publicCases: Array<[string, string, string]> = [
    ['not XML at all', 'hello', 'MALFORMED'],
    ['empty', '', 'MALFORMED'],
    ['wrong root', good.replace(/IssuerPublicKey/g, 'IssuerPrivateKey'), 'MALFORMED'],
    ['missing n', good.replace(/<n>\d+<\/n>/, ''), 'MALFORMED'],
    ['missing S', good.replace(/<S>\d+<\/S>/, ''), 'MALFORMED'],
    ['missing Counter', good.replace(/<Counter>\d+<\/Counter>/, ''), 'MALFORMED'],
    ['missing Bases', good.replace(/<Bases[\s\S]*<\/Bases>/, ''), 'MALFORMED'],
    ['Bases@num too high', good.replace(/<Bases num="6">/, '<Bases num="7">'), 'MALFORMED'],
    ['Bases@num missing', good.replace(/<Bases num="6">/, '<Bases>'), 'MALFORMED'],
    ['negative number', good.replace(/<Z>/, '<Z>-'), 'MALFORMED'],
    ['hex number', good.replace(/<Z>\d+/, '<Z>0x1f'), 'MALFORMED'],
    ['empty number', good.replace(/<Z>\d+/, '<Z>'), 'MALFORMED'],
    ['duplicate element', good.replace(/(<S>\d+<\/S>)/, '$1$1'), 'MALFORMED'],
    ['huge counter', good.replace(/<Counter>\d+/, '<Counter>99999999999999999999'), 'MALFORMED'],
    ['1023-bit modulus', good.replace(/<n>\d+/, `<n>${(1n << 1022n) + 1n}`), 'INVALID_KEY'],
    ['3072-bit modulus', good.replace(/<n>\d+/, `<n>${(1n << 3071n) + 1n}`), 'INVALID_KEY'],
    ['base ≥ n', good.replace(/<Base_2>\d+/, `<Base_2>${1n << 1100n}`), 'INVALID_KEY'],
    ['S = 0', good.replace(/<S>\d+/, '<S>0'), 'INVALID_KEY'],
    ['absurdly long number', good.replace(/<n>\d+/, '<n>' + '9'.repeat(5000)), 'INVALID_KEY'],
    ['entity expansion', good.replace(/<Counter>\d+/, '<Counter>&lol;'), 'MALFORMED'],
    ['two roots', good + good.replace(/^<\?xml[^>]*>/, ''), 'MALFORMED'],
    ['truncated', good.slice(0, -30), 'MALFORMED'],
  ];
  for (const [label, xml, code] of publicCases) {
    it(`public key: ${label} → ${code}`, () => expectCode(() => parsePublicKeyXml(xml), code));
  }

  const privateCases: Array<[string, string]> = [
    ['missing p', goodSk.replace(/<p>\d+<\/p>/, '')],
    ['missing qPrime', goodSk.replace(/<qPrime>\d+<\/qPrime>/, '')],
    ['signed number', goodSk.replace(/<q>/, '<q>+')],
    ['wrong root', goodSk.replace(/IssuerPrivateKey/g, 'IssuerPublicKey')],
  ];
  for (const [label, xml] of privateCases) {
    it(`private key: ${label} → MALFORMED`, () => expectCode(() => parsePrivateKeyXml(xml), 'MALFORMED'));
  }

  it('rejects a non-string argument with a typed error', () => {
    expectCode(() => parsePublicKeyXml(undefined as unknown as string), 'MALFORMED');
  });
});
