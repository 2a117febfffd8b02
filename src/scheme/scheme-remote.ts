// Downloading and updating schemes from the URL they name, as the reference does: fetch `index`,
// `index.sig` and `timestamp`, verify the signature against the scheme's pinned `pk.pem`, fetch
// every new or changed file the index lists and check it against its hash, build the new version
// in a hidden folder beside the old one, verify it as the loader would, and only then move it in.
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SchemeError } from './errors.js';
import { loadScheme } from './loader.js';
import { SchemeFiles } from './scheme-files.js';
import { parseSchemeIndex, verifySchemeIndex, type SchemeIndex } from './scheme-index.js';
import {
  readSchemeIdentity,
  schemeIdentityFromJson,
  schemeIdentityFromXml,
  type SchemeIdentity,
} from './scheme-signing.js';

/** The schemes the reference installs when it finds none, with their pinned public keys. */
export const DEFAULT_SCHEMES: readonly { url: string; publicKeyPem: string }[] = [
  {
    url: 'https://schemes.yivi.app/irma-demo',
    publicKeyPem:
      '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHVnmAY+kGkFZn7XXozdI4HY8GOjm\n' +
      '54ngh4chTfn6WsTCf2w5rprfIqML61z2VTE4k8yJ0Z1QbyW6cdaao8obTQ==\n-----END PUBLIC KEY-----\n',
  },
  {
    url: 'https://schemes.yivi.app/pbdf',
    publicKeyPem:
      '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELzHV5ipBimWpuZIDaQQd+KmNpNop\n' +
      'dpBeCqpDwf+Grrw9ReODb6nwlsPJ/c/gqLnc+Y3sKOAJ2bFGI+jHBSsglg==\n-----END PUBLIC KEY-----\n',
  },
];

export interface RemoteOptions {
  /** Per request, connect and body together (default 30 s). */
  timeoutMs?: number;
  /** Largest file accepted (default 16 MiB); the production scheme's largest is far below. */
  maxFileBytes?: number;
  /** Most files an index may list (default 20000). */
  maxFiles?: number;
  /** Told about what is skipped but not fatal (demo private keys that are not published). */
  warn?(msg: string): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_FILES = 20_000;
const FETCH_BATCH = 16;

export class SchemeDownloadError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SchemeDownloadError';
  }
}

function fileUrl(base: string, rel: string): string {
  return `${base.replace(/\/+$/, '')}/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

async function getBytes(base: string, rel: string, opts: RemoteOptions): Promise<Buffer> {
  const url = fileUrl(base, rel);
  if (!/^https?:\/\//i.test(url)) throw new SchemeDownloadError(`not an http(s) URL: ${url}`);
  const max = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS), headers: { 'User-Agent': 'irmago' } });
  } catch (e) {
    const c = (e as { cause?: { code?: string; message?: string } }).cause;
    const cause = c?.code ?? c?.message ?? (e as Error).message;
    throw new SchemeDownloadError(`cannot fetch ${url}: ${cause}`, undefined, { cause: e });
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new SchemeDownloadError(`fetching ${url}: HTTP status ${res.status}`, res.status);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) {
    await res.body?.cancel();
    throw new SchemeDownloadError(`${url} is larger than ${max} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > max) throw new SchemeDownloadError(`${url} is larger than ${max} bytes`);
      chunks.push(Buffer.from(chunk));
    }
  } catch (e) {
    if (e instanceof SchemeDownloadError) throw e;
    throw new SchemeDownloadError(`cannot fetch ${url}: ${(e as Error).message}`, undefined, { cause: e });
  }
  return Buffer.concat(chunks);
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

function parseTimestamp(bytes: Buffer, where: string): number {
  const text = bytes.toString('utf8');
  if (!/^[0-9]{1,15}\n?$/.test(text)) throw new SchemeError('MALFORMED', where, 'timestamp must be a decimal Unix time');
  return Number(text.trim());
}

interface RemoteState {
  index: SchemeIndex;
  indexBytes: Buffer;
  sigBytes: Buffer;
  timestamp: number;
}

