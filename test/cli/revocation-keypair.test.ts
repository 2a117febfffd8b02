// `irma-server scheme issuer revocation-keypair`: a key pair without revocation material gets G,
// H and an ECDSA pair that sign and verify accumulators and support non-revocation proofs.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { checkKeyPair, parsePrivateKeyXml, parsePublicKeyXml } from '../../src/idemix/keys.js';
import { newAccumulator, openSignedAccumulator, signAccumulator } from '../../src/revocation/accumulator.js';
import { randomWitness, verifyWitness } from '../../src/revocation/witness.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

const dir = mkdtempSync(join(tmpdir(), 'irma-revkp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {}, { cwd: dir, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

describe('scheme issuer revocation-keypair', () => {
  it('adds working revocation material to MijnOverheid key 0 and refuses to do it twice', async () => {
    const src = join(REFERENCE_SCHEMES, 'irma-demo', 'MijnOverheid');
    copyFileSync(join(src, 'PublicKeys', '0.xml'), join(dir, 'pk.xml'));
    copyFileSync(join(src, 'PrivateKeys', '0.xml'), join(dir, 'sk.xml'));
    expect(parsePublicKeyXml(readFileSync(join(dir, 'pk.xml'), 'utf8')).G).toBeUndefined();

    const r = await cli(['scheme', 'issuer', 'revocation-keypair', 'sk.xml', 'pk.xml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const pk = parsePublicKeyXml(readFileSync(join(dir, 'pk.xml'), 'utf8'));
    const sk = parsePrivateKeyXml(readFileSync(join(dir, 'sk.xml'), 'utf8'));
    checkKeyPair(pk, sk);
    expect(pk.G).toBeDefined();
    expect(pk.H).toBeDefined();
    const { acc } = newAccumulator(sk, 1_800_000_000);
    const sacc = signAccumulator(acc, sk);
    expect(openSignedAccumulator(sacc, pk)).toEqual(acc);
    expect(verifyWitness(randomWitness(sk, sacc, acc), pk).index).toBe(0);

    const again = await cli(['scheme', 'issuer', 'revocation-keypair', 'sk.xml', 'pk.xml']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has revocation material/);
  });
});
