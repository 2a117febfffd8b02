// Test issuer material for SD-JWT VC tests: a CA, issuer leaves for the given issuers written in the
// server's directory layout, and an independent verifier (the OpenWallet Foundation's
// @sd-jwt/sd-jwt-vc) wired to node:crypto and to the CA.
import { createHash, createPrivateKey, createPublicKey, sign, verify, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { makeIssuerLeaf, makeTestCa, type ChainMember } from '../../src/sdjwt/issuer-chain.js';

export interface TestIssuerDirs {
  ca: ChainMember;
  certs: string;
  privkeys: string;
}

/** `<dir>/certs/<id>.pem` (leaf + CA) and `<dir>/privkeys/<id>.pem` for each issuer id. */
export async function writeIssuerDirs(dir: string, issuerIds: string[], host = 'issuer.example'): Promise<TestIssuerDirs> {
  const ca = makeTestCa();
  const certs = join(dir, 'certs');
  const privkeys = join(dir, 'privkeys');
  await mkdir(certs, { recursive: true });
  await mkdir(privkeys, { recursive: true });
  for (const id of issuerIds) {
    const leaf = makeIssuerLeaf(ca, { issuerId: id, host });
    await writeFile(join(certs, `${id}.pem`), leaf.certificate + ca.certificate);
    await writeFile(join(privkeys, `${id}.pem`), leaf.privateKey);
  }
  return { ca, certs, privkeys };
}

const hasher = (data: string | ArrayBuffer, alg: string): Uint8Array => {
  if (alg !== 'sha-256') throw new Error(`unexpected hash ${alg}`);
  return new Uint8Array(createHash('sha256').update(typeof data === 'string' ? data : Buffer.from(data)).digest());
};

function es256Verify(data: string, sig: string, key: KeyObject): boolean {
  return verify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
}

/**
 * The independent verifier: the issuer signature is checked with the key of the first x5c
 * certificate, which must be issued by `ca`; a key-binding JWT with the key in `cnf.jwk`.
 */
export function independentVerifier(ca: string, holderKey?: JsonWebKey): SDJwtVcInstance {
  const anchor = new X509Certificate(ca);
  return new SDJwtVcInstance({
    hasher,
    hashAlg: 'sha-256',
    verifier: (data, sig) => {
      const header = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString()) as { alg: string; x5c: string[] };
      if (header.alg !== 'ES256') return false;
      const leaf = new X509Certificate(Buffer.from(header.x5c[0], 'base64'));
      if (!leaf.checkIssued(anchor) || !leaf.verify(anchor.publicKey)) return false;
      return es256Verify(data, sig, leaf.publicKey);
    },
    kbVerifier: (data, sig, payload) => {
      const jwk = (payload.cnf as { jwk: JsonWebKey }).jwk;
      return es256Verify(data, sig, createPublicKey({ key: jwk, format: 'jwk' }));
    },
    kbSigner: holderKey
      ? (data) => sign('sha256', Buffer.from(data), { key: createPrivateKey({ key: holderKey, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }).toString('base64url')
      : undefined,
    kbSignAlg: 'ES256',
  });
}
