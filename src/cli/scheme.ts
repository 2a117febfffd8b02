// `irma-server scheme ...`: the reference's `irma scheme` tooling, so that anyone can make, sign,
// check and fetch a scheme: keygen (scheme signing key pair), sign, verify, download, update.
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadScheme, loadSchemes } from '../scheme/loader.js';
import { SchemeFiles } from '../scheme/scheme-files.js';
import { DEFAULT_SCHEMES, installScheme, updateScheme } from '../scheme/scheme-remote.js';
import { generateSchemeKeyPair, parseSchemeSigningKey, readSchemeIdentity, signSchemeFolder } from '../scheme/scheme-signing.js';
import { loadConfig } from './config.js';
import { describeStartupError } from './startup-error.js';
import type { CliIo, Env } from './run.js';

function failer(io: CliIo, command: string): (e: unknown) => number {
  return (e) => {
    io.stderr.write(`irma-server scheme ${command}: ${describeStartupError(e)}\n`);
    return 1;
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function schemeKeygenCommand(opts: { privateKey: string; publicKey: string }, io: CliIo): Promise<number> {
  try {
    const sk = resolve(io.cwd, opts.privateKey);
    const pk = resolve(io.cwd, opts.publicKey);
    // Never overwrite: a replaced signing key orphans every scheme it signed.
    for (const path of [sk, pk]) if (await exists(path)) throw new Error(`${path} exists, not overwriting`);
    const pair = generateSchemeKeyPair();
    await writeFile(sk, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
    await writeFile(pk, pair.publicKeyPem, { flag: 'wx' });
    io.stdout.write(`Private key written at ${sk}\nPublic key written at ${pk}\n`);
    return 0;
  } catch (e) {
    return failer(io, 'keygen')(e);
  }
}

export async function schemeSignCommand(opts: { privateKey?: string; path?: string; noVerification: boolean }, io: CliIo): Promise<number> {
  try {
    const skPath = resolve(io.cwd, opts.privateKey ?? 'sk.pem');
    const dir = resolve(io.cwd, opts.path ?? '.');
    const key = parseSchemeSigningKey(await readFile(skPath), skPath);
    const signed = await signSchemeFolder(dir, key);
    io.stdout.write(`signed ${signed.files} files of scheme ${signed.identity.id} (timestamp ${signed.timestamp})\n`);
    if (!opts.noVerification) await verifySchemeFolder(dir, signed.identity.kind === 'issuer');
    return 0;
  } catch (e) {
    return failer(io, 'sign')(e);
  }
}

/** A scheme folder: the loader's full check for a credential scheme, index and hashes for a requestor scheme. */
async function verifySchemeFolder(dir: string, issuer: boolean): Promise<string> {
  const identity = await readSchemeIdentity(dir);
  if (issuer) {
    const loaded = await loadScheme(dir, { requireSignatures: true });
    return `${identity.id}: ${loaded.issuers.length} issuers, ${loaded.credentialTypes.length} credential types`;
  }
  const files = await SchemeFiles.open(dir, identity.id, true);
  await files.verifyRemaining();
  return `${identity.id}: requestor scheme`;
}

export async function schemeVerifyCommand(opts: { path?: string }, io: CliIo): Promise<number> {
  try {
    const path = resolve(io.cwd, opts.path ?? '.');
    const lines: string[] = [];
    if ((await exists(join(path, 'description.xml'))) || (await exists(join(path, 'description.json')))) {
      lines.push(await verifySchemeFolder(path, await exists(join(path, 'description.xml'))));
    } else {
      // An irma_configuration: every scheme in it, together (as the server loads them).
      const names = (await readdir(path)).filter((n) => !n.startsWith('.')).sort();
      const schemes = names.filter((n) => !n.startsWith('.'));
      let found = 0;
      for (const name of schemes) {
        const dir = join(path, name);
        const xml = await exists(join(dir, 'description.xml'));
        if (!xml && !(await exists(join(dir, 'description.json')))) continue;
        lines.push(await verifySchemeFolder(dir, xml));
        found++;
      }
      if (found === 0) throw new Error(`${path} holds no scheme, nor is it one`);
      await loadSchemes({ schemesPath: path });
    }
    io.stdout.write(lines.map((l) => `${l}\n`).join('') + 'Verification was successful.\n');
    return 0;
  } catch (e) {
    return failer(io, 'verify')(e);
  }
}

/** Where schemes go without a path argument: the server's schemes_path, else its data folder. */
function defaultSchemesPath(env: Env, cwd: string): string {
  const loaded = loadConfig({ flags: {}, env, cwd });
  return loaded.options.schemesPath || loaded.dataDir;
}

/**
 * The reference's `download [path] [url...]`, also accepting `download url... [path]`: arguments
 * that are http(s) URLs name schemes, one other argument is the irma_configuration folder. Without
 * URLs, the default schemes (irma-demo, pbdf) with their pinned keys.
 */
export async function schemeDownloadCommand(args: string[], env: Env, io: CliIo): Promise<number> {
  const fail = failer(io, 'download');
  try {
    const urls = args.filter((a) => /^https?:\/\//i.test(a));
    const paths = args.filter((a) => !/^https?:\/\//i.test(a));
    if (paths.length > 1) throw new Error(`give one folder to download into, not ${paths.join(', ')}`);
    const dest = paths.length === 1 ? resolve(io.cwd, paths[0]) : defaultSchemesPath(env, io.cwd);
    const targets = urls.length > 0 ? urls.map((url) => ({ url, publicKeyPem: undefined })) : DEFAULT_SCHEMES;
    if (urls.length === 0) io.stdout.write('no URL given: downloading the default schemes (irma-demo, pbdf)\n');
    for (const t of targets) {
      const r = await installScheme(dest, t.url, { publicKeyPem: t.publicKeyPem, warn: (m) => io.stderr.write(`warning: ${m}\n`) });
      io.stdout.write(`downloaded scheme ${r.id} (timestamp ${r.to}) into ${r.path}\n`);
    }
    return 0;
  } catch (e) {
    return fail(e);
  }
}

/** `update [path]`: one scheme folder, or every scheme of an irma_configuration. */
export async function schemeUpdateCommand(opts: { path?: string }, env: Env, io: CliIo): Promise<number> {
  try {
    const path = opts.path !== undefined ? resolve(io.cwd, opts.path) : defaultSchemesPath(env, io.cwd);
    let dirs = [path];
    if (!(await exists(join(path, 'description.xml'))) && !(await exists(join(path, 'description.json')))) {
      dirs = [];
      for (const name of (await readdir(path)).filter((n) => !n.startsWith('.')).sort()) {
        const dir = join(path, name);
        if ((await exists(join(dir, 'description.xml'))) || (await exists(join(dir, 'description.json')))) dirs.push(dir);
      }
    }
    let failed = 0;
    for (const dir of dirs) {
      try {
        const r = await updateScheme(dir, { warn: (m) => io.stderr.write(`warning: ${m}\n`) });
        io.stdout.write(r.updated ? `${r.id}: updated to timestamp ${r.to}\n` : `${r.id}: up to date (timestamp ${r.from})\n`);
      } catch (e) {
        failed++;
        io.stderr.write(`irma-server scheme update: ${dir}: ${describeStartupError(e)}\n`);
      }
    }
    return failed === 0 ? 0 : 1;
  } catch (e) {
    return failer(io, 'update')(e);
  }
}
