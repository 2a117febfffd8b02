// The wallet's SD-JWT VCs (file sdjwtvcs.json beside the Idemix credentials): each instance with
// the private key it is bound to, grouped in batches per credential type and attribute values. A
// new batch of the same group replaces the old one, as the app does when a credential is reissued.
import { createHash } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ClientError } from './errors.js';
import { readJson, storageError, writeDurably } from './storage.js';

const FILE = 'sdjwtvcs.json';
const FORMAT_VERSION = 1;

export interface StoredSdJwtVc {
  /** The credential type id. */
  vct: string;
  /** The issued compact SD-JWT (ending in `~`). */
  sdJwt: string;
  /** The holder's private key of `cnf.jwk` (JWK with `d`), for key-binding JWTs. */
  holderKey: JsonWebKey;
  /** Attribute id -> value, as the disclosures carry them. */
  claims: Record<string, unknown>;
  /** Unix seconds. */
  exp: number;
  /** Hex SHA-256 of vct and claims: instances of one batch share it. */
  batch: string;
  storedAt: number;
}

export function batchId(vct: string, claims: Record<string, unknown>): string {
  const sorted = Object.keys(claims).sort().map((k) => [k, claims[k]]);
  return createHash('sha256').update(JSON.stringify([vct, sorted])).digest('hex');
}

function isStored(v: unknown): v is StoredSdJwtVc {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.vct === 'string' &&
    typeof c.sdJwt === 'string' &&
    typeof c.holderKey === 'object' &&
    c.holderKey !== null &&
    typeof c.claims === 'object' &&
    c.claims !== null &&
    typeof c.exp === 'number' &&
    typeof c.batch === 'string' &&
    typeof c.storedAt === 'number'
  );
}

export class SdJwtVcStorage {
  private list_: StoredSdJwtVc[];
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    list: StoredSdJwtVc[],
  ) {
    this.list_ = list;
  }

  static async open(dir: string): Promise<SdJwtVcStorage> {
    const path = join(dir, FILE);
    const data = await readJson(path);
    const list = data === undefined ? [] : (data as { sdjwtvcs?: unknown }).sdjwtvcs;
    if (!Array.isArray(list) || !list.every(isStored)) throw new ClientError('storage', `corrupt SD-JWT VC file ${path}`);
    return new SdJwtVcStorage(dir, list);
  }

  list(): readonly StoredSdJwtVc[] {
    return this.list_;
  }

  /** Adds the instances; older instances of the same batches go. */
  add(instances: StoredSdJwtVc[]): Promise<void> {
    const run = this.queue.then(async () => {
      const batches = new Set(instances.map((i) => i.batch));
      const next = [...this.list_.filter((i) => !batches.has(i.batch)), ...instances];
      const path = join(this.dir, FILE);
      try {
        const tmp = await writeDurably(path, JSON.stringify({ version: FORMAT_VERSION, sdjwtvcs: next }, null, 1));
        await rename(tmp, path);
      } catch (err) {
        throw storageError('cannot write the SD-JWT VCs', err);
      }
      this.list_ = next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
