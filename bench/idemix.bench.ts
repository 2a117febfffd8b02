// Throughput of the proof layer on the reference keys: disclosure verification of a recorded
// proof with public keys only (targets, one core: ≤ 0.8 ms on 1024-bit, ≤ 3 ms on 2048-bit),
// issuer signatures (blinded CRT) and prover disclosures, with a breakdown of a verification
// into its exponentiations. Verification runs on the native path (when built) and on the
// node:crypto path; a private key held by the process makes no difference to it any more.
// Figures are CPU time of this process, best of several rounds, so that other processes on a
// shared machine do not inflate them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAttribute } from '../src/idemix/attributes.js';
import { signCredential, verifyIssuanceCommitments } from '../src/idemix/issuer.js';
import { parsePrivateKeyXml, parsePublicKeyXml, type PrivateKey, type PublicKey } from '../src/idemix/keys.js';
import { createMetadata } from '../src/idemix/metadata.js';
import { modInverse } from '../src/idemix/bigint.js';
import { modPow, modPowCrt, nativeAcceleration, powProduct, setNativeAcceleration } from '../src/idemix/modexp.js';
import type { ProofU } from '../src/idemix/proofs.js';
import { parseProofDList } from '../src/idemix/proofs.js';
import { createDisclosureProofs, createIssuanceCommitments, finishIssuance, generateSecretKey } from '../src/idemix/prover.js';
import { decodeB64, randomBits } from '../src/idemix/bigint.js';
import { proofMetadata, verifyDisclosureProofs } from '../src/idemix/verifier.js';
import { REFERENCE_SCHEMES, REFERENCE_VECTORS } from '../test/support/reference.js';
import { bestCpuMsPerOp } from './timing.js';

const msPerOp = (f: () => unknown): number => bestCpuMsPerOp(f, 5, 300);
const native = nativeAcceleration();

/** f on the node:crypto path, whatever the default. */
function fallback<T>(f: () => T): T {
  setNativeAcceleration(false);
  try {
    return f();
  } finally {
    setNativeAcceleration(native);
  }
}

function keys(issuer: string, counter: number): { pk: PublicKey; sk: PrivateKey } {
  const dir = join(REFERENCE_SCHEMES, 'irma-demo', issuer);
  return {
    pk: parsePublicKeyXml(readFileSync(join(dir, 'PublicKeys', `${counter}.xml`), 'utf8'), `irma-demo.${issuer}`),
    sk: parsePrivateKeyXml(readFileSync(join(dir, 'PrivateKeys', `${counter}.xml`), 'utf8'), `irma-demo.${issuer}`),
  };
}

interface RecordedSession {
  label: string;
  client: Array<{ requestBody?: { proofs?: unknown }; responseBody: { request?: { nonce?: string } } }>;
}

/** A recorded disclosure of the reference client, verified with nothing but the public key. */
function publicOnly(label: string, session: string, issuer: string, target: number): void {
  const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as { sessions: RecordedSession[] };
  const rec = vectors.sessions.find((s) => s.label === session)!;
  const proofs = parseProofDList(rec.client[1].requestBody!.proofs);
  const nonce = decodeB64(rec.client[0].responseBody.request!.nonce);
  const counter = proofMetadata(proofs[0]).keyCounter;
  const pk = parsePublicKeyXml(
    readFileSync(join(REFERENCE_SCHEMES, 'irma-demo', issuer, 'PublicKeys', `${counter}.xml`), 'utf8'),
    `irma-demo.${issuer}`,
  );
  console.log(`${label} (${pk.params.Ln}-bit key, recorded proof "${session}")`);
  const verify = () => verifyDisclosureProofs({ proofs, publicKeys: [pk], context: 1n, nonce });
  if (native) line('verify disclosure proof, public keys, native', msPerOp(verify), target);
  else console.log('  (native addon not built or IRMA_NATIVE=0: node:crypto path only)');
  line('verify disclosure proof, public keys, node:crypto', fallback(() => msPerOp(verify)), native ? undefined : target);
  // The issuer's Q^d below runs through CRT; this is the same size of work without it.
  const x = randomBits(pk.params.Ln - 2) + 2n;
  const fullLength = randomBits(pk.params.Ln - 2);
  line('    full-length exponentiation mod n, no CRT', msPerOp(() => modPow(x, fullLength, pk.n)));
}

