// The signed index of a scheme: `index` lists the SHA-256 of every signed file as
// "<hex> <scheme-id>/<relative path>" lines, and `index.sig` is a DER ECDSA-P256 signature over
// SHA-256 of the index bytes, made with the key whose public half is `pk.pem`.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { SchemeError } from './errors.js';

/** Relative path inside the scheme (forward slashes) -> SHA-256 of the file. */
export type SchemeIndex = ReadonlyMap<string, Buffer>;

const LINE = /^([0-9a-fA-F]{64}) ([^\s]+)$/;

/** Parses `index` bytes; every entry must belong to scheme `schemeId`. */
export function parseSchemeIndex(bytes: Buffer, schemeId: string, path: string): SchemeIndex {
  const entries = new Map<string, Buffer>();
  const prefix = schemeId + '/';
  bytes
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line === '') return;
      const m = LINE.exec(line);
      if (!m) throw new SchemeError('MALFORMED', path, `index line ${i + 1} is not "<sha256 hex> <path>"`);
      const file = m[2];
      if (!file.startsWith(prefix) || file.length === prefix.length) {
        throw new SchemeError('MALFORMED', path, `index line ${i + 1} names a file outside scheme ${schemeId}`);
      }
      const rel = file.slice(prefix.length);
      if (rel.split('/').some((part) => part === '' || part === '.' || part === '..')) {
        throw new SchemeError('MALFORMED', path, `index line ${i + 1} has an unsafe path`);
      }
      if (entries.has(rel)) throw new SchemeError('MALFORMED', path, `index lists ${file} twice`);
      entries.set(rel, Buffer.from(m[1], 'hex'));
    });
  return entries;
}

/** The index text for `hashes` (relative path -> SHA-256), sorted by path as the reference tools write it. */
export function formatSchemeIndex(schemeId: string, hashes: ReadonlyMap<string, Buffer>): string {
  return [...hashes.keys()]
    .sort()
    .map((rel) => `${hashes.get(rel)!.toString('hex')} ${schemeId}/${rel}\n`)
    .join('');
}

export function signSchemeIndex(index: Buffer, privateKey: KeyObject): Buffer {
  return sign('sha256', index, { key: privateKey, dsaEncoding: 'der' });
}

/** Throws unless `indexSig` is a valid signature over `index` by the P-256 key in `pkPem`. */
export function verifySchemeIndex(schemeDir: string, index: Buffer, indexSig: Buffer, pkPem: Buffer): void {
  const pkPath = join(schemeDir, 'pk.pem');
  let key: KeyObject;
  try {
    key = createPublicKey(pkPem);
  } catch (e) {
    throw new SchemeError('INVALID_SIGNATURE', pkPath, 'scheme public key does not parse', { cause: e });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SchemeError('INVALID_SIGNATURE', pkPath, 'scheme public key is not an ECDSA P-256 key');
  }
  let ok: boolean;
  try {
    ok = verify('sha256', index, { key, dsaEncoding: 'der' }, indexSig);
  } catch {
    ok = false;
  }
  if (!ok) throw new SchemeError('INVALID_SIGNATURE', join(schemeDir, 'index.sig'), 'scheme index signature does not verify');
}
