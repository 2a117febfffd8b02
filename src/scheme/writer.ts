// Writes a complete, signed scheme folder from a small spec: the descriptions in the reference's
// XML formats, issuer keys, keyshare keys, `timestamp`, `index`, `index.sig`, `pk.pem`, `sk.pem`.
// The folder appears all at once (written beside it, then renamed), so a reader never sees half of it.
import { createHash, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { privateKeyToXml, publicKeyToXml, type PrivateKey, type PublicKey } from '../idemix/keys.js';
import { SchemeError } from './errors.js';
import { formatSchemeIndex, signSchemeIndex } from './scheme-index.js';
import type { Translated } from './types.js';

export interface AttributeSpec {
  /** Omitted only for the revocation attribute. */
  id?: string;
  name?: Translated;
  optional?: boolean;
  randomBlind?: boolean;
  revocation?: boolean;
}

export interface CredentialTypeSpec {
  id: string;
  name?: Translated;
  singleton?: boolean;
  /** Non-empty makes the type revocable (it then needs an attribute with `revocation: true`). */
  revocationServers?: string[];
  attributes: AttributeSpec[];
}

export interface IssuerKeySpec {
  publicKey: PublicKey;
  /** Written to `<issuer>/PrivateKeys/<counter>.xml` when present. */
  privateKey?: PrivateKey;
}

export interface IssuerSpec {
  id: string;
  name?: Translated;
  credentialTypes: CredentialTypeSpec[];
  keys: IssuerKeySpec[];
}

export interface SchemeSpec {
  id: string;
  url?: string;
  demo?: boolean; // default true
  name?: Translated;
  timestampServer?: string;
  /** Makes the scheme distributed; a keyshare RSA key pair is generated unless given. */
  keyshareServer?: string;
  keyshareWebsite?: string;
  keyshareAttribute?: string;
  /** PEM public keys of the keyshare server, written as kss-0.pem, kss-1.pem, ... */
  keysharePublicKeys?: string[];
  issuers: IssuerSpec[];
  /** Unix seconds for the `timestamp` file; default now. */
  timestamp?: number;
  /** P-256 private key that signs the index; a fresh one by default. */
  signingKey?: KeyObject;
  /** false writes no index, index.sig, pk.pem or sk.pem (loadable only with requireSignatures: false). */
  sign?: boolean;
}

export interface WrittenScheme {
  /** The folder holding the scheme folder: what loadSchemes takes as schemesPath. */
  schemesPath: string;
  schemePath: string;
  /** The key that signed the index (absent when unsigned). */
  signingKey?: KeyObject;
  /** Private half of a generated kss-0.pem, PEM PKCS#8, for signing keyshare JWTs in tests. */
  keysharePrivateKeyPem?: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function el(depth: number, name: string, text: string): string {
  return `${'\t'.repeat(depth)}<${name}>${escapeXml(text)}</${name}>\n`;
}

function translated(depth: number, name: string, t: Translated): string {
  const tabs = '\t'.repeat(depth);
  const langs = Object.entries(t)
    .map(([lang, text]) => el(depth + 1, lang, text))
    .join('');
  return `${tabs}<${name}>\n${langs}${tabs}</${name}>\n`;
}

function defaultName(id: string): Translated {
  return { en: id, nl: id };
}

export function schemeDescriptionXml(spec: SchemeSpec): string {
  let s = '<SchemeManager version="7">\n';
  s += el(1, 'Id', spec.id);
  s += el(1, 'Url', spec.url ?? `http://localhost:8088/irma_configuration/${spec.id}`);
  s += el(1, 'Demo', String(spec.demo ?? true));
  s += translated(1, 'Name', spec.name ?? defaultName(spec.id));
  s += translated(1, 'Description', spec.name ?? defaultName(spec.id));
  if (spec.keyshareServer !== undefined) s += el(1, 'KeyshareServer', spec.keyshareServer);
  if (spec.keyshareWebsite !== undefined) s += el(1, 'KeyshareWebsite', spec.keyshareWebsite);
  if (spec.keyshareAttribute !== undefined) s += el(1, 'KeyshareAttribute', spec.keyshareAttribute);
  if (spec.timestampServer !== undefined) s += el(1, 'TimestampServer', spec.timestampServer);
  s += '\t<Languages>\n' + el(2, 'Language', 'en') + el(2, 'Language', 'nl') + '\t</Languages>\n';
  return s + '</SchemeManager>\n';
}

export function issuerDescriptionXml(schemeId: string, issuer: IssuerSpec): string {
  let s = '<Issuer version="4">\n';
  s += el(1, 'ID', issuer.id);
  s += translated(1, 'Name', issuer.name ?? defaultName(issuer.id));
  s += el(1, 'SchemeManager', schemeId);
  return s + '</Issuer>\n';
}

export function credentialTypeDescriptionXml(schemeId: string, issuerId: string, ct: CredentialTypeSpec): string {
  let s = '<IssueSpecification version="4">\n';
  s += translated(1, 'Name', ct.name ?? defaultName(ct.id));
  s += el(1, 'SchemeManager', schemeId);
  s += el(1, 'IssuerID', issuerId);
  s += el(1, 'CredentialID', ct.id);
  s += translated(1, 'Description', ct.name ?? defaultName(ct.id));
  s += el(1, 'ShouldBeSingleton', String(ct.singleton ?? false));
  if (ct.revocationServers && ct.revocationServers.length > 0) {
    s += '\t<RevocationServers>\n' + ct.revocationServers.map((u) => el(2, 'RevocationServer', u)).join('') + '\t</RevocationServers>\n';
  }
  s += '\t<Attributes>\n';
  for (const a of ct.attributes) {
    if (a.revocation) {
      s += '\t\t<Attribute revocation="true"/>\n';
      continue;
    }
    const flags = (a.optional ? ' optional="true"' : '') + (a.randomBlind ? ' randomblind="true"' : '');
    s += `\t\t<Attribute id="${escapeXml(a.id ?? '')}"${flags}>\n`;
    s += translated(3, 'Name', a.name ?? defaultName(a.id ?? ''));
    s += translated(3, 'Description', a.name ?? defaultName(a.id ?? ''));
    s += '\t\t</Attribute>\n';
  }
  return s + '\t</Attributes>\n</IssueSpecification>\n';
}

/** Relative path -> contents of every file of the scheme, and which of them the index signs. */
async function schemeFiles(spec: SchemeSpec, keysharePems: string[]): Promise<{ signed: Map<string, string>; unsigned: Map<string, string> }> {
  const signed = new Map<string, string>();
  const unsigned = new Map<string, string>();
  signed.set('description.xml', schemeDescriptionXml(spec));
  signed.set('timestamp', `${spec.timestamp ?? Math.floor(Date.now() / 1000)}\n`);
  keysharePems.forEach((pem, i) => signed.set(`kss-${i}.pem`, pem));
  for (const issuer of spec.issuers) {
    signed.set(`${issuer.id}/description.xml`, issuerDescriptionXml(spec.id, issuer));
    for (const ct of issuer.credentialTypes) {
      signed.set(`${issuer.id}/Issues/${ct.id}/description.xml`, credentialTypeDescriptionXml(spec.id, issuer.id, ct));
    }
    for (const { publicKey, privateKey } of issuer.keys) {
      signed.set(`${issuer.id}/PublicKeys/${publicKey.counter}.xml`, publicKeyToXml(publicKey));
      if (privateKey) unsigned.set(`${issuer.id}/PrivateKeys/${privateKey.counter}.xml`, privateKeyToXml(privateKey));
    }
  }
  return { signed, unsigned };
}

async function writeAll(root: string, files: Map<string, string | Buffer>, secret: (rel: string) => boolean): Promise<void> {
  for (const [rel, content] of files) {
    const path = join(root, ...rel.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content, { mode: secret(rel) ? 0o600 : 0o644 });
  }
}

/** Writes and signs `<dir>/<spec.id>`, replacing what was there. */
export async function writeScheme(dir: string, spec: SchemeSpec): Promise<WrittenScheme> {
  const result: WrittenScheme = { schemesPath: dir, schemePath: join(dir, spec.id) };
  let keysharePems = spec.keysharePublicKeys ?? [];
  if (spec.keyshareServer !== undefined && keysharePems.length === 0) {
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
    keysharePems = [publicKey.export({ type: 'spki', format: 'pem' }).toString()];
    result.keysharePrivateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  const { signed, unsigned } = await schemeFiles(spec, keysharePems);
  const all = new Map<string, string | Buffer>([...signed, ...unsigned]);
  if (spec.sign ?? true) {
    const signingKey = spec.signingKey ?? (await generateKeyPairAsync('ec', { namedCurve: 'P-256' })).privateKey;
    if (signingKey.type !== 'private' || signingKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new SchemeError('INVALID_KEY', result.schemePath, 'the scheme signing key must be a P-256 private key');
    }
    const hashes = new Map([...signed].map(([rel, text]) => [rel, createHash('sha256').update(text, 'utf8').digest()]));
    const index = Buffer.from(formatSchemeIndex(spec.id, hashes), 'utf8');
    all.set('index', index);
    all.set('index.sig', signSchemeIndex(index, signingKey));
    all.set('pk.pem', createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString());
    all.set('sk.pem', signingKey.export({ type: 'sec1', format: 'pem' }).toString());
    result.signingKey = signingKey;
  }

  const nonce = randomBytes(6).toString('hex');
  const tmp = join(dir, `.${spec.id}.tmp-${nonce}`);
  const old = join(dir, `.${spec.id}.old-${nonce}`);
  let movedOld = false;
  try {
    await mkdir(tmp, { recursive: true });
    await writeAll(tmp, all, (rel) => rel === 'sk.pem' || rel.includes('/PrivateKeys/'));
    try {
      await rename(result.schemePath, old);
      movedOld = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await rename(tmp, result.schemePath);
  } catch (e) {
    if (movedOld) await rename(old, result.schemePath).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    throw new SchemeError('IO', result.schemePath, `cannot write scheme: ${(e as Error).message}`, { cause: e });
  }
  if (movedOld) await rm(old, { recursive: true, force: true });
  return result;
}
