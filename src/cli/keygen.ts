// `irma-server keygen`: an issuer key pair written where schemes keep them,
// <out>/PublicKeys/<counter>.xml and <out>/PrivateKeys/<counter>.xml.
import { access, chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateKeyPair } from '../idemix/keygen.js';
import { privateKeyToXml, publicKeyToXml } from '../idemix/keys.js';
import { describeStartupError } from './startup-error.js';
import type { CliIo } from './run.js';

export interface KeygenArgs {
  bits: 1024 | 2048 | 4096;
  attributes: number;
  counter?: number;
  /** Date or date-time text; default one year from now. */
  expiry?: string;
  out: string;
  forceOverwrite: boolean;
}

const MAX_COUNTER = 0xffff; // two bytes in the metadata attribute
const YEAR_S = 365 * 24 * 3600;

export async function keygenCommand(args: KeygenArgs, io: CliIo): Promise<number> {
  try {
    const out = resolve(io.cwd, args.out);
    const expiryDate = parseExpiry(args.expiry);
    const counter = args.counter ?? (await nextCounter(join(out, 'PublicKeys')));
    if (!Number.isSafeInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
      throw new Error(`counter must be between 0 and ${MAX_COUNTER}`);
    }
    if (!Number.isSafeInteger(args.attributes) || args.attributes < 2) throw new Error('attributes must be at least 2');
    const publicPath = join(out, 'PublicKeys', `${counter}.xml`);
    const privatePath = join(out, 'PrivateKeys', `${counter}.xml`);
    if (!args.forceOverwrite) {
      // Checked before the (slow) generation; the exclusive writes below still catch a race.
      for (const path of [publicPath, privatePath]) {
        if (await exists(path)) throw new Error(`${path} exists (use --force-overwrite to replace it)`);
      }
    }

    io.stderr.write(`generating a ${args.bits}-bit key pair with ${args.attributes} attributes, counter ${counter}` +
      (args.bits > 1024 ? ' (this can take minutes)' : '') + '\n');
    const { publicKey, privateKey } = await generateKeyPair({
      bits: args.bits,
      numAttributes: args.attributes,
      counter,
      expiryDate,
      onProgress: (msg) => io.stderr.write(`  ${msg}\n`),
    });

    await mkdir(join(out, 'PublicKeys'), { recursive: true });
    await mkdir(join(out, 'PrivateKeys'), { recursive: true, mode: 0o700 });
    // 'wx' refuses to replace a key that may already be in use, unless asked to.
    const flag = args.forceOverwrite ? 'w' : 'wx';
    await writeFile(privatePath, privateKeyToXml(privateKey), { flag, mode: 0o600 });
    // `mode` only applies to a file that is created; a replaced one keeps its old permissions.
    await chmod(privatePath, 0o600);
    await writeFile(publicPath, publicKeyToXml(publicKey), { flag });
    io.stdout.write(`${publicPath}\n${privatePath}\n`);
    return 0;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = err.code === 'EEXIST' ? `${err.path} exists (use --force-overwrite to replace it)` : describeStartupError(e);
    io.stderr.write(`irma-server keygen: ${msg}\n`);
    return 1;
  }
}

function parseExpiry(text: string | undefined): number {
  if (text === undefined) return Math.floor(Date.now() / 1000) + YEAR_S;
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    throw new Error(`invalid expiry date "${text}" (use e.g. 2030-01-31 or 2030-01-31T12:00:00Z)`);
  }
  if (ms <= Date.now()) throw new Error(`expiry date ${text} is in the past`);
  return Math.floor(ms / 1000);
}

async function nextCounter(publicKeysDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(publicKeysDir);
  } catch {
    return 0;
  }
  const counters = names.map((n) => /^(\d+)\.xml$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]));
  return counters.length === 0 ? 0 : Math.max(...counters) + 1;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
