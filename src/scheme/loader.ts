// Loads an irma_configuration folder: every scheme in it (descriptions, public keys, the private
// keys it carries), verified against its signed index, plus a separate private-key folder.
import type { KeyObject } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { PrivateKey, PublicKey } from '../idemix/keys.js';
import { parseCredentialTypeDescription, parseIssuerDescription, parseSchemeDescription } from './descriptions.js';
import { SchemeError } from './errors.js';
import { counterOfFileName, parseKeyshareKey, parsePrivateKeyFile, parsePublicKeyFile } from './key-files.js';
import { LoadedSchemeRegistry } from './registry.js';
import { SchemeFiles } from './scheme-files.js';
import type { CredentialType, Issuer, SchemeManager } from './types.js';

export interface LoadSchemesOptions {
  /** Folder holding one folder per scheme. */
  schemesPath: string;
  /** Folder with `<scheme>.<issuer>.<counter>.xml` or `<scheme>.<issuer>.xml` private keys. */
  privateKeysPath?: string;
  /** Verify index.sig and every file's hash (default true). */
  requireSignatures?: boolean;
}

/** Everything read from one scheme folder. */
export interface LoadedScheme {
  scheme: SchemeManager;
  /** Unix seconds from the scheme's `timestamp` file, when present. */
  timestamp?: number;
  issuers: Issuer[];
  credentialTypes: CredentialType[];
  publicKeys: Map<string, Map<number, PublicKey>>;
  privateKeys: Map<string, Map<number, PrivateKey>>;
  /** kss-<kid>.pem by kid. */
  keyshareKeys: Map<number, KeyObject>;
}

interface LoadedIssuer {
  issuer: Issuer;
  credentialTypes: CredentialType[];
  publicKeys: Map<number, PublicKey>;
  privateKeys: Map<number, PrivateKey>;
}

const KEYSHARE_KEY_FILE = /^kss-(0|[1-9][0-9]{0,4})\.pem$/;
const PRIVATE_KEY_FILE = /^([^.]+)\.([^.]+)(?:\.(0|[1-9][0-9]{0,4}))?\.xml$/;

function ioError(path: string, what: string, e: unknown): SchemeError {
  const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new SchemeError('IO', path, `cannot ${what}: ${reason}`, { cause: e });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch (e) {
    throw ioError(path, 'list folder', e);
  }
}

/** Private keys are never part of the signed index: they are read as plain files. */
async function readPlainText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw ioError(path, 'read file', e);
  }
}

/** Visible subfolders (following symlinks); hidden ones hold version control or unfinished writes. */
async function subfolders(path: string): Promise<string[]> {
  const names = (await listDir(path)).filter((n) => !n.startsWith('.'));
  const isDir = await Promise.all(names.map((n) => stat(join(path, n)).then((s) => s.isDirectory(), () => false)));
  return names.filter((_, i) => isDir[i]);
}

/** `.xml` files of `path` if it is a folder, else none. */
async function xmlFilesIn(path: string): Promise<string[]> {
  if (!(await exists(path))) return [];
  return (await listDir(path)).filter((n) => n.endsWith('.xml'));
}

function parseTimestamp(text: string, path: string): number {
  if (!/^[0-9]{1,15}\n?$/.test(text)) throw new SchemeError('MALFORMED', path, 'timestamp must be a decimal Unix time');
  return Number(text.trim());
}

async function loadIssuer(files: SchemeFiles, scheme: SchemeManager, folder: string): Promise<LoadedIssuer> {
  const descriptionRel = `${folder}/description.xml`;
  const issuer = parseIssuerDescription(await files.readText(descriptionRel), files.path(descriptionRel), scheme.id, folder);

  const issuesDir = files.path(`${folder}/Issues`);
  const credFolders = (await exists(issuesDir)) ? await subfolders(issuesDir) : [];
  const types = await Promise.all(
    credFolders.map(async (cred) => {
      const rel = `${folder}/Issues/${cred}/description.xml`;
      if (!(await exists(files.path(rel)))) return undefined;
      return parseCredentialTypeDescription(await files.readText(rel), files.path(rel), issuer, cred);
    }),
  );

  const pks = await Promise.all(
    (await xmlFilesIn(files.path(`${folder}/PublicKeys`))).map(async (name) => {
      const rel = `${folder}/PublicKeys/${name}`;
      const path = files.path(rel);
      return parsePublicKeyFile(await files.readText(rel), path, issuer.id, counterOfFileName(name, path));
    }),
  );
  const publicKeys = new Map(pks.map((pk) => [pk.counter, pk]));

  const privateKeys = new Map<number, PrivateKey>();
  const skDir = files.path(`${folder}/PrivateKeys`);
  for (const name of await xmlFilesIn(skDir)) {
    const path = join(skDir, name);
    const counter = counterOfFileName(name, path);
    const sk = parsePrivateKeyFile(await readPlainText(path), path, issuer.id, publicKeys, counter);
    privateKeys.set(sk.counter, sk);
  }
  return { issuer, credentialTypes: types.filter((t) => t !== undefined), publicKeys, privateKeys };
}

/** The reference refuses a scheme whose newest key of an issuer cannot hold one of its credential types. */
function checkKeyCapacity(loaded: LoadedScheme): void {
  for (const ct of loaded.credentialTypes) {
    const keys = loaded.publicKeys.get(ct.issuerId);
    if (!keys || keys.size === 0) continue;
    const latest = keys.get(Math.max(...keys.keys()))!;
    const path = join(loaded.scheme.path, ct.issuerId.slice(ct.schemeId.length + 1), 'PublicKeys', `${latest.counter}.xml`);
    if (latest.R.length < ct.attributes.length + 2) {
      throw new SchemeError(
        'INVALID_KEY',
        path,
        `latest key of ${ct.issuerId} has ${latest.R.length} bases but ${ct.id} needs ${ct.attributes.length + 2}`,
      );
    }
    if (ct.revocationSupported && (latest.G === undefined || latest.H === undefined || latest.ecdsa === undefined)) {
      throw new SchemeError('INVALID_KEY', path, `${ct.id} supports revocation but the latest key of ${ct.issuerId} does not`);
    }
  }
}

