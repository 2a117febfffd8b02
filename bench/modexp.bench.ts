// Figures behind the strategy of src/idemix/modexp.ts: OpenSSL per term vs pure bigint, what a
// pure-bigint fixed-base window table would buy, and a verify-shaped powProduct on the native
// path (shared squarings, fixed-base tables) and on the node:crypto path. CPU time, best round.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modInverse, modPowReference, randomBits, randomBelow } from '../src/idemix/bigint.js';
import { parsePrivateKeyXml, parsePublicKeyXml, type PublicKey } from '../src/idemix/keys.js';
import { fastModInverse } from '../src/idemix/modexp-inverse.js';
import { multiExpPure } from '../src/idemix/modexp-pure.js';
import { modPow, modPowCrt, nativeAcceleration, powProduct, setNativeAcceleration } from '../src/idemix/modexp.js';
import { REFERENCE_SCHEMES } from '../test/support/reference.js';
import { bestCpuMsPerOp } from './timing.js';

/** Operations per second of the fastest round. */
const opsPerSecond = (f: () => unknown): number => 1000 / bestCpuMsPerOp(f, 7, 60);

function report(label: string, f: () => unknown): number {
  const ops = opsPerSecond(f);
  console.log(`${label.padEnd(58)} ${ops.toFixed(0).padStart(8)} ops/s  ${(1000 / ops).toFixed(3).padStart(8)} ms`);
  return ops;
}

/**
 * The alternative to OpenSSL for a long-lived base: a full 8-bit window table
 * (base^(d·2^(8k)) for every window k and digit d), so an exponentiation is one bigint
 * multiply-and-reduce per window and no squarings at all.
 */
function windowTable(base: bigint, n: bigint, expBits: number): bigint[][] {
  const windows = Math.ceil(expBits / 8);
  const table: bigint[][] = [];
  let g = base;
  for (let k = 0; k < windows; k++) {
    const row: bigint[] = [1n, g];
    for (let d = 2; d < 256; d++) row.push((row[d - 1] * g) % n);
    table.push(row);
    g = (row[255] * g) % n;
  }
  return table;
}

function tablePow(table: bigint[][], exp: bigint, n: bigint): bigint {
  let r = 1n;
  for (let k = 0; exp > 0n; k++, exp >>= 8n) {
    const d = Number(exp & 0xffn);
    if (d) r = (r * table[k][d]) % n;
  }
  return r;
}

function loadKey(rel: string): PublicKey {
  return parsePublicKeyXml(readFileSync(join(REFERENCE_SCHEMES, rel), 'utf8'));
}

function verifyShape(pk: PublicKey, hidden: number, disclosed: number): Array<[bigint, bigint]> {
  const p = pk.params;
  const A = randomBelow(pk.n);
  const c = randomBits(p.Lh);
  // Ẑ = Z^{−c} · A'^{c·2^{Le−1} + ê} · Π R_i^{c·a_i} (disclosed) · Π R_i^{m̂_i} (hidden) · S^{v̂}
  const terms: Array<[bigint, bigint]> = [
    [pk.Z, -c],
    [A, c * (1n << BigInt(p.Le - 1)) + randomBits(p.LeCommit + 1)],
    [pk.S, randomBits(p.LvCommit)],
  ];
  for (let i = 0; i < hidden; i++) terms.push([pk.R[i], randomBits(p.LmCommit + 1)]);
  for (let i = 0; i < disclosed; i++) terms.push([pk.R[hidden + i], c * randomBits(p.Lm)]);
  return terms;
}

function gabiShape(pk: PublicKey, hidden: number, disclosed: number): () => bigint {
  // The same Ẑ computed the way gabi does: num, known = Z·num^{−1}, known^{−c}, separate terms.
  const p = pk.params;
  const n = pk.n;
  const A = randomBelow(n);
  const c = randomBits(p.Lh);
  const eHat = randomBits(p.LeCommit + 1);
  const vHat = randomBits(p.LvCommit);
  const m = Array.from({ length: hidden }, () => randomBits(p.LmCommit + 1));
  const a = Array.from({ length: disclosed }, () => randomBits(p.Lm));
  return () => {
    let num = modPow(A, 1n << BigInt(p.Le - 1), n);
    for (let i = 0; i < disclosed; i++) num = (num * modPow(pk.R[hidden + i], a[i], n)) % n;
    const known = (pk.Z * fastModInverse(num, n)) % n;
    const terms: Array<[bigint, bigint]> = [[known, -c], [A, eHat], [pk.S, vHat]];
    for (let i = 0; i < hidden; i++) terms.push([pk.R[i], m[i]]);
    return powProduct(n, terms);
  };
}

