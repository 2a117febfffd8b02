// Signing a scheme folder as the reference's `irma scheme sign` does: a fresh `timestamp`, the
// SHA-256 of every file the reference signs listed in `index`, an ECDSA P-256 signature over the
// index in `index.sig`, and the signer's public key in `pk.pem`.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SchemeError } from './errors.js';
import { formatSchemeIndex, signSchemeIndex } from './scheme-index.js';
import { parseXml, requiredText } from './xml.js';

export type SchemeKind = 'issuer' | 'requestor';

export interface SchemeIdentity {
  id: string;
  kind: SchemeKind;
  /** Where updates are downloaded from (`<Url>`, or `url` of a requestor scheme). */
  url: string;
}

/** A new scheme signing key pair as PEM: SEC1 private key (sk.pem), SPKI public key (pk.pem). */
export function generateSchemeKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function parseSchemeSigningKey(pem: Buffer | string, path: string): KeyObject {
  if (pem.toString().includes('ENCRYPTED')) {
    throw new SchemeError('INVALID_KEY', path, 'passphrase-protected scheme keys are not supported; decrypt it first');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new SchemeError('INVALID_KEY', path, 'scheme private key does not parse', { cause: e });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SchemeError('INVALID_KEY', path, 'scheme private key is not an ECDSA P-256 key');
  }
  return key;
}

/** Id, kind and URL from the scheme's description.xml (issuer scheme) or description.json (requestor scheme). */
export async function readSchemeIdentity(dir: string): Promise<SchemeIdentity> {
  const xmlPath = join(dir, 'description.xml');
  const xml = await readFile(xmlPath, 'utf8').catch(() => undefined);
  if (xml !== undefined) return schemeIdentityFromXml(xml, xmlPath);
  const jsonPath = join(dir, 'description.json');
  const json = await readFile(jsonPath, 'utf8').catch(() => undefined);
  if (json === undefined) throw new SchemeError('IO', dir, 'no description.xml or description.json: not a scheme folder');
  return schemeIdentityFromJson(json, jsonPath);
}

export function schemeIdentityFromXml(xml: string, path: string): SchemeIdentity {
  const root = parseXml(xml, path, 'SchemeManager');
  return checked({ id: requiredText(root, 'Id', path), kind: 'issuer', url: requiredText(root, 'Url', path) }, path);
}

export function schemeIdentityFromJson(json: string, path: string): SchemeIdentity {
  let d: unknown;
  try {
    d = JSON.parse(json);
  } catch (e) {
    throw new SchemeError('MALFORMED', path, 'description.json is not JSON', { cause: e });
  }
  const o = (d ?? {}) as Record<string, unknown>;
  if (typeof o.id !== 'string' || typeof o.url !== 'string') {
    throw new SchemeError('MALFORMED', path, 'description.json needs string fields "id" and "url"');
  }
  return checked({ id: o.id, kind: 'requestor', url: o.url }, path);
}

function checked(identity: SchemeIdentity, path: string): SchemeIdentity {
  if (!/^[A-Za-z0-9_-]+$/.test(identity.id)) throw new SchemeError('MALFORMED', path, `scheme id "${identity.id}" is not a valid identifier`);
  return identity;
}

/** Whether the reference signs the file at `rel` (forward slashes, relative to the scheme folder). */
export function isSignedFile(rel: string, kind: SchemeKind): boolean {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  if (rel.endsWith('index')) return false;
  if (name === 'timestamp') return true;
  if (kind === 'requestor') return name.endsWith('.json');
  if (`/${rel}`.includes('/PrivateKeys/') || `/${rel}`.includes('/Proofs/')) return false;
  return name.endsWith('.xml') || name.endsWith('.png') || /^kss-\d+\.pem$/.test(name);
}

async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(dir, rel), { withFileTypes: true });
  for (const e of entries) {
    // Hidden entries are version control or unfinished downloads, never scheme content.
    if (e.name.startsWith('.')) continue;
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await walk(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** SHA-256 of every file of the scheme in `dir` that the index must list. */
export async function hashSchemeFiles(dir: string, kind: SchemeKind): Promise<Map<string, Buffer>> {
  const hashes = new Map<string, Buffer>();
  for (const rel of (await walk(dir)).filter((r) => isSignedFile(r, kind))) {
    const bytes = await readFile(join(dir, ...rel.split('/')));
    // The reference refuses CRLF text: the app hashes the bytes, and git may convert line endings.
    if (!rel.endsWith('.png') && bytes.includes('\r\n')) {
      throw new SchemeError('MALFORMED', join(dir, rel), 'file has CRLF (Windows) line endings; convert them to LF');
    }
    hashes.set(rel, createHash('sha256').update(bytes).digest());
  }
  return hashes;
}

export interface SignedSchemeFolder {
  identity: SchemeIdentity;
  files: number;
  timestamp: number;
}

/** Writes timestamp, index, index.sig and pk.pem into the scheme folder `dir`. */
export async function signSchemeFolder(dir: string, privateKey: KeyObject, now = Math.floor(Date.now() / 1000)): Promise<SignedSchemeFolder> {
  const identity = await readSchemeIdentity(dir);
  await writeFile(join(dir, 'timestamp'), `${now}\n`);
  const hashes = await hashSchemeFiles(dir, identity.kind);
  const index = Buffer.from(formatSchemeIndex(identity.id, hashes), 'utf8');
  await writeFile(join(dir, 'index'), index);
  await writeFile(join(dir, 'index.sig'), signSchemeIndex(index, privateKey));
  await writeFile(join(dir, 'pk.pem'), createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString());
  return { identity, files: hashes.size, timestamp: now };
}
