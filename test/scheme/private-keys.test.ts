// The separate private-key folder (`--privkeys`): <scheme>.<issuer>.<counter>.xml and <scheme>.<issuer>.xml.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemeError } from '../../src/scheme/errors.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let dir: string;
let schemes: string;
let privkeys: string;
const referenceKey = (issuer: string, counter: number) =>
  readFileSync(join(REFERENCE_SCHEMES, 'irma-demo', issuer, 'PrivateKeys', `${counter}.xml`));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scheme-privkeys-'));
  schemes = join(dir, 'irma_configuration');
  privkeys = join(dir, 'privkeys');
  cpSync(REFERENCE_SCHEMES, schemes, { recursive: true });
  // Private keys are outside the signed index, so moving them keeps the schemes valid.
  rmSync(join(schemes, 'irma-demo/MijnOverheid/PrivateKeys'), { recursive: true });
  mkdirSync(privkeys);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function loadError(): Promise<SchemeError> {
  const err = await loadSchemes({ schemesPath: schemes, privateKeysPath: privkeys }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SchemeError);
  return err as SchemeError;
}

describe('private key folder', () => {
  it('finds keys named with and without counter', async () => {
    writeFileSync(join(privkeys, 'irma-demo.MijnOverheid.1.xml'), referenceKey('MijnOverheid', 1));
    writeFileSync(join(privkeys, 'irma-demo.MijnOverheid.xml'), referenceKey('MijnOverheid', 2));
    writeFileSync(join(privkeys, 'README.txt'), 'not a key');
    const reg = await loadSchemes({ schemesPath: schemes, privateKeysPath: privkeys });
    expect(reg.privateKey('irma-demo.MijnOverheid', 0)).toBeUndefined();
    expect(reg.privateKey('irma-demo.MijnOverheid', 1)!.n).toBe(reg.publicKey('irma-demo.MijnOverheid', 1)!.n);
    expect(reg.latestPrivateKey('irma-demo.MijnOverheid')!.counter).toBe(2);
    expect(reg.latestPrivateKey('irma-demo.stemmen')!.counter).toBe(0);
  });

  it('without the folder the moved keys are gone', async () => {
    const reg = await loadSchemes({ schemesPath: schemes });
    expect(reg.latestPrivateKey('irma-demo.MijnOverheid')).toBeUndefined();
  });

  it('rejects a file whose counter differs from its name', async () => {
    writeFileSync(join(privkeys, 'irma-demo.MijnOverheid.2.xml'), referenceKey('MijnOverheid', 1));
    const err = await loadError();
    expect(err.code).toBe('MALFORMED');
    expect(err.path).toBe(join(privkeys, 'irma-demo.MijnOverheid.2.xml'));
  });

  it('rejects a key that is not the factorisation of the public key', async () => {
    writeFileSync(join(privkeys, 'irma-demo.RU.xml'), referenceKey('stemmen', 0)); // counter 0, RU key 0 exists
    const err = await loadError();
    expect(err.code).toBe('INVALID_KEY');
    expect(err.path).toBe(join(privkeys, 'irma-demo.RU.xml'));
  });

  it('rejects a key of an unknown issuer or a missing public key', async () => {
    writeFileSync(join(privkeys, 'irma-demo.Nobody.xml'), referenceKey('MijnOverheid', 1));
    let err = await loadError();
    expect(err.code).toBe('UNKNOWN_IDENTIFIER');
    rmSync(join(privkeys, 'irma-demo.Nobody.xml'));
    writeFileSync(join(privkeys, 'test2.test.xml'), referenceKey('MijnOverheid', 2)); // test2.test has only key 0
    err = await loadError();
    expect(err.code).toBe('MISSING_PUBLIC_KEY');
    expect(err.path).toBe(join(privkeys, 'test2.test.xml'));
  });

  it('reports a missing folder as IO', async () => {
    rmSync(privkeys, { recursive: true });
    expect((await loadError()).code).toBe('IO');
  });
});