/** Loads the scheme in `dir` (whose folder name is its id). */
export async function loadScheme(dir: string, opts: { requireSignatures?: boolean } = {}): Promise<LoadedScheme> {
  const files = await SchemeFiles.open(dir, basename(dir), opts.requireSignatures ?? true);
  const scheme = parseSchemeDescription(await files.readText('description.xml'), files.path('description.xml'), basename(dir), dir);
  const loaded: LoadedScheme = {
    scheme,
    issuers: [],
    credentialTypes: [],
    publicKeys: new Map(),
    privateKeys: new Map(),
    keyshareKeys: new Map(),
  };

  if (files.signed || (await exists(files.path('timestamp')))) {
    loaded.timestamp = parseTimestamp(await files.readText('timestamp'), files.path('timestamp'));
  }
  for (const name of (await listDir(dir)).filter((n) => KEYSHARE_KEY_FILE.test(n))) {
    loaded.keyshareKeys.set(Number(KEYSHARE_KEY_FILE.exec(name)![1]), parseKeyshareKey(await files.read(name), files.path(name)));
  }
  if (scheme.keyshareServer !== undefined && !loaded.keyshareKeys.has(0)) {
    throw new SchemeError('MALFORMED', files.path('kss-0.pem'), `scheme ${scheme.id} has a KeyshareServer but no kss-0.pem`);
  }

  const issuerFolders: string[] = [];
  for (const folder of await subfolders(dir)) {
    if (await exists(files.path(`${folder}/description.xml`))) issuerFolders.push(folder);
  }
  for (const l of await Promise.all(issuerFolders.map((folder) => loadIssuer(files, scheme, folder)))) {
    loaded.issuers.push(l.issuer);
    loaded.credentialTypes.push(...l.credentialTypes);
    loaded.publicKeys.set(l.issuer.id, l.publicKeys);
    loaded.privateKeys.set(l.issuer.id, l.privateKeys);
  }
  await files.verifyRemaining();
  checkKeyCapacity(loaded);
  return loaded;
}

async function loadPrivateKeyFolder(
  folder: string,
  schemes: ReadonlyMap<string, SchemeManager>,
  publicKeys: ReadonlyMap<string, ReadonlyMap<number, PublicKey>>,
  privateKeys: Map<string, Map<number, PrivateKey>>,
): Promise<void> {
  for (const name of await listDir(folder)) {
    const m = PRIVATE_KEY_FILE.exec(name);
    if (!m) continue; // anything else in the folder is not ours to judge, as in the reference
    const path = join(folder, name);
    const issuerId = `${m[1]}.${m[2]}`;
    if (!schemes.has(m[1]) || !publicKeys.has(issuerId)) {
      throw new SchemeError('UNKNOWN_IDENTIFIER', path, `private key of unknown issuer ${issuerId}`);
    }
    const counter = m[3] === undefined ? undefined : counterOfFileName(`${m[3]}.xml`, path);
    const sk = parsePrivateKeyFile(await readPlainText(path), path, issuerId, publicKeys.get(issuerId), counter);
    privateKeys.get(issuerId)!.set(sk.counter, sk);
  }
}

export async function loadSchemes(opts: LoadSchemesOptions): Promise<LoadedSchemeRegistry> {
  const folders: string[] = [];
  for (const name of await subfolders(opts.schemesPath)) {
    // Requestor schemes (description.json) and other folders are not credential schemes.
    if (await exists(join(opts.schemesPath, name, 'description.xml'))) folders.push(name);
  }
  const loaded = await Promise.all(
    folders.map((name) => loadScheme(join(opts.schemesPath, name), { requireSignatures: opts.requireSignatures })),
  );

  const schemes = new Map<string, SchemeManager>();
  const issuers = new Map<string, Issuer>();
  const credentialTypes = new Map<string, CredentialType>();
  const publicKeys = new Map<string, Map<number, PublicKey>>();
  const privateKeys = new Map<string, Map<number, PrivateKey>>();
  const keyshareKeys = new Map<string, ReadonlyMap<number, KeyObject>>();
  const hashes = new Map<string, string>();
  for (const l of loaded) {
    schemes.set(l.scheme.id, l.scheme);
    for (const i of l.issuers) issuers.set(i.id, i);
    for (const ct of l.credentialTypes) {
      const clash = hashes.get(ct.hashHex);
      if (clash) throw new SchemeError('MALFORMED', l.scheme.path, `credential types ${clash} and ${ct.id} share a hash`);
      hashes.set(ct.hashHex, ct.id);
      credentialTypes.set(ct.id, ct);
    }
    for (const [id, keys] of l.publicKeys) publicKeys.set(id, keys);
    for (const [id, keys] of l.privateKeys) privateKeys.set(id, keys);
    keyshareKeys.set(l.scheme.id, l.keyshareKeys);
  }
  if (opts.privateKeysPath !== undefined) {
    await loadPrivateKeyFolder(opts.privateKeysPath, schemes, publicKeys, privateKeys);
  }
  return new LoadedSchemeRegistry(schemes, issuers, credentialTypes, publicKeys, privateKeys, keyshareKeys);
}
