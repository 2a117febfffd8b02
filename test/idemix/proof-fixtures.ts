// Keys and recorded sessions from the reference material, shared by the proof tests.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { credentialTypeHashHex, type Metadata } from '../../src/idemix/metadata.js';
import { parsePrivateKeyXml, parsePublicKeyXml, type PrivateKey, type PublicKey } from '../../src/idemix/keys.js';
import { REFERENCE_SCHEMES, REFERENCE_VECTORS } from '../support/reference.js';

const pks = new Map<string, PublicKey>();

export function publicKey(issuer: string, counter: number): PublicKey {
  const id = `${issuer}#${counter}`;
  let pk = pks.get(id);
  if (!pk) {
    const [scheme, name] = issuer.split('.');
    pk = parsePublicKeyXml(readFileSync(join(REFERENCE_SCHEMES, scheme, name, 'PublicKeys', `${counter}.xml`), 'utf8'), issuer);
    pks.set(id, pk);
  }
  return pk;
}

export function privateKey(issuer: string, counter: number): PrivateKey {
  const [scheme, name] = issuer.split('.');
  return parsePrivateKeyXml(readFileSync(join(REFERENCE_SCHEMES, scheme, name, 'PrivateKeys', `${counter}.xml`), 'utf8'), issuer);
}

/** Number of attribute types of a credential type, from its description. */
export function attributeCount(credType: string): number {
  const [scheme, issuer, cred] = credType.split('.');
  const xml = readFileSync(join(REFERENCE_SCHEMES, scheme, issuer, 'Issues', cred, 'description.xml'), 'utf8');
  return (xml.match(/<Attribute[\s>]/g) ?? []).length;
}

/** gabi indices of the random-blind attributes of a credential type. */
export function randomBlindIndices(credType: string): number[] {
  const [scheme, issuer, cred] = credType.split('.');
  const xml = readFileSync(join(REFERENCE_SCHEMES, scheme, issuer, 'Issues', cred, 'description.xml'), 'utf8');
  const attrs = xml.match(/<Attribute[\s>][^>]*>/g) ?? [];
  return attrs.flatMap((a, j) => (/randomblind="true"/.test(a) ? [j + 2] : []));
}

export interface RecordedExchange {
  method: string;
  path: string;
  status: number;
  requestBody?: any;
  responseBody?: any;
}

export interface RecordedSession {
  label: string;
  requestorRequest: any;
  client: RecordedExchange[];
  requestorResult: any;
}

export const recorded = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as {
  recordedAtUnix: number;
  timestampServer: { url: string; ed25519PublicKey: string };
  sessions: RecordedSession[];
};

export function session(label: string): RecordedSession {
  const s = recorded.sessions.find((x) => x.label === label);
  if (!s) throw new Error(`no recorded session ${label}`);
  return s;
}

/** The request the client saw (nonce, context, credentials…) in the recorded GET. */
export function clientRequest(s: RecordedSession): any {
  return s.client.find((c) => c.method === 'GET')!.responseBody.request;
}

export function post(s: RecordedSession, suffix: string): RecordedExchange {
  return s.client.find((c) => c.method === 'POST' && c.path.endsWith(suffix))!;
}

/** Credential type id by the 16-byte hash its metadata carries, over every reference scheme. */
export const credentialTypesByHash: Map<string, string> = (() => {
  const out = new Map<string, string>();
  for (const scheme of readdirSync(REFERENCE_SCHEMES)) {
    const sdir = join(REFERENCE_SCHEMES, scheme);
    if (!statSync(sdir).isDirectory()) continue;
    for (const issuer of readdirSync(sdir)) {
      const idir = join(sdir, issuer, 'Issues');
      if (!existsSync(idir)) continue;
      for (const cred of readdirSync(idir)) {
        const id = `${scheme}.${issuer}.${cred}`;
        out.set(credentialTypeHashHex(id), id);
      }
    }
  }
  return out;
})();

/** Public key of a proof's metadata, as a verifier resolves it; undefined when unknown. */
export function keyForMetadata(meta: Metadata): PublicKey | undefined {
  const cred = credentialTypesByHash.get(meta.credentialTypeHashHex);
  if (!cred) return undefined;
  const issuer = cred.split('.').slice(0, 2).join('.');
  const [scheme, name] = issuer.split('.');
  if (!existsSync(join(REFERENCE_SCHEMES, scheme, name, 'PublicKeys', `${meta.keyCounter}.xml`))) return undefined;
  return publicKey(issuer, meta.keyCounter);
}

export function b64int(s: string): bigint {
  const b = Buffer.from(s, 'base64');
  return b.length === 0 ? 0n : BigInt('0x' + b.toString('hex'));
}
