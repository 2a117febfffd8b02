// `irma-server scheme keygen | sign | verify | issuer keygen`: the reference's scheme tooling. Signing
// a copy of a reference scheme with its own key reproduces the reference's index byte for byte, and
// a scheme made from scratch with these commands loads in the project's own (verifying) loader.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { schemeDescriptionXml } from '../../src/scheme/writer.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'irma-cli-scheme-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { HOME: dir }, { cwd: dir, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

describe('irma-server scheme verify', () => {
  it('accepts every reference scheme, one by one and as an irma_configuration', async () => {
    for (const id of ['irma-demo', 'test', 'test2', 'test-requestors']) {
      const r = await cli(['scheme', 'verify', join(REFERENCE_SCHEMES, id)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${id}: `);
    }
    const all = await cli(['scheme', 'verify', REFERENCE_SCHEMES]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/irma-demo: 3 issuers, 5 credential types\n[\s\S]*Verification was successful\.\n$/);
  });

  it('refuses a scheme with a changed file, and a folder without schemes', async () => {
    cpSync(join(REFERENCE_SCHEMES, 'irma-demo'), join(dir, 'irma-demo'), { recursive: true });
    const file = join(dir, 'irma-demo', 'MijnOverheid', 'description.xml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('MijnOverheid', 'MijnOverheid '));
    const r = await cli(['scheme', 'verify', join(dir, 'irma-demo')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^irma-server scheme verify: .*does not match its hash/);
    mkdirSync(join(dir, 'empty'));
    expect((await cli(['scheme', 'verify', join(dir, 'empty')])).stderr).toMatch(/holds no scheme/);
  });
});

describe('irma-server scheme sign', () => {
  it('reproduces the reference index and pk.pem when signing a reference scheme with its own key', async () => {
    const copy = join(dir, 'irma-demo');
    cpSync(join(REFERENCE_SCHEMES, 'irma-demo'), copy, { recursive: true });
    const r = await cli(['scheme', 'sign', join(copy, 'sk.pem'), copy]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const listed = readFileSync(join(REFERENCE_SCHEMES, 'irma-demo', 'index'), 'utf8').trim().split('\n').length;
    expect(r.stdout).toMatch(new RegExp(`^signed ${listed} files of scheme irma-demo \\(timestamp \\d+\\)\n`));
    // A new timestamp: the index differs from the reference's only in the timestamp's hash.
    const ours = readFileSync(join(copy, 'index'), 'utf8').split('\n').filter((l) => !l.endsWith(' irma-demo/timestamp'));
    const theirs = readFileSync(join(REFERENCE_SCHEMES, 'irma-demo', 'index'), 'utf8').split('\n').filter((l) => !l.endsWith(' irma-demo/timestamp'));
    expect(ours).toEqual(theirs);
    expect(readFileSync(join(copy, 'pk.pem'), 'utf8')).toBe(readFileSync(join(REFERENCE_SCHEMES, 'irma-demo', 'pk.pem'), 'utf8'));
    expect(Number(readFileSync(join(copy, 'timestamp'), 'utf8'))).toBeGreaterThan(Number(readFileSync(join(REFERENCE_SCHEMES, 'irma-demo', 'timestamp'), 'utf8')));
    const loaded = await loadSchemes({ schemesPath: dir });
    expect([...loaded.credentialTypes.keys()]).toContain('irma-demo.MijnOverheid.fullName');
  });

  it('makes a new scheme from scratch that the loader accepts: scheme keygen, issuer keygen, descriptions, sign', async () => {
    const scheme = join(dir, 'conf', 'mine');
    const issuer = join(scheme, 'Shop');
    mkdirSync(join(issuer, 'Issues', 'member'), { recursive: true });

    const keys = await cli(['scheme', 'keygen', '-s', join(dir, 'sk.pem'), '-p', join(dir, 'pk.pem')]);
    expect(keys.code).toBe(0);
    expect(readFileSync(join(dir, 'sk.pem'), 'utf8')).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(statSync(join(dir, 'sk.pem')).mode & 0o777).toBe(0o600);
    // Never overwrites a signing key.
    const again = await cli(['scheme', 'keygen', '-s', join(dir, 'sk.pem'), '-p', join(dir, 'other.pem')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists, not overwriting/);
    expect(existsSync(join(dir, 'other.pem'))).toBe(false);

    const ik = await cli(['scheme', 'issuer', 'keygen', '--bits', '1024', '--attributes', '4', '--out', issuer]);
    expect(ik.stderr).toContain('generating a 1024-bit key pair');
    expect(ik.code).toBe(0);
    writeFileSync(join(scheme, 'description.xml'), schemeDescriptionXml({ id: 'mine', url: 'https://example.org/mine', issuers: [] }));
    writeFileSync(
      join(issuer, 'description.xml'),
      '<Issuer version="4">\n\t<ID>Shop</ID>\n\t<SchemeManager>mine</SchemeManager>\n\t<Name><en>Shop</en><nl>Winkel</nl></Name>\n' +
        '\t<ShortName><en>Shop</en><nl>Winkel</nl></ShortName>\n\t<ContactAddress>https://example.org</ContactAddress>\n' +
        '\t<ContactEMail>shop@example.org</ContactEMail>\n</Issuer>\n',
    );
    writeFileSync(
      join(issuer, 'Issues', 'member', 'description.xml'),
      '<IssueSpecification version="4">\n\t<SchemeManager>mine</SchemeManager>\n\t<IssuerID>Shop</IssuerID>\n\t<CredentialID>member</CredentialID>\n' +
        '\t<Name><en>Member</en><nl>Lid</nl></Name>\n\t<ShortName><en>Member</en><nl>Lid</nl></ShortName>\n' +
        '\t<Description><en>Member</en><nl>Lid</nl></Description>\n\t<Attributes>\n' +
        '\t\t<Attribute id="number"><Name><en>Number</en><nl>Nummer</nl></Name><Description><en>n</en><nl>n</nl></Description></Attribute>\n' +
        '\t</Attributes>\n</IssueSpecification>\n',
    );

    const signed = await cli(['scheme', 'sign', join(dir, 'sk.pem'), scheme]);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    const index = readFileSync(join(scheme, 'index'), 'utf8');
    expect(index).toMatch(/^[0-9a-f]{64} mine\/Shop\/PublicKeys\/0\.xml$/m);
    expect(index).not.toContain('PrivateKeys');
    expect(readFileSync(join(scheme, 'pk.pem'), 'utf8')).toBe(readFileSync(join(dir, 'pk.pem'), 'utf8'));

    const loaded = await loadSchemes({ schemesPath: join(dir, 'conf') });
    expect(loaded.credentialType('mine.Shop.member')?.attributes.map((a) => a.shortId)).toEqual(['number']);
    expect(loaded.latestPrivateKey('mine.Shop')?.counter).toBe(0);
    expect((await cli(['scheme', 'verify', join(dir, 'conf')])).code).toBe(0);

    // A file changed after signing is caught by the loader and by verify.
    writeFileSync(join(issuer, 'Issues', 'member', 'description.xml'), readFileSync(join(issuer, 'Issues', 'member', 'description.xml'), 'utf8').replace('Lid', 'Leden'));
    await expect(loadSchemes({ schemesPath: join(dir, 'conf') })).rejects.toThrow(/does not match its hash/);
    expect((await cli(['scheme', 'verify', scheme])).code).toBe(1);
  }, 120_000);

  it('refuses a key that is not P-256 and a folder that is not a scheme', async () => {
    writeFileSync(join(dir, 'bad.pem'), '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n');
    mkdirSync(join(dir, 's'));
    expect((await cli(['scheme', 'sign', join(dir, 'bad.pem'), join(dir, 's')])).stderr).toMatch(/scheme private key does not parse/);
    await cli(['scheme', 'keygen', '-s', join(dir, 'sk.pem'), '-p', join(dir, 'pk.pem')]);
    expect((await cli(['scheme', 'sign', join(dir, 'sk.pem'), join(dir, 's')])).stderr).toMatch(/not a scheme folder/);
  });
});

describe('irma-server keygen', () => {
  it('stays an alias of scheme issuer keygen', async () => {
    const r = await cli(['keygen', '--help']);
    const s = await cli(['scheme', 'issuer', 'keygen', '--help']);
    expect(r.code).toBe(0);
    expect(s.stdout.replace(/^Usage: .*\n/, '')).toBe(r.stdout.replace(/^Usage: .*\n/, ''));
  });
});
