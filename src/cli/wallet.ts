// `irma-server wallet`: the holder's side of a session from the command line, with the headless
// client and a wallet folder, so a newcomer can finish a session without the Yivi app.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pemCertificates } from '../sdjwt/certificate-info.js';
import { ClientError, IrmaClient, type SessionOutcome, type WalletCredential } from '../client/index.js';
import { loadSchemes } from '../scheme/loader.js';
import type { SchemeRegistry } from '../scheme/types.js';
import { loadConfig } from './config.js';
import { describeStartupError } from './startup-error.js';
import type { CliIo, Env } from './run.js';

export interface WalletCommandOptions {
  /** Session pointer JSON, session package JSON, or '-' for standard input; unused with `list`. */
  pointer?: string;
  wallet?: string;
  schemesPath?: string;
  dataDir?: string;
  list: boolean;
  refuse: boolean;
  /** PEM file of the CA(s) whose SD-JWT VC issuers the holder trusts; absent: no SD-JWT VCs. */
  sdjwtvcTrust?: string;
}

/** Exit codes: a session that ended otherwise than DONE with VALID proofs never exits 0. */
export const EXIT_DONE = 0;
export const EXIT_FAILED = 1;
export const EXIT_CANCELLED = 2;

export async function walletCommand(opts: WalletCommandOptions, env: Env, io: CliIo): Promise<number> {
  const fail = (msg: string): number => {
    io.stderr.write(`irma-server wallet: ${msg}\n`);
    return EXIT_FAILED;
  };
  if (!opts.list && opts.pointer === undefined) return fail('missing session pointer (JSON, or - for standard input)');
  if (opts.list && opts.pointer !== undefined) return fail('--list takes no session pointer');

  let paths: { wallet: string; schemesPath: string };
  try {
    paths = resolvePaths(opts, env, io.cwd);
  } catch (e) {
    return fail(describeStartupError(e));
  }
  const hint = opts.schemesPath === undefined ? ' (start the server once to generate the demo scheme there, or give --schemes-path)' : '';
  let schemes: SchemeRegistry;
  try {
    schemes = await loadSchemes({ schemesPath: paths.schemesPath });
  } catch (e) {
    return fail(`cannot read the schemes in ${paths.schemesPath}: ${describeStartupError(e)}${hint}`);
  }
  if (schemes.schemes.size === 0) return fail(`no scheme in ${paths.schemesPath}${hint}`);
  let sdJwtVc: { trustAnchors: string[] } | undefined;
  if (opts.sdjwtvcTrust !== undefined) {
    const path = resolve(io.cwd, opts.sdjwtvcTrust);
    try {
      sdJwtVc = { trustAnchors: pemCertificates(await readFile(path, 'utf8')) };
    } catch (e) {
      return fail(`cannot read ${path}: ${describeStartupError(e)}`);
    }
    if (sdJwtVc.trustAnchors.length === 0) return fail(`no certificate in ${path}`);
  }
  const client = new IrmaClient({ storageDir: paths.wallet, schemes, sdJwtVc });

  try {
    if (opts.list) {
      const creds = await client.credentials();
      io.stdout.write(creds.length === 0 ? `the wallet ${paths.wallet} holds no credentials\n` : creds.map(describeCredential).join(''));
      const batches = new Map<string, { vct: string; n: number }>();
      for (const vc of await client.sdJwtVcs()) {
        const b = batches.get(vc.batch) ?? { vct: vc.vct, n: 0 };
        b.n++;
        batches.set(vc.batch, b);
      }
      for (const b of batches.values()) io.stdout.write(`SD-JWT VC ${b.vct}: ${b.n} instance(s)\n`);
      return EXIT_DONE;
    }
    const pointer = opts.pointer === '-' ? await readAll(io.stdin ?? process.stdin) : (opts.pointer as string);
    const outcome = await client.runSession(pointer, {
      permission: () => !opts.refuse,
      pairing: (code) => io.stdout.write(`pairing code: ${code} (waiting for the frontend to confirm it)\n`),
    });
    const wallet = await client.credentials();
    let last = outcome;
    for (let o: SessionOutcome | undefined = outcome; o; o = o.next) {
      if (o !== outcome) io.stdout.write('next session:\n');
      io.stdout.write(describeOutcome(o, wallet));
      if (o.sdJwtVcs) io.stdout.write(`SD-JWT VCs stored: ${o.sdJwtVcs}\n`);
      last = o;
    }
    if (last.status !== 'DONE') return EXIT_CANCELLED;
    return last.proofStatus === 'VALID' ? EXIT_DONE : EXIT_FAILED;
  } catch (e) {
    if (!(e instanceof ClientError)) return fail(describeStartupError(e));
    if (e.proofStatus) io.stdout.write(`proofStatus: ${e.proofStatus}\n`);
    // The server's error type is what a script branches on; most messages name it already.
    const remote = e.remoteType && !e.message.includes(e.remoteType) ? ` (server: ${e.remoteType})` : '';
    return fail(`${e.type}: ${e.message}${remote}`);
  }
}

/** The server's data folder (flag, IRMASERVER_DATA_DIR or config file, else ~/.irma-server-ts) decides both defaults. */
function resolvePaths(opts: WalletCommandOptions, env: Env, cwd: string): { wallet: string; schemesPath: string } {
  const flags: Record<string, unknown> = {};
  if (opts.dataDir !== undefined) flags.data_dir = opts.dataDir;
  if (opts.schemesPath !== undefined) flags.schemes_path = opts.schemesPath;
  const loaded = loadConfig({ flags, env, cwd });
  return {
    wallet: opts.wallet !== undefined ? resolve(cwd, opts.wallet) : join(loaded.dataDir, 'wallet'),
    // Without a configured schemes_path the server runs on the demo scheme, which it keeps in the data folder.
    schemesPath: loaded.options.schemesPath || loaded.dataDir,
  };
}

async function readAll(stream: AsyncIterable<string | Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function day(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

function attributeLines(attributes: Record<string, string | null>): string {
  return Object.entries(attributes)
    .map(([name, value]) => `  ${name}: ${value ?? '(absent)'}\n`)
    .join('');
}

function describeCredential(c: WalletCredential): string {
  return `${c.credentialType} (issued ${day(c.issuedAt)}, expires ${day(c.expires)}, id ${c.id.slice(0, 12)})\n${attributeLines(c.attributes)}`;
}

function describeOutcome(o: SessionOutcome, wallet: readonly WalletCredential[]): string {
  const lines = [`type: ${o.type}`, `status: ${o.status}`];
  if (o.proofStatus) lines.push(`proofStatus: ${o.proofStatus}`);
  let text = lines.map((l) => `${l}\n`).join('');
  for (const con of o.disclosed ?? []) {
    for (const attr of con) text += `disclosed ${attr.id}: ${attr.rawValue ?? '(absent)'}\n`;
  }
  if (o.signature) text += `signed message: ${String(o.signature.message)}\n`;
  for (const id of o.issued ?? []) {
    const cred = wallet.find((c) => c.id === id);
    text += cred ? `issued ${describeCredential(cred)}` : `issued credential ${id.slice(0, 12)}\n`;
  }
  if (o.clientReturnUrl) text += `clientReturnUrl: ${o.clientReturnUrl}\n`;
  if (o.nextSession && !o.next) text += `next session (not followed): ${JSON.stringify(o.nextSession)}\n`;
  return text;
}
