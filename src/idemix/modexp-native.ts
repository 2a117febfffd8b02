// Products of powers modulo one odd modulus through the native addon: one shared chain of
// squarings for all terms, and fixed-base tables for the long-lived bases of public keys.
// Not constant-time. The server brings only public values here (proofs it verifies, the prime e
// it publishes); its secret exponents go through modPowCrt. The holder's own proofs (src/client)
// also run here, on the holder's machine, where no remote party times them.
import { systemParameters } from './params.js';
import { fromBytes, randomBelow, toBytes } from './bigint.js';
import { nativeBinding, type ModulusHandle, type NativeBinding, type TableHandle } from './native/binding.js';

/**
 * Odd powers per table chunk: 2^(WINDOW−1) of them. Measured: 8 is ~5% faster than 7 at twice
 * the memory, 6 and 5 are 5–15% slower.
 */
export const TABLE_WINDOW = 7;
/**
 * Moduli that may hold tables at once (at most ~0.3 MB for the 1024-bit 20-base demo key, ~0.4 MB
 * for the 2048-bit 12-base one, if every base is used); the least recently used one loses its
 * tables beyond that, so a process loading many keys stays bounded.
 */
export const TABLE_MODULI_LIMIT = 32;

const withTables = new Set<NativeModulus>();

/**
 * The chain length a verification needs anyway for A′^(c·2^(Le−1)+ê), i.e. Le+Lh bits; chunks
 * of that spacing add no squarings of their own. Other moduli use their own bit length.
 */
function spacingFor(bits: number): number {
  try {
    const p = systemParameters(bits);
    return p.Le + p.Lh;
  } catch {
    return Math.max(bits, 64);
  }
}

export class NativeModulus {
  private readonly handle: ModulusHandle;
  private readonly tables = new Map<bigint, TableHandle>();
  private readonly spacing: number;
  private readonly maxChunks: number;
  /** Longest exponent a table takes: the longest any Idemix computation raises a base to. */
  readonly maxTableBits: number;

  private constructor(private readonly addon: NativeBinding, n: bigint, bits: number) {
    this.handle = addon.modulus(toBytes(n));
    this.spacing = spacingFor(bits);
    this.maxChunks = Math.min(64, Math.ceil((2 * bits + 512) / this.spacing));
    this.maxTableBits = this.spacing * this.maxChunks;
  }

  /** null without the addon, or for moduli Montgomery arithmetic cannot take (even, ≤ 1). */
  static create(n: bigint, bits: number): NativeModulus | null {
    if (nativeBinding === null || n <= 1n || (n & 1n) === 0n) return null;
    return new NativeModulus(nativeBinding, n, bits);
  }

  private table(base: bigint): TableHandle {
    let t = this.tables.get(base);
    if (t === undefined) {
      if (!withTables.has(this) && withTables.size >= TABLE_MODULI_LIMIT) {
        const oldest = withTables.values().next().value as NativeModulus;
        oldest.tables.clear();
        withTables.delete(oldest);
      }
      t = this.addon.fixedBase(this.handle, toBytes(base), this.spacing, TABLE_WINDOW, this.maxChunks);
      this.tables.set(base, t);
    }
    // Most recently used last.
    if (withTables.size > 1 || !withTables.has(this)) {
      withTables.delete(this);
      withTables.add(this);
    }
    return t;
  }

  /**
   * Π tabled_i^e_i · Π variable_j^e_j mod n, exponents positive; tabled bases must be reduced
   * and their exponents at most maxTableBits long.
   */
  product(tabled: ReadonlyArray<readonly [bigint, bigint]>, variable: ReadonlyArray<readonly [bigint, bigint]>): bigint {
    const r = this.addon.multiExp(
      this.handle,
      tabled.map(([b]) => this.table(b)),
      tabled.map(([, e]) => toBytes(e)),
      variable.map(([b]) => toBytes(b)),
      variable.map(([, e]) => toBytes(e)),
    );
    return fromBytes(r);
  }
}


/**
 * Miller–Rabin with `rounds` random bases for odd x > 4 on the addon, or undefined without it.
 * For the issuer's prime search: node:crypto's checkPrimeSync takes ~0.27 ms to reject a
 * composite and ~5 ms to accept a 600-bit prime with 20 rounds; this takes about a fifth.
 * x is public (it ends up in the signature), so nothing here needs to be constant-time.
 */
export function millerRabin(x: bigint, rounds: number): boolean | undefined {
  if (nativeBinding === null || x < 5n || (x & 1n) === 0n) return undefined;
  const m = nativeBinding.modulus(toBytes(x));
  const xm1 = x - 1n;
  let d = xm1;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  const dBytes = toBytes(d);
  for (let i = 0; i < rounds; i++) {
    const a = 2n + randomBelow(x - 3n);
    let y = fromBytes(nativeBinding.multiExp(m, [], [], [toBytes(a)], [dBytes]));
    if (y === 1n || y === xm1) continue;
    let witness = true;
    for (let j = 1; j < s && witness; j++) {
      y = (y * y) % x;
      if (y === xm1) witness = false;
      else if (y === 1n) return false;
    }
    if (witness) return false;
  }
  return true;
}
