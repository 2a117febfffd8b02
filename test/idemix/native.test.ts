// The native multi-exponentiation addon against the node:crypto path: identical results on
// seeded random products (key bases with tables, client values, negative and long exponents),
// identical verdicts on every recorded session and its tamperings, and the addon at work in
// worker threads as the crypto workers use it.
import { generatePrimeSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { bitLength, fromBytes } from '../../src/idemix/bigint.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { verifyIssuanceCommitments } from '../../src/idemix/issuer.js';
import { TABLE_MODULI_LIMIT } from '../../src/idemix/modexp-native.js';
import { modPow, nativeAcceleration, powProduct, probablePrime, registerFixedBases, setNativeAcceleration } from '../../src/idemix/modexp.js';
import { systemParameters } from '../../src/idemix/params.js';
import { proofDContributions } from '../../src/idemix/proof-list.js';
import { parseProofDList, parseProofList, type Proof, type ProofD } from '../../src/idemix/proofs.js';
import { resolvePublicKeys, verifyDisclosureProofs } from '../../src/idemix/verifier.js';
import { b64int, clientRequest, keyForMetadata, post, publicKey, randomBlindIndices, recorded } from './proof-fixtures.js';

const built = nativeAcceleration();

afterAll(() => {
  setNativeAcceleration(true);
});

/** xorshift32: reproducible inputs, so a disagreement can be replayed from its seed. */
function rng(seed: number): (bits: number) => bigint {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return (bits) => {
    if (bits <= 0) return 0n;
    const bytes = Buffer.alloc(Math.ceil(bits / 8));
    for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
    return fromBytes(bytes) >> BigInt(bytes.length * 8 - bits);
  };
}

/** Runs f on both paths and returns both results (errors by their code). */
function bothPaths<T>(f: () => T): [T | string, T | string] {
  const run = (on: boolean) => {
    setNativeAcceleration(on);
    try {
      return f();
    } catch (e) {
      if (e instanceof IdemixError) return `error ${e.code}`;
      throw e;
    } finally {
      setNativeAcceleration(true);
    }
  };
  return [run(true), run(false)];
}

describe('native addon', () => {
  it.runIf(process.env.IRMA_NATIVE === '1')('is built and in use (IRMA_NATIVE=1, as in CI)', () => {
    expect(built).toBe(true);
  });

  it.runIf(process.env.IRMA_NATIVE === '0')('is not used with IRMA_NATIVE=0', () => {
    expect(built).toBe(false);
    expect(setNativeAcceleration(true)).toBe(false);
  });
});

describe.runIf(built)('native and node:crypto paths agree', () => {
  const pk1024 = publicKey('irma-demo.MijnOverheid', 2);
  const pk2048 = publicKey('irma-demo.stemmen', 0);
  const rand = rng(0x1dea1c);
  // A 4096-bit modulus with "key" bases, for the third parameter set.
  const n4096 = rand(4096) | 1n | (1n << 4095n);
  const bases4096 = Array.from({ length: 4 }, () => rand(4000));
  registerFixedBases(n4096, bases4096);
  const moduli = [
    { n: pk1024.n, fixed: [pk1024.S, pk1024.Z, ...pk1024.R] },
    { n: pk2048.n, fixed: [pk2048.S, pk2048.Z, ...pk2048.R] },
    { n: n4096, fixed: bases4096 },
  ];

  it('on 150 seeded random products', () => {
    for (let round = 0; round < 150; round++) {
      const { n, fixed } = moduli[round % moduli.length];
      const Ln = bitLength(n);
      const terms: [bigint, bigint][] = [];
      const count = 1 + (round % (Ln > 2048 ? 3 : 9));
      for (let t = 0; t < count; t++) {
        const kind = Number(rand(3));
        const base =
          kind < 4 ? fixed[Number(rand(8)) % fixed.length] : kind === 4 ? [0n, 1n, n - 1n, n, n + 2n][Number(rand(3)) % 5] : rand(Ln);
        // Up to well beyond the longest exponent a table takes (2·Ln + 512 bits).
        const bits = [0, 1, 2, 64, 256, 593, 853, 2037, 2 * Ln + 1024][Number(rand(4)) % 9] + Number(rand(3));
        const exp = rand(bits) | (bits > 0 ? 1n << BigInt(bits - 1) : 0n);
        terms.push([base, rand(1) === 1n && base % n !== 0n ? -exp : exp]);
      }
      const [native, crypto] = bothPaths(() => powProduct(n, terms));
      expect(native, `round ${round}`).toBe(crypto);
      const [b, e] = terms[0];
      const [np, cp] = bothPaths(() => modPow(b, e, n));
      expect(np, `round ${round} modPow`).toBe(cp);
    }
  });

  it('on primality: primes, Carmichael numbers, strong pseudoprimes to base 2, semiprimes', () => {
    const prime = (bits: number) => generatePrimeSync(bits, { bigint: true }) as bigint;
    const primes = [5n, 7n, 13n, 65537n, (1n << 61n) - 1n, (1n << 127n) - 1n, prime(597), prime(645), prime(901)];
    const p = prime(300);
    const composites = [9n, 15n, 561n, 1105n, 41041n, 2047n, 3215031751n, 341550071728321n, p * prime(300), p * p, (1n << 597n) + 1n];
    for (const x of primes) expect(bothPaths(() => probablePrime(x, 20)), String(x)).toEqual([true, true]);
    for (const x of composites) expect(bothPaths(() => probablePrime(x, 20)), String(x)).toEqual([false, false]);
  });

  it('on products beyond what the addon takes (300 terms, a 20,000-bit exponent)', () => {
    const n = pk1024.n;
    const many: [bigint, bigint][] = Array.from({ length: 300 }, (_, i) => [i % 2 ? pk1024.R[i % 6] : rand(1000), rand(64)]);
    const [a, b] = bothPaths(() => powProduct(n, many));
    expect(a).toBe(b);
    const long: [bigint, bigint][] = [[pk1024.S, rand(20000)], [rand(1000), -rand(300)]];
    const [c, d] = bothPaths(() => powProduct(n, long));
    expect(c).toBe(d);
  });

  it('on more moduli with tables than are kept at once', () => {
    const rand2 = rng(7);
    for (let i = 0; i < TABLE_MODULI_LIMIT + 4; i++) {
      const n = rand2(1024) | 1n | (1n << 1023n);
      const base = rand2(1000);
      registerFixedBases(n, [base]);
      const exp = rand2(900);
      for (let k = 0; k < 2; k++) {
        const [native, crypto] = bothPaths(() => powProduct(n, [[base, exp], [3n, 5n]]));
        expect(native).toBe(crypto);
      }
    }
  });

  it('on every recorded disclosure and each tampering of it', () => {
    const sessions = recorded.sessions.filter((s) => post(s, '/proofs') !== undefined && !clientRequest(s).message);
    expect(sessions.length).toBeGreaterThan(0);
    for (const s of sessions) {
      const proofs = parseProofDList(post(s, '/proofs').requestBody.proofs);
      const keys = resolvePublicKeys(proofs, keyForMetadata);
      const req = clientRequest(s);
      const verify = (ps: ProofD[]) => () =>
        verifyDisclosureProofs({ proofs: ps, publicKeys: keys, context: b64int(req.context), nonce: b64int(req.nonce) }).length;
      expect(bothPaths(verify(proofs))).toEqual([proofs.length, proofs.length]);
      proofs.forEach((p, i) => {
        expect(new Set(bothPaths(() => proofDContributions(p, keys[i]).join()))).toHaveProperty('size', 1);
        const tampered = { ...p, vResponse: p.vResponse + 1n, aResponses: new Map(p.aResponses).set(0, p.aResponses.get(0)! + 1n) };
        const changed = proofs.map((q, j) => (j === i ? tampered : q));
        expect(bothPaths(verify(changed))).toEqual(['error INVALID_PROOF', 'error INVALID_PROOF']);
      });
    }
  });

  it('on every recorded issuance commitment', () => {
    const sessions = recorded.sessions.filter((s) => post(s, '/commitments') !== undefined);
    expect(sessions.length).toBeGreaterThan(0);
    for (const s of sessions) {
      const req = clientRequest(s);
      const proofs = parseProofList(post(s, '/commitments').requestBody.combinedProofs);
      const credentials = (req.credentials as { credential: string; keyCounter?: number }[]).map((c) => ({
        publicKey: publicKey(c.credential.split('.').slice(0, 2).join('.'), c.keyCounter ?? 0),
        randomBlindIndices: randomBlindIndices(c.credential),
      }));
      const verify = (ps: Proof[]) => () =>
        verifyIssuanceCommitments({
          proofs: ps,
          disclosureKeys: resolvePublicKeys(ps.slice(0, ps.length - credentials.length) as ProofD[], keyForMetadata),
          credentials,
          context: b64int(req.context),
          nonce: b64int(req.nonce),
        }).commitments.length;
      expect(bothPaths(verify(proofs))).toEqual([credentials.length, credentials.length]);
      const last = proofs[proofs.length - 1];
      if (last.kind !== 'ProofU') throw new Error('recorded issuance without ProofU');
      const changed = [...proofs.slice(0, -1), { ...last, sResponse: last.sResponse + 1n }];
      expect(bothPaths(verify(changed))).toEqual(['error INVALID_PROOF', 'error INVALID_PROOF']);
    }
  });

  it('in worker threads, two at once, as the crypto workers load it', async () => {
    const pk = pk2048;
    const params = systemParameters(2048);
    const terms: [bigint, bigint][] = [
      [pk.Z, -rand(params.Lh)],
      [rand(2040), rand(params.Le + params.Lh)],
      [pk.S, rand(params.LvCommit)],
      [pk.R[2], rand(params.LmCommit)],
    ];
    const expected = powProduct(pk.n, terms).toString();
    const workerData = {
      n: pk.n.toString(),
      fixed: [pk.S, pk.Z, ...pk.R].map(String),
      terms: terms.map(([b, e]) => [b.toString(), e.toString()]),
    };
    const answers = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ native: boolean; results: string[] }>((resolve, reject) => {
            const w = new Worker(new URL('./native-worker.mjs', import.meta.url), { workerData });
            w.once('message', (m) => {
              resolve(m);
              void w.terminate();
            });
            w.once('error', reject);
          }),
      ),
    );
    for (const a of answers) {
      expect(a.native).toBe(true);
      expect(new Set(a.results)).toEqual(new Set([expected]));
    }
  });
});
