// Every malformed input gets a SchemeError naming the file, never an untyped crash. Edits are made on
// an unsigned copy of the reference schemes so that they reach the parsers.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemeError, type SchemeErrorCode } from '../../src/scheme/errors.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scheme-bad-'));
  cpSync(REFERENCE_SCHEMES, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function edit(rel: string, change: (text: string) => string): void {
  const path = join(dir, rel);
  const before = readFileSync(path, 'utf8');
  const after = change(before);
  expect(after).not.toBe(before);
  writeFileSync(path, after);
}

async function expectLoadError(code: SchemeErrorCode, rel: string, message?: RegExp, requireSignatures = false): Promise<void> {
  const err = await loadSchemes({ schemesPath: dir, requireSignatures }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SchemeError);
  const e = err as SchemeError;
  expect(e.code).toBe(code);
  expect(e.path).toBe(join(dir, rel));
  if (message) expect(e.message).toMatch(message);
}

const FULLNAME = 'irma-demo/MijnOverheid/Issues/fullName/description.xml';

describe('malformed scheme files', () => {
  it('the unsigned copy loads as is', async () => {
    const reg = await loadSchemes({ schemesPath: dir, requireSignatures: false });
    expect(reg.credentialTypes.size).toBe(12);
  });

  it('rejects XML that does not parse', async () => {
    edit(FULLNAME, (t) => t.replace('</Attributes>', '</Attributs>'));
    await expectLoadError('MALFORMED', FULLNAME, /does not parse/);
  });

  it('rejects an empty file and a wrong root element', async () => {
    writeFileSync(join(dir, FULLNAME), '');
    await expectLoadError('MALFORMED', FULLNAME);
    writeFileSync(join(dir, FULLNAME), '<Issuer version="4"></Issuer>');
    await expectLoadError('MALFORMED', FULLNAME, /IssueSpecification/);
  });

  it('rejects a DOCTYPE', async () => {
    edit(FULLNAME, (t) => '<!DOCTYPE x [<!ENTITY a "aaaa">]>\n' + t);
    await expectLoadError('MALFORMED', FULLNAME, /DOCTYPE/);
  });

  it('rejects missing or inconsistent identifiers', async () => {
    edit(FULLNAME, (t) => t.replace('<CredentialID>fullName</CredentialID>', ''));
    await expectLoadError('MALFORMED', FULLNAME, /CredentialID/);
    cpSync(join(REFERENCE_SCHEMES, FULLNAME), join(dir, FULLNAME));
    edit(FULLNAME, (t) => t.replace('<CredentialID>fullName<', '<CredentialID>fullname<'));
    await expectLoadError('MALFORMED', FULLNAME, /folder/);
    cpSync(join(REFERENCE_SCHEMES, FULLNAME), join(dir, FULLNAME));
    edit(FULLNAME, (t) => t.replace('<IssuerID>MijnOverheid<', '<IssuerID>RU<'));
    await expectLoadError('MALFORMED', FULLNAME, /IssuerID/);
    edit('irma-demo/RU/description.xml', (t) => t.replace('<ID>RU</ID>', '<ID>R.U</ID>'));
    await expectLoadError('MALFORMED', 'irma-demo/RU/description.xml');
    edit('test2/description.xml', (t) => t.replace('<Id>test2</Id>', '<Id>test3</Id>'));
    await expectLoadError('MALFORMED', 'test2/description.xml', /Id/);
  });

  it('rejects an old scheme description version', async () => {
    edit('test2/description.xml', (t) => t.replace('version="7"', 'version="6"'));
    await expectLoadError('MALFORMED', 'test2/description.xml', /version/);
  });

  it('rejects duplicate elements, attribute ids and a type without attributes', async () => {
    edit(FULLNAME, (t) => t.replace('<IssuerID>MijnOverheid</IssuerID>', '<IssuerID>MijnOverheid</IssuerID><IssuerID>MijnOverheid</IssuerID>'));
    await expectLoadError('MALFORMED', FULLNAME, /duplicate <IssuerID>/);
    cpSync(join(REFERENCE_SCHEMES, FULLNAME), join(dir, FULLNAME));
    edit(FULLNAME, (t) => t.replace('<Attribute id="firstname">', '<Attribute id="firstnames">'));
    await expectLoadError('MALFORMED', FULLNAME, /duplicate attribute/);
    cpSync(join(REFERENCE_SCHEMES, FULLNAME), join(dir, FULLNAME));
    edit(FULLNAME, (t) => t.replace(/<Attributes>[\s\S]*<\/Attributes>/, '<Attributes></Attributes>'));
    await expectLoadError('MALFORMED', FULLNAME, /no attributes/);
  });

  it('rejects inconsistent revocation and flag values', async () => {
    const root = 'irma-demo/MijnOverheid/Issues/root/description.xml';
    edit(root, (t) => t.replace(/<RevocationServers>[\s\S]*<\/RevocationServers>/, ''));
    await expectLoadError('MALFORMED', root, /RevocationServers/);
    cpSync(join(REFERENCE_SCHEMES, root), join(dir, root));
    edit(root, (t) => t.replace('<Attribute revocation="true"/>', '<Attribute id="x" revocation="true"/>'));
    await expectLoadError('MALFORMED', root, /revocation attribute/);
    cpSync(join(REFERENCE_SCHEMES, root), join(dir, root));
    edit(root, (t) => t.replace('<Attribute revocation="true"/>', ''));
    await expectLoadError('MALFORMED', root, /RevocationServers configured/);
    cpSync(join(REFERENCE_SCHEMES, root), join(dir, root));
    edit(root, (t) => t.replace('<ShouldBeSingleton>true<', '<ShouldBeSingleton>yes<'));
    await expectLoadError('MALFORMED', root, /ShouldBeSingleton/);
  });

  it('rejects a public key whose Bases num does not match, or that is not XML', async () => {
    const key = 'irma-demo/RU/PublicKeys/1.xml';
    edit(key, (t) => t.replace('num="16"', 'num="15"'));
    await expectLoadError('INVALID_KEY', key, /num/);
    writeFileSync(join(dir, key), 'not xml at all');
    await expectLoadError('INVALID_KEY', key);
  });

  it('rejects a public key whose Counter differs from its file name', async () => {
    renameSync(join(dir, 'irma-demo/RU/PublicKeys/1.xml'), join(dir, 'irma-demo/RU/PublicKeys/7.xml'));
    await expectLoadError('MALFORMED', 'irma-demo/RU/PublicKeys/7.xml', /Counter/);
  });

  it('rejects key files without a counter name', async () => {
    renameSync(join(dir, 'irma-demo/RU/PublicKeys/1.xml'), join(dir, 'irma-demo/RU/PublicKeys/latest.xml'));
    await expectLoadError('MALFORMED', 'irma-demo/RU/PublicKeys/latest.xml');
  });

  it('rejects a private key that does not belong to the public key of its counter', async () => {
    const sk = 'irma-demo/MijnOverheid/PrivateKeys/0.xml';
    cpSync(join(REFERENCE_SCHEMES, 'irma-demo/stemmen/PrivateKeys/0.xml'), join(dir, sk));
    await expectLoadError('INVALID_KEY', sk);
  });

  it('rejects a private key whose Counter differs from its file name', async () => {
    const sk = 'irma-demo/MijnOverheid/PrivateKeys/2.xml';
    cpSync(join(REFERENCE_SCHEMES, 'irma-demo/MijnOverheid/PrivateKeys/1.xml'), join(dir, sk));
    await expectLoadError('MALFORMED', sk, /Counter/);
  });

  it('rejects a private key without a public key', async () => {
    mkdirSync(join(dir, 'irma-demo/RU/PrivateKeys'));
    const sk = 'irma-demo/RU/PrivateKeys/5.xml';
    writeFileSync(
      join(dir, sk),
      readFileSync(join(REFERENCE_SCHEMES, 'irma-demo/stemmen/PrivateKeys/0.xml'), 'utf8').replace('<Counter>0<', '<Counter>5<'),
    );
    await expectLoadError('MISSING_PUBLIC_KEY', sk);
  });

  it('rejects a latest key with too few bases for a credential type', async () => {
    // RU key 2 has 16 bases; studentCard then needs 15 attributes + 2.
    edit('irma-demo/RU/Issues/studentCard/description.xml', (t) =>
      t.replace('<Attribute id="level"', Array.from({ length: 11 }, (_, i) => `<Attribute id="x${i}"/>`).join('') + '<Attribute id="level"'),
    );
    await expectLoadError('INVALID_KEY', 'irma-demo/RU/PublicKeys/2.xml', /bases/);
  });

  it('rejects a keyshare scheme without kss-0.pem', async () => {
    rmSync(join(dir, 'test2/kss-0.pem'));
    await expectLoadError('MALFORMED', 'test2/kss-0.pem');
  });

  it('rejects a keyshare key that is not an RSA public key', async () => {
    cpSync(join(REFERENCE_SCHEMES, 'test2/pk.pem'), join(dir, 'test2/kss-0.pem'));
    await expectLoadError('INVALID_KEY', 'test2/kss-0.pem', /RSA/);
    writeFileSync(join(dir, 'test2/kss-0.pem'), 'garbage');
    await expectLoadError('INVALID_KEY', 'test2/kss-0.pem');
  });

  it('rejects a missing schemes folder', async () => {
    rmSync(dir, { recursive: true });
    const err = await loadSchemes({ schemesPath: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemeError);
    expect((err as SchemeError).code).toBe('IO');
  });
});
