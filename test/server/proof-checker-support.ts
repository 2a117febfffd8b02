// Test fixtures for the real ProofChecker: the reference schemes copied to a temporary folder with
// their TimestampServer pointed at a local stand-in, extra schemes written with the reference
// issuer keys (one of them distributed), and the stand-in timestamp server itself (node:http on
// loopback) that answers checkPublicKey as an atum server does.
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAttribute } from '../../src/idemix/attributes.js';
import { signCredential } from '../../src/idemix/issuer.js';
import { parsePrivateKeyXml, parsePublicKeyXml } from '../../src/idemix/keys.js';
import { createMetadata } from '../../src/idemix/metadata.js';
import type { ProofU } from '../../src/idemix/proofs.js';
import { createIssuanceCommitments, finishIssuance, type Credential } from '../../src/idemix/prover.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { writeScheme, type SchemeSpec } from '../../src/scheme/writer.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

export interface TrustAnswer {
  Trusted: boolean;
  /** Unix seconds or an RFC 3339 string (what atumd sends). */
  Expires: number | string;
}

export interface TimestampStandIn {
  url: string;
  /** The answer per hex public key; unknown keys get {Trusted: false}. */
  answers: Map<string, TrustAnswer | 'hang' | 'error'>;
  /** Query strings of every checkPublicKey request received. */
  requests: URLSearchParams[];
  close(): Promise<void>;
}

/** Listens on `port` (default: any free one) of 127.0.0.1. */
export async function startTimestampStandIn(port = 0): Promise<TimestampStandIn> {
  const answers = new Map<string, TrustAnswer | 'hang' | 'error'>();
  const requests: URLSearchParams[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://stand-in');
    if (u.pathname !== '/checkPublicKey') {
      res.writeHead(404).end();
      return;
    }
    requests.push(u.searchParams);
    const answer = answers.get(u.searchParams.get('pk') ?? '') ?? { Trusted: false, Expires: '0001-01-01T00:00:00Z' };
    if (answer === 'hang') {
      hanging.push(res);
      return;
    }
    if (answer === 'error') {
      res.writeHead(500).end('internal error');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    answers,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const REFERENCE_ISSUER_KEY = join(REFERENCE_SCHEMES, 'irma-demo', 'MijnOverheid');

/** A scheme of one issuer and credential type, signed with the reference MijnOverheid key 2. */
export async function referenceKeyScheme(
  id: string,
  opts: { timestampServer?: string; keyshareServer?: string },
): Promise<SchemeSpec> {
  const issuerId = `${id}.Bank`;
  return {
    id,
    timestampServer: opts.timestampServer,
    keyshareServer: opts.keyshareServer,
    issuers: [
      {
        id: 'Bank',
        credentialTypes: [{ id: 'account', attributes: [{ id: 'iban' }, { id: 'holder' }] }],
        keys: [
          {
            publicKey: parsePublicKeyXml(await readFile(join(REFERENCE_ISSUER_KEY, 'PublicKeys', '2.xml'), 'utf8'), issuerId),
            privateKey: parsePrivateKeyXml(await readFile(join(REFERENCE_ISSUER_KEY, 'PrivateKeys', '2.xml'), 'utf8'), issuerId),
          },
        ],
      },
    ],
  };
}

export interface TestSchemes {
  dir: string;
  schemes: SchemeRegistry;
  /** PEM private key of each written distributed scheme's kss-0.pem. */
  keysharePrivateKeys: Map<string, string>;
  remove(): Promise<void>;
}

/**
 * The reference schemes with every TimestampServer replaced by `timestampServer` ('' removes it),
 * plus the extra schemes; loaded without index signatures (the edited descriptions break them).
 */
export async function testSchemes(timestampServer: string, extra: SchemeSpec[] = []): Promise<TestSchemes> {
  const dir = await mkdtemp(join(tmpdir(), 'proof-checker-'));
  await cp(REFERENCE_SCHEMES, dir, { recursive: true });
  for (const name of await readdir(dir)) {
    const path = join(dir, name, 'description.xml');
    let xml: string;
    try {
      xml = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    const replaced = timestampServer === '' ? '' : `<TimestampServer>${timestampServer}</TimestampServer>`;
    await writeFile(path, xml.replace(/<TimestampServer>[^<]*<\/TimestampServer>/, replaced));
  }
  const keysharePrivateKeys = new Map<string, string>();
  for (const spec of extra) {
    const written = await writeScheme(dir, spec);
    if (written.keysharePrivateKeyPem) keysharePrivateKeys.set(spec.id, written.keysharePrivateKeyPem);
  }
  const schemes = await loadSchemes({ schemesPath: dir, requireSignatures: false });
  return { dir, schemes, keysharePrivateKeys, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A credential for the holder, signed directly with the issuer's private key. */
export function issueDirectly(
  schemes: SchemeRegistry,
  credentialTypeId: string,
  values: string[],
  secretKey: bigint,
  now: number,
): Credential {
  const type = schemes.credentialType(credentialTypeId)!;
  const pk = schemes.publicKey(type.issuerId, 2)!;
  const attributes = [
    createMetadata({ credentialTypeId, keyCounter: 2, issuedAt: now, validUntil: now + 3600 * 24 * 180 }),
    ...values.map((v) => encodeAttribute(v)),
  ];
  const com = createIssuanceCommitments({ secretKey, credentials: [{ publicKey: pk }], context: 1n, nonce: 1n });
  const msg = signCredential({
    publicKey: pk,
    privateKey: schemes.privateKey(type.issuerId, 2)!,
    U: (com.proofs[0] as ProofU).U,
    attributes,
    nonce2: com.nonce2,
  });
  return finishIssuance(com.state, 0, msg, attributes);
}