/** The remote index, verified against `pkPem`, and the remote timestamp, checked against the index. */
async function fetchRemoteState(base: string, identity: SchemeIdentity, pkPem: Buffer, dir: string, opts: RemoteOptions): Promise<RemoteState> {
  const [indexBytes, sigBytes, timestampBytes] = await Promise.all(
    ['index', 'index.sig', 'timestamp'].map((f) => getBytes(base, f, opts)),
  );
  verifySchemeIndex(dir, indexBytes, sigBytes, pkPem);
  const index = parseSchemeIndex(indexBytes, identity.id, `${base}/index`);
  if (index.size > (opts.maxFiles ?? DEFAULT_MAX_FILES)) {
    throw new SchemeError('MALFORMED', `${base}/index`, `index lists ${index.size} files, more than allowed`);
  }
  const tsHash = index.get('timestamp');
  if (!tsHash || !tsHash.equals(sha256(timestampBytes))) {
    throw new SchemeError('INVALID_SIGNATURE', `${base}/timestamp`, 'remote timestamp does not match its hash in the signed index');
  }
  return { index, indexBytes, sigBytes, timestamp: parseTimestamp(timestampBytes, `${base}/timestamp`) };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readIndexIfAny(dir: string, id: string): Promise<SchemeIndex> {
  try {
    return parseSchemeIndex(await readFile(join(dir, 'index')), id, join(dir, 'index'));
  } catch {
    return new Map();
  }
}

/**
 * Brings the scheme copy in `dir` to the remote state: fetches every file that is new or changed
 * (checking its hash), removes the files the new index no longer lists, writes index and index.sig.
 */
async function syncFiles(dir: string, base: string, identity: SchemeIdentity, remote: RemoteState, opts: RemoteOptions): Promise<void> {
  const old = await readIndexIfAny(dir, identity.id);
  const todo: [string, Buffer][] = [];
  for (const [rel, hash] of remote.index) {
    const known = old.get(rel);
    if (known && known.equals(hash) && (await exists(join(dir, ...rel.split('/'))))) continue;
    todo.push([rel, hash]);
  }
  for (let i = 0; i < todo.length; i += FETCH_BATCH) {
    await Promise.all(
      todo.slice(i, i + FETCH_BATCH).map(async ([rel, hash]) => {
        const bytes = await getBytes(base, rel, opts);
        if (!sha256(bytes).equals(hash)) {
          throw new SchemeError('INVALID_SIGNATURE', fileUrl(base, rel), 'downloaded file does not match its hash in the signed index');
        }
        const path = join(dir, ...rel.split('/'));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, bytes);
      }),
    );
  }
  for (const rel of old.keys()) {
    if (!remote.index.has(rel)) await rm(join(dir, ...rel.split('/')), { force: true });
  }
  await writeFile(join(dir, 'index'), remote.indexBytes);
  await writeFile(join(dir, 'index.sig'), remote.sigBytes);
}

/** A demo scheme publishes its private keys; fetch those not present, as the reference does, skipping any that fail. */
async function fetchDemoPrivateKeys(dir: string, base: string, index: SchemeIndex, opts: RemoteOptions): Promise<void> {
  const wanted = [...index.keys()]
    .map((rel) => /^([^/]+)\/PublicKeys\/(\d+)\.xml$/.exec(rel))
    .filter((m) => m !== null)
    .map((m) => `${m[1]}/PrivateKeys/${m[2]}.xml`);
  for (const rel of ['sk.pem', ...wanted]) {
    const path = join(dir, ...rel.split('/'));
    if (await exists(path)) continue;
    try {
      const bytes = await getBytes(base, rel, opts);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, bytes, { mode: 0o600 });
    } catch (e) {
      opts.warn?.(`demo scheme private key ${rel} not downloaded: ${(e as Error).message}`);
    }
  }
}

/** Everything the loader checks, on the new copy, before it replaces anything. */
async function verifyCopy(dir: string, identity: SchemeIdentity): Promise<void> {
  if (identity.kind === 'issuer') {
    await loadScheme(dir, { requireSignatures: true });
    return;
  }
  const files = await SchemeFiles.open(dir, identity.id, true);
  await files.verifyRemaining();
}

async function isDemo(dir: string): Promise<boolean> {
  const xml = await readFile(join(dir, 'description.xml'), 'utf8').catch(() => '');
  return /<Demo>\s*true\s*<\/Demo>/.test(xml);
}

/** A hidden working folder beside the schemes, so that the final renames stay on one file system. */
async function workFolder(schemesPath: string, id: string, what: string): Promise<{ root: string; dir: string }> {
  const root = join(schemesPath, `.${what}-${randomBytes(6).toString('hex')}`);
  const dir = join(root, id);
  await mkdir(root, { recursive: true });
  return { root, dir };
}

export interface UpdateResult {
  id: string;
  updated: boolean;
  /** The local timestamp before, and the remote one. */
  from?: number;
  to: number;
}

/**
 * Updates the scheme in `schemeDir` from its own URL when the remote timestamp is newer. Throws
 * (and leaves the folder exactly as it was) on any failure: unreachable, bad signature, a file
 * that does not match its hash, or a new version the loader refuses.
 */