function line(label: string, ms: number, target?: number): void {
  const t = target === undefined ? '' : `  (target ≤ ${target} ms: ${ms <= target ? 'met' : 'MISSED'})`;
  console.log(`  ${label.padEnd(48)} ${(1000 / ms).toFixed(1).padStart(8)} /s  ${ms.toFixed(3).padStart(8)} ms${t}`);
}

function scenario(label: string, credType: string, issuer: string, counter: number, values: (string | null)[], blind: number[], disclosed: number[], target: number): void {
  const { pk, sk } = keys(issuer, counter);
  const now = Math.floor(Date.now() / 1000);
  const ints = [
    createMetadata({ credentialTypeId: credType, keyCounter: counter, issuedAt: now, validUntil: now + 1e7 }),
    ...values.map((v) => encodeAttribute(v)),
  ];
  const secret = generateSecretKey();
  const request = { publicKey: pk, randomBlindIndices: blind };
  const newCommitments = () => createIssuanceCommitments({ secretKey: secret, credentials: [request], context: 1n, nonce: 9n });
  const com = newCommitments();
  const sign = () =>
    signCredential({ publicKey: pk, privateKey: sk, U: (com.proofs[0] as ProofU).U, attributes: ints, randomBlindIndices: blind, nonce2: com.nonce2 });
  const signed = sign();
  const credential = finishIssuance(com.state, 0, signed, ints);
  const choice = [{ credential, publicKey: pk, disclosed }];
  const proofs = createDisclosureProofs(choice, 1n, 42n);

  console.log(`${label} (${pk.params.Ln}-bit key, ${pk.R.length} bases, disclosing ${disclosed.length} attribute(s))`);
  line(`verify disclosure proof (${native ? 'native' : 'node:crypto'})`, msPerOp(() => verifyDisclosureProofs({ proofs, publicKeys: [pk], context: 1n, nonce: 42n })), target);
  line('prover: disclosure proof', msPerOp(() => createDisclosureProofs(choice, 1n, 42n)));
  line('prover: issuance commitment (ProofU)', msPerOp(newCommitments));
  line('issuer: verify commitment', msPerOp(() =>
    verifyIssuanceCommitments({ proofs: com.proofs, disclosureKeys: [], credentials: [request], context: 1n, nonce: 9n }),
  ));
  line('issuer: sign credential (blinded, incl. ProofS)', msPerOp(sign));
  const Q = (com.proofs[0] as ProofU).U;
  const d = modInverse(65537n, sk.order);
  line('    full-length Q^d with CRT (5 per signature)', msPerOp(() => modPowCrt(Q, d, sk)));
  line('prover: finish issuance (ProofS + CL verify)', msPerOp(() => finishIssuance(com.state, 0, signed, ints)));

  // Where a verification goes on the node:crypto path: the same terms it evaluates, one at a time.
  const p = proofs[0];
  setNativeAcceleration(false);
  console.log('  breakdown of one verification (node:crypto path, one exponentiation per term):');
  line('    S^v̂ (longest exponent)', msPerOp(() => modPow(pk.S, p.vResponse, pk.n)));
  line("    A'^(c·2^(Le−1)+ê)", msPerOp(() => modPow(p.A, (p.c << BigInt(pk.params.Le - 1)) + p.eResponse, pk.n)));
  line('    Z^−c', msPerOp(() => powProduct(pk.n, [[pk.Z, -p.c]])));
  const hidden = [...p.aResponses].map(([i, r]) => [pk.R[i], r] as [bigint, bigint]);
  line(`    ${hidden.length} hidden R_i^m̂`, msPerOp(() => powProduct(pk.n, hidden)));
  setNativeAcceleration(native);
}

export default async function (): Promise<void> {
  publicOnly('irma-demo.MijnOverheid.fullName', 'disclose-firstname', 'MijnOverheid', 0.8);
  publicOnly('irma-demo.stemmen.stempas', 'disclose-stempas-2048', 'stemmen', 3);
  scenario('irma-demo.MijnOverheid.fullName', 'irma-demo.MijnOverheid.fullName', 'MijnOverheid', 2, ['Alice Bo', 'Alice', 'Example', 'van'], [], [3], 0.8);
  scenario('irma-demo.stemmen.stempas', 'irma-demo.stemmen.stempas', 'stemmen', 0, ['Gemeenteraad 2026', null], [3], [3], 3);
}
