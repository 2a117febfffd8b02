// Loads the optional native addon (native/idemix_native.c for multi-exponentiation, native/store_gcm.c
// for sealing stored sessions; built by `npm install` through native/build.mjs). Absent, unloadable,
// or disabled with IRMA_NATIVE=0, the same results come from node:crypto alone.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const handleBrand: unique symbol;
/** An OpenSSL Montgomery context for one modulus, owned by the addon. */
export type ModulusHandle = { readonly [handleBrand]: 'modulus' };
/** A fixed-base table of one base under one modulus, owned by the addon. */
export type TableHandle = { readonly [handleBrand]: 'table' };

export interface NativeBinding {
  /** Throws unless n is odd and above 1. */
  modulus(n: Buffer): ModulusHandle;
  /** Table for base^e with e below 2^(spacing·maxChunks); chunks are built on first use. */
  fixedBase(mod: ModulusHandle, base: Buffer, spacing: number, window: number, maxChunks: number): TableHandle;
  /** Π tables_i^tableExps_i · Π bases_j^exps_j mod n, big-endian with n's byte length. */
  multiExp(mod: ModulusHandle, tables: TableHandle[], tableExps: Buffer[], bases: Buffer[], exps: Buffer[]): Buffer;
  /** AES-256-GCM of a string's UTF-8 bytes: ciphertext || 16-byte tag. Absent from older builds. */
  gcmSeal?(key: Buffer, iv: Buffer, aad: string, plaintext: string): Buffer;
  /** The UTF-8 plaintext of ciphertext || tag, or null when the tag does not verify. */
  gcmOpen?(key: Buffer, iv: Buffer, aad: string, body: Buffer): string | null;
}

const ADDON = join('build', 'Release', 'idemix_native.node');

/** The package root holding build/: two levels up from src/idemix/native or dist/idemix/native. */
function addonPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

function load(): NativeBinding | null {
  if (process.env.IRMA_NATIVE === '0') return null;
  const path = addonPath();
  if (path === undefined) return null;
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<NativeBinding>;
    if (typeof addon.modulus !== 'function' || typeof addon.fixedBase !== 'function' || typeof addon.multiExp !== 'function') {
      return null;
    }
    return addon as NativeBinding;
  } catch {
    // Built for another Node ABI or platform: the node:crypto path gives the same results.
    return null;
  }
}

/** The addon, or null when the node:crypto path is to be used. Loaded once per thread. */
export const nativeBinding: NativeBinding | null = load();