export async function updateScheme(schemeDir: string, opts: RemoteOptions = {}): Promise<UpdateResult> {
  const identity = await readSchemeIdentity(schemeDir);
  const local = await readFile(join(schemeDir, 'timestamp')).then(
    (b) => parseTimestamp(b, join(schemeDir, 'timestamp')),
    () => undefined,
  );
  const pk = await readFile(join(schemeDir, 'pk.pem')).catch((e) => {
    throw new SchemeError('IO', join(schemeDir, 'pk.pem'), 'scheme has no public key to verify updates with', { cause: e });
  });
  const remote = await fetchRemoteState(identity.url, identity, pk, schemeDir, opts);
  if (local !== undefined && remote.timestamp <= local) return { id: identity.id, updated: false, from: local, to: remote.timestamp };

  const work = await workFolder(dirname(schemeDir), identity.id, 'tempscheme');
  try {
    // A copy keeps what the index does not list (private keys, sk.pem) and spares unchanged files.
    await cp(schemeDir, work.dir, { recursive: true });
    await syncFiles(work.dir, identity.url, identity, remote, opts);
    if (identity.kind === 'issuer' && (await isDemo(work.dir))) await fetchDemoPrivateKeys(work.dir, identity.url, remote.index, opts);
    const next = await readSchemeIdentity(work.dir);
    if (next.id !== identity.id) throw new SchemeError('MALFORMED', schemeDir, `the update renames scheme ${identity.id} to ${next.id}`);
    await verifyCopy(work.dir, identity);
    await swapIn(work.dir, schemeDir, identity.id);
  } finally {
    await rm(work.root, { recursive: true, force: true });
  }
  return { id: identity.id, updated: true, from: local, to: remote.timestamp };
}

/** Moves the old folder aside and the new one into its place; if the second move fails the old one goes back. */
async function swapIn(next: string, target: string, id: string): Promise<void> {
  const aside = await workFolder(dirname(target), id, 'oldscheme');
  try {
    let moved = false;
    try {
      await rename(target, aside.dir);
      moved = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    try {
      await rename(next, target);
    } catch (e) {
      if (moved) await rename(aside.dir, target);
      throw e;
    }
  } finally {
    await rm(aside.root, { recursive: true, force: true });
  }
}

export interface InstallOptions extends RemoteOptions {
  /** Pinned scheme public key; without it, the scheme's own pk.pem is trusted on first use. */
  publicKeyPem?: string;
}

function normalizeSchemeUrl(url: string): string {
  let u = url.replace(/\/+$/, '');
  for (const f of ['description.xml', 'description.json']) if (u.endsWith(`/${f}`)) u = u.slice(0, -f.length - 1);
  if (!/^https?:\/\/[^/]/i.test(u)) throw new SchemeDownloadError(`not an http(s) URL: ${url}`);
  return u;
}

/** Downloads the scheme at `url` into `<schemesPath>/<id>`, which must not exist yet. */
export async function installScheme(schemesPath: string, url: string, opts: InstallOptions = {}): Promise<UpdateResult & { path: string }> {
  const base = normalizeSchemeUrl(url);
  let description: { name: string; bytes: Buffer; identity: SchemeIdentity };
  try {
    const bytes = await getBytes(base, 'description.xml', opts);
    description = { name: 'description.xml', bytes, identity: schemeIdentityFromXml(bytes.toString('utf8'), `${base}/description.xml`) };
  } catch (e) {
    if (!(e instanceof SchemeDownloadError) || e.status !== 404) throw e;
    const bytes = await getBytes(base, 'description.json', opts);
    description = { name: 'description.json', bytes, identity: schemeIdentityFromJson(bytes.toString('utf8'), `${base}/description.json`) };
  }
  const identity = description.identity;
  const target = join(schemesPath, identity.id);
  if (await exists(target)) throw new SchemeError('IO', target, `scheme ${identity.id} is already installed`);

  await mkdir(schemesPath, { recursive: true });
  const work = await workFolder(schemesPath, identity.id, 'tempscheme');
  try {
    await mkdir(work.dir);
    const pk = opts.publicKeyPem !== undefined ? Buffer.from(opts.publicKeyPem) : await getBytes(base, 'pk.pem', opts);
    await writeFile(join(work.dir, 'pk.pem'), pk);
    const remote = await fetchRemoteState(base, identity, pk, work.dir, opts);
    await syncFiles(work.dir, base, identity, remote, opts);
    if (identity.kind === 'issuer' && (await isDemo(work.dir))) await fetchDemoPrivateKeys(work.dir, base, remote.index, opts);
    // The signed description must be the one we read the id from.
    const signed = await readFile(join(work.dir, description.name));
    if (!signed.equals(description.bytes)) throw new SchemeError('INVALID_SIGNATURE', `${base}/${description.name}`, 'description changed during the download');
    await verifyCopy(work.dir, identity);
    // A plain rename: it fails rather than replace a scheme that appeared meanwhile.
    await rename(work.dir, target);
    return { id: identity.id, updated: true, to: remote.timestamp, path: target };
  } finally {
    await rm(work.root, { recursive: true, force: true });
  }
}