export default async function (): Promise<void> {
  const native = nativeAcceleration();
  // Both paths in one run: each figure below names the path it took.
  setNativeAcceleration(false);
  const sizes = [
    { pub: 'irma-demo/RU/PublicKeys/2.xml', own: 'irma-demo/MijnOverheid/PublicKeys/2.xml' },
    { pub: 'test/test/PublicKeys/4.xml', own: 'irma-demo/stemmen/PublicKeys/0.xml' },
  ];
  for (const { pub, own } of sizes) {
    const pk = loadKey(pub);
    const sk = parsePrivateKeyXml(readFileSync(join(REFERENCE_SCHEMES, own.replace('PublicKeys', 'PrivateKeys')), 'utf8'));
    const n = pk.n;
    const Ln = pk.params.Ln;
    const full = randomBits(Ln);
    const vHat = randomBits(pk.params.LvCommit);
    const base = randomBelow(n);
    console.log(`-- ${Ln}-bit modulus`);
    const ossl = report(`modPow, ${Ln}-bit exponent (OpenSSL path)`, () => modPow(base, full, n));
    const ref = report(`modPowReference, ${Ln}-bit exponent (pure bigint)`, () => modPowReference(base, full, n));
    console.log(`  OpenSSL speed-up: ${(ossl / ref).toFixed(1)}×`);
    report(`modPow, negative ${Ln}-bit exponent (+ inversion)`, () => modPow(base, -full, n));
    report(`fastModInverse (Lehmer)`, () => fastModInverse(base, n));
    report(`modInverse (bigint.ts, plain Euclid)`, () => modInverse(base, n));
    report(`modPowCrt, ${Ln}-bit exponent (issuer, p and q known)`, () => modPowCrt(base, full, sk));
    report(`S^v̂, ${pk.params.LvCommit}-bit exponent, OpenSSL`, () => modPow(pk.S, vHat, n));
    let t = performance.now();
    const table = windowTable(pk.S, n, pk.params.LvCommit);
    t = performance.now() - t;
    const mib = (table.length * 255 * Ln) / 8 / 2 ** 20;
    report(`S^v̂, pure-bigint 8-bit window table (${mib.toFixed(1)} MiB, built in ${t.toFixed(0)} ms)`, () =>
      tablePow(table, vHat, n),
    );
    if (tablePow(table, vHat, n) !== modPow(pk.S, vHat, n)) throw new Error('window table disagrees');
    const terms = verifyShape(pk, 3, 2);
    report(`verify-shaped powProduct (3 hidden, 2 disclosed), node:crypto`, () => powProduct(n, terms));
    const positive = terms.map(([b, e]): [bigint, bigint] => [b, e < 0n ? -e : e]);
    report(`same terms, pure-bigint Straus multi-exponentiation`, () => multiExpPure(n, positive));
    report(`verify the gabi way (num, known^{−c}, 3 hidden, 2 disclosed)`, gabiShape(pk, 3, 2));
    if (native) {
      // A key no earlier bench used here, so the first call includes building its tables.
      setNativeAcceleration(true);
      const nativeTerms = verifyShape(pk, 3, 2);
      let t0 = performance.now();
      powProduct(n, nativeTerms);
      t0 = performance.now() - t0;
      report(`verify-shaped powProduct, native (first call built tables: ${t0.toFixed(1)} ms)`, () => powProduct(n, nativeTerms));
      report(`S^v̂, ${pk.params.LvCommit}-bit exponent, native table`, () => modPow(pk.S, vHat, n));
      setNativeAcceleration(false);
    } else {
      console.log('(native addon not built or IRMA_NATIVE=0: no native figures)');
    }
  }
  setNativeAcceleration(native);
}
