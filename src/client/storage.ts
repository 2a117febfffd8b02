// The wallet folder: the holder's secret key (made once, never replaced) and the credentials,
// as JSON files. Every write goes to a temporary file that is synced and renamed over the old
// one, so a crash leaves either the old or the new file, never half of one.
import { mkdir, open, readFile, rename, link, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodeB64, encodeB64, randomBits } from '../idemix/bigint.js';
import { IdemixError } from '../idemix/errors.js';
import { SECRET_KEY_BITS } from '../idemix/params.js';
import { ClientError } from './errors.js';

const SECRET_KEY_FILE = 'secretkey.json';
const CREDENTIALS_FILE = 'credentials.json';
const FORMAT_VERSION = 1;

/** A credential as kept on disk; big integers in gabi's JSON encoding (padded base64). */
export interface StoredCredential {
  /** Hex SHA-256 over the type and attribute integers: stable and unique per credential. */
  id: string;
  credentialType: string;
  /** Counter of the issuer public key that signed it. */
  keyCounter: number;
  signature: { A: string; e: string; v: string };
  /** The attribute integers without the secret key: metadata first, then type order. */
  attributes: string[];
  /** Unix milliseconds when it was stored; the newest is preferred when choosing. */
  storedAt: number;
  /** Non-revocation witness of a revocable credential; `revoked` once an update showed it revoked. */
  witness?: StoredWitness;
}

export interface StoredWitness {
  u: string;
  e: string;
  sacc: { data: string; pk: number };
  revoked?: boolean;
}

export function storageError(what: string, err: unknown): ClientError {
  return new ClientError('storage', `${what}: ${(err as Error).message ?? String(err)}`, { cause: err });
}

export async function writeDurably(path: string, data: string): Promise<string> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

function isStoredCredential(v: unknown): v is StoredCredential {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  const sig = c.signature as Record<string, unknown> | null;
  return (
    typeof c.id === 'string' &&
    typeof c.credentialType === 'string' &&
    Number.isSafeInteger(c.keyCounter) &&
    typeof sig === 'object' &&
    sig !== null &&
    ['A', 'e', 'v'].every((k) => typeof sig[k] === 'string') &&
    Array.isArray(c.attributes) &&
    c.attributes.length > 0 &&
    c.attributes.every((a) => typeof a === 'string') &&
    typeof c.storedAt === 'number'
  );
}

export class CredentialStorage {
  readonly dir: string;
  readonly secretKey: bigint;
  private credentials: StoredCredential[];
  // Writes run one after another so concurrent sessions of one client never lose an update.
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, secretKey: bigint, credentials: StoredCredential[]) {
    this.dir = dir;
    this.secretKey = secretKey;
    this.credentials = credentials;
  }

  static async open(dir: string): Promise<CredentialStorage> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw storageError(`cannot create wallet folder ${dir}`, err);
    }
    const secretKey = await loadOrCreateSecretKey(dir);
    const credentials = await loadCredentials(dir);
    return new CredentialStorage(dir, secretKey, credentials);
  }

  list(): readonly StoredCredential[] {
    return this.credentials;
  }

  /**
   * Replaces the credential list by `change(current)` and writes it durably. Changes are applied
   * in call order; the in-memory list only changes once the file is written.
   */
  update(change: (current: readonly StoredCredential[]) => StoredCredential[]): Promise<void> {
    const run = this.queue.then(async () => {
      const next = change(this.credentials);
      const path = join(this.dir, CREDENTIALS_FILE);
      try {
        const body = JSON.stringify({ version: FORMAT_VERSION, credentials: next }, null, 1);
        const tmp = await writeDurably(path, body);
        await rename(tmp, path);
      } catch (err) {
        throw storageError('cannot write the credentials', err);
      }
      this.credentials = next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

async function loadOrCreateSecretKey(dir: string): Promise<bigint> {
  const path = join(dir, SECRET_KEY_FILE);
  const existing = await readJson(path);
  if (existing === undefined) {
    const body = JSON.stringify({ version: FORMAT_VERSION, secretKey: encodeB64(randomBits(SECRET_KEY_BITS)) });
    try {
      const tmp = await writeDurably(path, body);
      // link() fails if another process made the key first: then its key wins and we read it.
      try {
        await link(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        await unlink(tmp);
      }
    } catch (err) {
      throw storageError('cannot write the secret key', err);
    }
    return loadOrCreateSecretKey(dir);
  }
  const key = (existing as { secretKey?: unknown }).secretKey;
  try {
    const sk = decodeB64(key, 'secret key');
    if (sk === 0n) throw new IdemixError('MALFORMED', 'secret key is zero');
    return sk;
  } catch (err) {
    throw storageError(`corrupt secret key file ${path}`, err);
  }
}

async function loadCredentials(dir: string): Promise<StoredCredential[]> {
  const path = join(dir, CREDENTIALS_FILE);
  const data = await readJson(path);
  if (data === undefined) return [];
  const list = (data as { credentials?: unknown }).credentials;
  if (!Array.isArray(list) || !list.every(isStoredCredential)) {
    throw new ClientError('storage', `corrupt credentials file ${path}`);
  }
  return list;
}

export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storageError(`cannot read ${path}`, err);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw storageError(`corrupt JSON in ${path}`, err);
  }
}
