// `irma-server sdjwtvc certgen`: a test CA and, per issuer, an SD-JWT VC issuer certificate and
// key in the server's directory layout, <out>/certs/<id>.pem (leaf, then CA) and
// <out>/privkeys/<id>.pem, plus <out>/ca.pem for holders to trust. An existing CA in <out> is
// reused, so issuers can be added later. For tests and demos: the Yivi app trusts only issuer
// certificates from its own trust list.
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeIssuerLeaf, makeTestCa, type ChainMember } from '../sdjwt/issuer-chain.js';
import { describeStartupError } from './startup-error.js';
import type { CliIo } from './run.js';

export interface CertgenArgs {
  issuers: string[];
  /** Host of the issuer URL (`https://<host>`, the SD-JWT VCs' `iss`). */
  host: string;
  out: string;
  days: number;
  forceOverwrite: boolean;
}

const ISSUER_ID = /^[^.\s/]+\.[^.\s/]+$/;
const HOST = /^[A-Za-z0-9.-]+(:[0-9]+)?$/;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function writePrivate(path: string, text: string, flag: string): Promise<void> {
  await writeFile(path, text, { flag, mode: 0o600 });
  await chmod(path, 0o600);
}

export async function certgenCommand(args: CertgenArgs, io: CliIo): Promise<number> {
  try {
    if (args.issuers.length === 0) throw new Error('name at least one issuer with --issuer <scheme>.<issuer>');
    for (const id of args.issuers) if (!ISSUER_ID.test(id)) throw new Error(`issuer ${id} is not of the form <scheme>.<issuer>`);
    if (!HOST.test(args.host)) throw new Error(`host ${args.host} is not a host name`);
    if (!Number.isSafeInteger(args.days) || args.days < 1) throw new Error('days must be a positive integer');
    const out = resolve(io.cwd, args.out);
    const certs = join(out, 'certs');
    const privkeys = join(out, 'privkeys');
    const caPath = join(out, 'ca.pem');
    const caKeyPath = join(out, 'ca-key.pem');
    const flag = args.forceOverwrite ? 'w' : 'wx';
    if (!args.forceOverwrite) {
      for (const id of args.issuers) {
        for (const path of [join(certs, `${id}.pem`), join(privkeys, `${id}.pem`)]) {
          if (await exists(path)) throw new Error(`${path} exists (use --force-overwrite to replace it)`);
        }
      }
    }

    await mkdir(certs, { recursive: true });
    await mkdir(privkeys, { recursive: true, mode: 0o700 });
    let ca: ChainMember;
    if ((await exists(caPath)) && (await exists(caKeyPath))) {
      ca = { certificate: await readFile(caPath, 'utf8'), privateKey: await readFile(caKeyPath, 'utf8') };
      io.stderr.write(`using the CA in ${caPath}\n`);
    } else {
      ca = makeTestCa(undefined, Math.max(args.days, 3650));
      await writeFile(caPath, ca.certificate, { flag });
      await writePrivate(caKeyPath, ca.privateKey, flag);
      io.stdout.write(`${caPath}\n`);
    }
    for (const id of args.issuers) {
      const leaf = makeIssuerLeaf(ca, { issuerId: id, host: args.host, days: args.days });
      await writeFile(join(certs, `${id}.pem`), leaf.certificate + ca.certificate, { flag });
      await writePrivate(join(privkeys, `${id}.pem`), leaf.privateKey, flag);
      io.stdout.write(`${join(certs, `${id}.pem`)}\n${join(privkeys, `${id}.pem`)}\n`);
    }
    io.stderr.write(
      [
        '',
        'Start the server with',
        `  --sdjwtvc-issuer-certificates-dir ${certs} --sdjwtvc-issuer-private-keys-dir ${privkeys}`,
        'and let the headless holder trust the CA:',
        `  irma-server session --sdjwtvc-trust ${caPath} ...`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (e) {
    io.stderr.write(`irma-server sdjwtvc certgen: ${describeStartupError(e)}\n`);
    return 1;
  }
}
