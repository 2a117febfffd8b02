// `irma-server scheme issuer revocation-keypair <privatekey> <publickey>`: adds revocation
// material to an existing issuer key pair, as the reference's `irma issuer revocation-keypair`:
// G and H (random quadratic residues mod n) to the public key, and a fresh ECDSA P-256 pair
// (private key to the private key file, public key to the public key file).
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { gcd, randomBelow } from '../idemix/bigint.js';
import { checkKeyPair, parsePrivateKeyXml, parsePublicKeyXml, privateKeyToXml, publicKeyToXml, type PrivateKey, type PublicKey } from '../idemix/keys.js';
import type { CliIo } from './run.js';

export interface RevocationKeypairArgs {
  privateKey: string;
  publicKey: string;
  forceOverwrite: boolean;
}

function randomQuadraticResidue(n: bigint): bigint {
  for (;;) {
    const r = randomBelow(n);
    if (r > 1n && gcd(r, n) === 1n) return (r * r) % n;
  }
}

/** The key pair with revocation material added (pure apart from randomness). */
export function addRevocationMaterial(pk: PublicKey, sk: PrivateKey): { pk: PublicKey; sk: PrivateKey } {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaPrivate = ec.privateKey.export({ type: 'sec1', format: 'der' }).toString('base64');
  const ecdsaPublic = ec.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    pk: { ...pk, G: randomQuadraticResidue(pk.n), H: randomQuadraticResidue(pk.n), ecdsa: ecdsaPublic },
    sk: { ...sk, ecdsa: ecdsaPrivate },
  };
}

export async function revocationKeypairCommand(args: RevocationKeypairArgs, io: Pick<CliIo, 'cwd' | 'stdout' | 'stderr'>): Promise<number> {
  try {
    const skPath = resolve(io.cwd, args.privateKey);
    const pkPath = resolve(io.cwd, args.publicKey);
    const sk = parsePrivateKeyXml(await readFile(skPath, 'utf8'));
    const pk = parsePublicKeyXml(await readFile(pkPath, 'utf8'));
    checkKeyPair(pk, sk);
    const has = pk.G !== undefined || pk.H !== undefined || pk.ecdsa !== undefined || sk.ecdsa !== undefined;
    if (has && !args.forceOverwrite) throw new Error('the key pair already has revocation material (use --force-overwrite to replace it)');
    const out = addRevocationMaterial(pk, sk);
    await writeFile(skPath, privateKeyToXml(out.sk), { mode: 0o600 });
    await writeFile(pkPath, publicKeyToXml(out.pk));
    io.stdout.write(`${pkPath}\n${skPath}\n`);
    return 0;
  } catch (e) {
    io.stderr.write(`irma-server scheme issuer revocation-keypair: ${(e as Error).message}\n`);
    return 1;
  }
}

/** Adds the subcommand to an `issuer` command (the hook for `irma-server scheme issuer`). */
export function addRevocationKeypairCommand(issuer: Command, io: CliIo, setExitCode: (code: number) => void): void {
  issuer
    .command('revocation-keypair')
    .description('add revocation key material (G, H and an ECDSA key pair) to an existing issuer key pair')
    .argument('<privatekey>', 'issuer private key file (XML)')
    .argument('<publickey>', 'issuer public key file (XML) of the same counter')
    .option('-f, --force-overwrite', 'replace existing revocation material')
    .action(async (privateKey: string, publicKey: string, opts: Record<string, unknown>) => {
      setExitCode(await revocationKeypairCommand({ privateKey, publicKey, forceOverwrite: opts.forceOverwrite === true }, io));
    });
}
