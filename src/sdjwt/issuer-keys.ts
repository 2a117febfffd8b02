// The SD-JWT VC issuers of this server, read from the two directories of the reference's layout
// (sdjwtvc-issuance.md §4.2): `<certs>/<scheme>.<issuer>.pem` (certificate chain, leaf first) and
// `<privkeys>/<scheme>.<issuer>.pem` (P-256 private key). Unlike the reference, which disables
// SD-JWT issuance with a warning, a file that cannot be used stops the server and is named.
import { createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateInfo, pemCertificates } from './certificate-info.js';
import { SdJwtError } from './errors.js';

export interface SdJwtIssuer {
  /** `<scheme>.<issuer>`: signs the SD-JWT VCs of all credential types of that issuer. */
  id: string;
  /** Non-extractable WebCrypto key: jose signs with it several times faster than with a KeyObject. */
  key: CryptoKey;
  /** The chain as it goes into the `x5c` header: standard base64 DER, leaf first. */
  x5c: string[];
  /** The first URI of the leaf's subjectAltName: the `iss` that current and older apps accept. */
  iss: string;
}

export type SdJwtIssuers = ReadonlyMap<string, SdJwtIssuer>;

export interface SdJwtDirectories {
  issuerCertificatesDir: string;
  issuerPrivateKeysDir: string;
}

export interface LoadedIssuers {
  issuers: SdJwtIssuers;
  /** What the app would object to but does not stop signing (expired certificate, missing extension, ...). */
  warnings: string[];
}

const ISSUER_FILE = /^([^.\s/]+\.[^.\s/]+)\.pem$/;

async function pemFiles(dir: string, what: string): Promise<Map<string, string>> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new SdJwtError(`cannot read the sdjwtvc ${what} directory ${dir}: ${(e as Error).message}`);
  }
  const files = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith('.pem')) continue;
    const path = join(dir, entry.name);
    const m = ISSUER_FILE.exec(entry.name);
    if (!m) throw new SdJwtError(`${path}: the file name must be <scheme>.<issuer>.pem`);
    files.set(m[1], path);
  }
  return files;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new SdJwtError(`${path}: ${(e as Error).message}`);
  }
}

async function loadKey(path: string): Promise<KeyObject> {
  let key: KeyObject;
  try {
    key = createPrivateKey(await readText(path));
  } catch (e) {
    if (e instanceof SdJwtError) throw e;
    throw new SdJwtError(`${path}: not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SdJwtError(`${path}: the private key must be an EC key on P-256 (SD-JWT VCs are signed with ES256)`);
  }
  return key;
}

async function loadChain(path: string, key: KeyObject, keyPath: string, now: Date, warnings: string[]): Promise<{ x5c: string[]; iss: string }> {
  const pems = pemCertificates(await readText(path));
  if (pems.length === 0) throw new SdJwtError(`${path}: no CERTIFICATE block`);
  let chain: X509Certificate[];
  try {
    chain = pems.map((p) => new X509Certificate(p));
  } catch {
    throw new SdJwtError(`${path}: a certificate does not parse`);
  }
  const leaf = chain[0];
  if (!leaf.checkPrivateKey(key)) throw new SdJwtError(`${path}: the first certificate is not the one of private key ${keyPath}`);
  let info;
  try {
    info = certificateInfo(leaf);
  } catch {
    throw new SdJwtError(`${path}: the extensions of the first certificate do not parse`);
  }
  const iss = info.uris[0];
  if (iss === undefined) throw new SdJwtError(`${path}: the first certificate has no URI in its subjectAltName (the issuer URL)`);
  if (!/^https:\/\/[^/\s]/.test(iss)) throw new SdJwtError(`${path}: the issuer URL must be an https URL (was '${iss}')`);
  if (info.digitalSignature !== true) warnings.push(`${path}: the certificate lacks the digitalSignature key usage the app requires`);
  if (!info.requestorInfo) warnings.push(`${path}: the certificate lacks extension 2.1.123.1 (the app requires it)`);
  for (const [i, c] of chain.entries()) {
    if (new Date(c.validTo) < now || new Date(c.validFrom) > now) warnings.push(`${path}: certificate ${i + 1} is not valid now`);
    const parent = chain[i + 1];
    if (parent && !(c.checkIssued(parent) && c.verify(parent.publicKey))) {
      warnings.push(`${path}: certificate ${i + 1} is not issued by certificate ${i + 2}`);
    }
  }
  return { x5c: chain.map((c) => c.raw.toString('base64')), iss };
}

/**
 * Reads both directories. Every key needs a chain; a chain without a key only warns (it signs
 * nothing). Throws SdJwtError naming the first unusable file.
 */
export async function loadSdJwtIssuers(dirs: SdJwtDirectories, now = new Date()): Promise<LoadedIssuers> {
  const keys = await pemFiles(dirs.issuerPrivateKeysDir, 'private keys');
  const certs = await pemFiles(dirs.issuerCertificatesDir, 'certificates');
  const warnings: string[] = [];
  const issuers = new Map<string, SdJwtIssuer>();
  for (const [id, keyPath] of [...keys].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const key = await loadKey(keyPath);
    const certPath = certs.get(id);
    if (certPath === undefined) {
      throw new SdJwtError(`${keyPath}: no certificate chain ${join(dirs.issuerCertificatesDir, `${id}.pem`)} for this key`);
    }
    const chain = await loadChain(certPath, key, keyPath, now, warnings);
    const signingKey = await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    issuers.set(id, { id, key: signingKey, ...chain });
  }
  for (const [id, certPath] of certs) if (!keys.has(id)) warnings.push(`${certPath}: no private key for this certificate chain`);
  if (issuers.size === 0) warnings.push(`no SD-JWT VC issuer keys in ${dirs.issuerPrivateKeysDir}`);
  return { issuers, warnings };
}
