// The project's own demo scheme, so that the zero-configuration server can run sessions without
// downloading anything: scheme `demo`, issuer `Example`, types `person` and `email`, generated
// once per data folder with fresh keys and reused while it stays valid.
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { generateKeyPair } from '../idemix/keygen.js';
import { SchemeError } from './errors.js';
import { loadScheme } from './loader.js';
import { writeScheme, type CredentialTypeSpec, type SchemeSpec } from './writer.js';

export const DEMO_SCHEME_ID = 'demo';
export const DEMO_ISSUER_ID = 'Example';

export const DEMO_CREDENTIAL_TYPES: readonly CredentialTypeSpec[] = [
  {
    id: 'person',
    name: { en: 'Demo person', nl: 'Demo persoon' },
    attributes: [
      { id: 'firstname', name: { en: 'First name', nl: 'Voornaam' } },
      { id: 'familyname', name: { en: 'Family name', nl: 'Achternaam' } },
      { id: 'prefix', optional: true, name: { en: 'Prefix', nl: 'Tussenvoegsel' } },
      { id: 'over18', name: { en: 'Over 18', nl: 'Ouder dan 18' } },
    ],
  },
  {
    id: 'email',
    name: { en: 'Demo email address', nl: 'Demo e-mailadres' },
    attributes: [
      { id: 'email', name: { en: 'Email address', nl: 'E-mailadres' } },
      { id: 'domain', name: { en: 'Email domain', nl: 'E-maildomein' } },
    ],
  },
];

const KEY_BITS = 1024;
const KEY_LIFETIME_S = 5 * 365 * 24 * 3600;
// Regenerate well before expiry: the reference warns one month ahead and refuses to issue after.
const RENEW_BEFORE_S = 31 * 24 * 3600;
// Leftovers (and locks) of an interrupted generation; younger ones may belong to one still running.
const STALE_AFTER_MS = 10 * 60 * 1000;
const LOCK_WAIT_MS = 2 * 60 * 1000;
const LOCK_POLL_MS = 100;

export interface EnsureDemoSchemeOptions {
  onProgress?(msg: string): void;
  /** Unix seconds; for tests. */
  now?: number;
}

/** True when `<dir>/demo` is signed, complete, and can issue every demo type for another month. */
async function isUsable(dir: string, now: number): Promise<boolean> {
  try {
    const loaded = await loadScheme(join(dir, DEMO_SCHEME_ID), { requireSignatures: true });
    const issuerId = `${DEMO_SCHEME_ID}.${DEMO_ISSUER_ID}`;
    const sks = loaded.privateKeys.get(issuerId);
    const pks = loaded.publicKeys.get(issuerId);
    if (!sks || sks.size === 0 || !pks) return false;
    const pk = pks.get(Math.max(...sks.keys()));
    if (!pk || pk.expiryDate < now + RENEW_BEFORE_S) return false;
    return DEMO_CREDENTIAL_TYPES.every((spec) => {
      const ct = loaded.credentialTypes.find((c) => c.id === `${issuerId}.${spec.id}`);
      return (
        ct !== undefined &&
        ct.attributes.length === spec.attributes.length &&
        ct.attributes.every((a, i) => a.shortId === spec.attributes[i].id && a.optional === (spec.attributes[i].optional ?? false)) &&
        pk.R.length >= ct.attributes.length + 2
      );
    });
  } catch {
    return false;
  }
}

async function removeStaleLeftovers(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const prefixes = [`.${DEMO_SCHEME_ID}.tmp-`, `.${DEMO_SCHEME_ID}.old-`];
  for (const name of names.filter((n) => prefixes.some((p) => n.startsWith(p)))) {
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > STALE_AFTER_MS) await rm(path, { recursive: true, force: true });
  }
}

/** Runs `fn` while holding `<dir>/.demo.lock`, so that server processes sharing a data folder generate once. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = join(dir, `.${DEMO_SCHEME_ID}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new SchemeError('IO', dir, `cannot create folder: ${(e as Error).message}`, { cause: e });
  }
  for (;;) {
    try {
      await (await open(lockPath, 'wx')).close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SchemeError('IO', lockPath, `cannot create lock: ${(e as Error).message}`, { cause: e });
      }
    }
    const s = await stat(lockPath).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > STALE_AFTER_MS) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new SchemeError('IO', lockPath, 'another process keeps generating the demo scheme');
    await sleep(LOCK_POLL_MS);
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/**
 * A replacement key gets the next counter: a wallet's credentials of the old key then name a key
 * the server does not know (a clear UNKNOWN_PUBLIC_KEY) instead of failing to verify under the new one.
 */
async function nextKeyCounter(dir: string): Promise<number> {
  const names = await readdir(join(dir, DEMO_SCHEME_ID, DEMO_ISSUER_ID, 'PublicKeys')).catch(() => [] as string[]);
  const counters = names.map((n) => /^(\d+)\.xml$/.exec(n)?.[1]).filter((c): c is string => c !== undefined).map(Number);
  return counters.length === 0 ? 0 : Math.max(...counters) + 1;
}

async function generate(dir: string, now: number, opts: EnsureDemoSchemeOptions): Promise<void> {
  await removeStaleLeftovers(dir);
  const counter = await nextKeyCounter(dir);
  opts.onProgress?.(`generating the demo scheme in ${join(dir, DEMO_SCHEME_ID)} (${KEY_BITS}-bit issuer key)`);
  const numAttributes = Math.max(...DEMO_CREDENTIAL_TYPES.map((ct) => ct.attributes.length)) + 2;
  const { publicKey, privateKey } = await generateKeyPair({
    bits: KEY_BITS,
    numAttributes,
    counter,
    expiryDate: now + KEY_LIFETIME_S,
    onProgress: opts.onProgress,
  });
  const spec: SchemeSpec = {
    id: DEMO_SCHEME_ID,
    demo: true,
    name: { en: 'Demo scheme of this server', nl: 'Demoschema van deze server' },
    timestamp: now,
    issuers: [
      {
        id: DEMO_ISSUER_ID,
        name: { en: 'Example issuer', nl: 'Voorbeelduitgever' },
        credentialTypes: [...DEMO_CREDENTIAL_TYPES],
        keys: [{ publicKey, privateKey }],
      },
    ],
  };
  await writeScheme(dir, spec);
  opts.onProgress?.('demo scheme ready');
}

/** Ensures `<dir>/demo` holds a valid demo scheme (generating it if needed); returns `dir`, the schemes path. */
export async function ensureDemoScheme(dir: string, opts: EnsureDemoSchemeOptions = {}): Promise<string> {
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (await isUsable(dir, now)) return dir;
  await withLock(dir, async () => {
    // Another process may have generated it while this one waited for the lock.
    if (!(await isUsable(dir, now))) await generate(dir, now, opts);
  });
  return dir;
}
