// SD-JWT VC issuance: the server's cost of signing a batch of 50 (one credential, four attributes),
// how much of it holds the event loop, the holder's cost of checking them, and whole issuance
// sessions (in-process server and headless holder) with and without a batch of 50.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { IrmaClient } from '../src/client/client.js';
import { issueBatch } from '../src/sdjwt/batch.js';
import { parseHolderKey } from '../src/sdjwt/holder-key.js';
import { loadSdJwtIssuers } from '../src/sdjwt/issuer-keys.js';
import { verifySdJwtVc } from '../src/sdjwt/verify.js';
import { loadSchemes } from '../src/scheme/loader.js';
import { startServer } from '../src/server/index.js';
import { defaultOptions } from '../src/server/options.js';
import { writeIssuerDirs } from '../test/sdjwt/support.js';
import { REFERENCE_SCHEMES } from '../test/support/reference.js';

const BATCH = 50;
const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const ATTRIBUTES = { firstnames: 'Alice Bo', firstname: 'Alice', familyname: 'Example', prefix: 'van' };

/** Best of `rounds` runs of `f`, in ms: the closest to the unloaded cost on a shared machine. */
async function bestMs(f: () => Promise<unknown>, rounds: number): Promise<number> {
  await f();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    await f();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sdjwt-bench-'));
  try {
    const dirs = await writeIssuerDirs(join(dir, 'issuers'), ['irma-demo.MijnOverheid']);
    const { issuers } = await loadSdJwtIssuers({ issuerCertificatesDir: dirs.certs, issuerPrivateKeysDir: dirs.privkeys });
    const keys = Array.from({ length: BATCH }, () => parseHolderKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })));
    const iat = Math.floor(Date.now() / 1000);
    const credentials = [{ credential: FULLNAME, attributes: ATTRIBUTES, validity: iat + 86400 * 180, sdJwtBatchSize: BATCH }];
    const issue = () => issueBatch({ credentials, keys, issuers, iat });

    const batchMs = await bestMs(issue, 20);
    console.log(`server: issue a batch of ${BATCH} SD-JWT VCs (4 attributes, ES256): ${batchMs.toFixed(1)} ms (${((batchMs / BATCH) * 1000).toFixed(0)} µs each)`);

    // Event-loop share: the part of the batch that runs on this thread (JSON, salts, digests, the
    // calls into WebCrypto) versus the signing that Node runs on its thread pool.
    let busy = Infinity;
    for (let r = 0; r < 20; r++) {
      const before = performance.eventLoopUtilization();
      await issue();
      busy = Math.min(busy, performance.eventLoopUtilization(before).active);
    }
    console.log(`server: of which the event loop is busy ${busy.toFixed(1)} ms (best of 20)`);

    const sdjwts = await issue();
    const anchors = [new X509Certificate(dirs.ca.certificate)];
    const verifyMs = await bestMs(() => Promise.all(sdjwts.map((s, i) => verifySdJwtVc(s, { trustAnchors: anchors, now: iat, holderKey: keys[i] }))), 5);
    console.log(`holder: check a batch of ${BATCH} (chain, signature, digests, cnf): ${verifyMs.toFixed(1)} ms`);
    console.log(`size: one SD-JWT VC ${sdjwts[0].length} bytes (2-certificate x5c), a batch of ${BATCH} ${Math.round(sdjwts.join('').length / 1024)} KiB`);

    // Whole sessions, server and holder in this process.
    const schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
    const server = await startServer(
      {
        ...defaultOptions(false),
        port: 0,
        listenAddr: '127.0.0.1',
        url: 'http://127.0.0.1:port',
        schemesPath: REFERENCE_SCHEMES,
        quiet: true,
        cryptoWorkers: 0,
        sdjwtvc: { issuerCertificatesDir: dirs.certs, issuerPrivateKeysDir: dirs.privkeys },
      },
      { schemes },
    );
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const client = new IrmaClient({ storageDir: join(dir, 'wallet'), schemes, sdJwtVc: { trustAnchors: [dirs.ca.certificate] } });
      const session = (n: number) => async () => {
        const res = await fetch(`${base}/session`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ '@context': 'https://irma.app/ld/request/issuance/v2', credentials: [{ credential: FULLNAME, attributes: ATTRIBUTES, sdJwtBatchSize: n }] }),
        });
        const out = await client.runSession(await res.text());
        if (out.status !== 'DONE' || (out.sdJwtVcs ?? 0) !== n) throw new Error('session failed');
      };
      const plain = await bestMs(session(0), 5);
      const withBatch = await bestMs(session(BATCH), 5);
      console.log(`session: Idemix only ${plain.toFixed(0)} ms; with ${BATCH} SD-JWT VCs ${withBatch.toFixed(0)} ms (holder key generation and checks included)`);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
