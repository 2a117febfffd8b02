// Cost of revocation on irma-demo.MijnOverheid key 2 (1024-bit): verifying a disclosure with and
// without its non-revocation proof (the recorded reference proof, public key only), proving one,
// a witness update, and a revocation (accumulator update + ECDSA signature; then through the
// service on PostgreSQL, one transaction per revocation, when the local service is reachable).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeB64 } from '../src/idemix/bigint.js';
import { parsePrivateKeyXml, parsePublicKeyXml } from '../src/idemix/keys.js';
import { parseProofDList } from '../src/idemix/proofs.js';
import { createDisclosureProofs } from '../src/idemix/prover.js';
import { verifyDisclosureProofs } from '../src/idemix/verifier.js';
import { newAccumulator, removeFromAccumulator, signAccumulator } from '../src/revocation/accumulator.js';
import { openAccumulator } from '../src/revocation/verify.js';
import { randomWitness, updateWitness } from '../src/revocation/witness.js';
import { REFERENCE_DIR, REFERENCE_SCHEMES } from '../test/support/reference.js';
import { signCLForTest } from '../test/revocation/helpers.js';
import { bestMsPerOp } from './timing.js';

const msPerOp = (f: () => unknown): number => bestMsPerOp(f, 5, 300);
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

export default async function main(): Promise<void> {
  const dir = join(REFERENCE_SCHEMES, 'irma-demo', 'MijnOverheid');
  const pk = parsePublicKeyXml(readFileSync(join(dir, 'PublicKeys', '2.xml'), 'utf8'), 'irma-demo.MijnOverheid');
  const vectors = JSON.parse(readFileSync(join(REFERENCE_DIR, 'vectors', 'revocation.json'), 'utf8'));
  const s = vectors.sessions.find((x: { label: string }) => x.label === 'disclose-bsn-nonrevoked');
  const req = s.client[0].responseBody.request;
  const proofs = parseProofDList(s.client[1].requestBody.proofs);
  const input = { proofs, publicKeys: [pk], context: decodeB64(req.context), nonce: decodeB64(req.nonce), revocationIndices: [3], openAccumulator };
  console.log('verify recorded disclosure with nonrev_proof (public key only):', fmt(msPerOp(() => verifyDisclosureProofs(input))));

  const sk = parsePrivateKeyXml(readFileSync(join(dir, 'PrivateKeys', '2.xml'), 'utf8'), 'irma-demo.MijnOverheid');
  const { acc, event } = newAccumulator(sk, 1_800_000_000);
  const sacc = signAccumulator(acc, sk);
  const w = randomWitness(sk, sacc, acc);
  const cred = signCLForTest(sk, pk, w.e);
  const nonrev = { index: 3, witness: { u: w.u, e: w.e, nu: acc.nu, sacc } };
  const plain = () => createDisclosureProofs([{ credential: cred, publicKey: pk, disclosed: [2] }], 1n, 5n);
  const withNonrev = () => createDisclosureProofs([{ credential: cred, publicKey: pk, disclosed: [2], nonrev }], 1n, 5n);
  const p0 = plain();
  const p1 = withNonrev();
  console.log('verify disclosure without non-revocation (this process holds the private key: CRT):', fmt(msPerOp(() => verifyDisclosureProofs({ proofs: p0, publicKeys: [pk], nonce: 5n }))));
  console.log('verify disclosure with non-revocation (same):', fmt(msPerOp(() => verifyDisclosureProofs({ proofs: p1, publicKeys: [pk], nonce: 5n, revocationIndices: [3], openAccumulator }))));
  console.log('prove disclosure without non-revocation:', fmt(msPerOp(plain)));
  console.log('prove disclosure with non-revocation:', fmt(msPerOp(withNonrev)));
  console.log('issuer: random witness:', fmt(msPerOp(() => randomWitness(sk, sacc, acc))));

  const other = randomWitness(sk, sacc, acc);
  const r = removeFromAccumulator(acc, event, other.e, sk, 1_800_000_001);
  const update = { sacc: signAccumulator(r.acc, sk), events: [event, r.event] };
  console.log('holder: witness update over one revocation:', fmt(msPerOp(() => updateWitness(w, update, pk))));
  console.log('authority: revocation (remove + sign), in memory:', fmt(msPerOp(() => signAccumulator(removeFromAccumulator(acc, event, other.e, sk, 1).acc, sk))));

  try {
    const { createTestDatabase } = await import('../test/support/postgres.js');
    const { loadSchemes } = await import('../src/scheme/loader.js');
    const { RevocationService } = await import('../src/revocation/service.js');
    const { SqlRevocationStore } = await import('../src/revocation/sql-store.js');
    const db = await createTestDatabase();
    try {
      const schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
      const type = 'irma-demo.MijnOverheid.root';
      const service = new RevocationService({
        schemes,
        store: await SqlRevocationStore.open(db.dsn),
        settings: { [type]: { authority: true, server: true, revocationServerUrl: '', tolerance: 0, sse: false } },
      });
      await service.start();
      const n = 50;
      const sk2 = schemes.privateKey('irma-demo.MijnOverheid', 2)!;
      for (let i = 0; i < n; i++) {
        const wi = await service.witness(type, sk2);
        await service.recordIssuance({ key: `k${i}`, credType: type, issued: BigInt(i + 1), pkCounter: 2, attr: wi.e, validUntil: 1n << 62n, revokedAt: 0n });
      }
      const start = performance.now();
      for (let i = 0; i < n; i++) await service.revoke(type, `k${i}`);
      console.log(`authority: revocation through POST /revocation's path on PostgreSQL (${n} sequential):`, fmt((performance.now() - start) / n));
      await service.close();
    } finally {
      await db.drop();
    }
  } catch (e) {
    console.log('PostgreSQL revocation figure skipped:', (e as Error).message);
  }
}
