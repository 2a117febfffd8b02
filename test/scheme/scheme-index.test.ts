// Index signature checks against the reference schemes, on a temporary copy that each test tampers with.
import { createPrivateKey } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemeError } from '../../src/scheme/errors.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { formatSchemeIndex, parseSchemeIndex, signSchemeIndex, verifySchemeIndex } from '../../src/scheme/scheme-index.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scheme-sig-'));
  cpSync(REFERENCE_SCHEMES, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Flips one bit of the byte at `offset` (negative: from the end). */
function flipByte(rel: string, offset: number): void {
  const path = join(dir, rel);
  const b = readFileSync(path);
  const i = offset < 0 ? b.length + offset : offset;
  b[i] ^= 0x01;
  writeFileSync(path, b);
}

async function loadError(requireSignatures = true): Promise<SchemeError> {
  const err = await loadSchemes({ schemesPath: dir, requireSignatures }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SchemeError);
  return err as SchemeError;
}

describe('scheme index signature', () => {
  it('parses the reference index with the documented hash of RU key 2', () => {
    const index = parseSchemeIndex(readFileSync(join(REFERENCE_SCHEMES, 'irma-demo/index')), 'irma-demo', 'index');
    expect(index.get('RU/PublicKeys/2.xml')!.toString('hex')).toBe(
      '89d44b89802a57d433e3fda6a448dc6af56d1cd0ef73ab653a06997ca202c865',
    );
    expect(index.has('timestamp')).toBe(true);
    expect(index.has('MijnOverheid/PrivateKeys/2.xml')).toBe(false);
  });

  it('writes the reference index byte for byte and signs it so that pk.pem verifies', () => {
    for (const scheme of ['irma-demo', 'test', 'test2']) {
      const bytes = readFileSync(join(REFERENCE_SCHEMES, scheme, 'index'));
      const index = parseSchemeIndex(bytes, scheme, 'index');
      expect(formatSchemeIndex(scheme, index)).toBe(bytes.toString('utf8'));
      const sig = signSchemeIndex(bytes, createPrivateKey(readFileSync(join(REFERENCE_SCHEMES, scheme, 'sk.pem'))));
      expect(() => verifySchemeIndex(scheme, bytes, sig, readFileSync(join(REFERENCE_SCHEMES, scheme, 'pk.pem')))).not.toThrow();
      expect(() => verifySchemeIndex(scheme, Buffer.concat([bytes, Buffer.from('\n')]), sig, readFileSync(join(REFERENCE_SCHEMES, scheme, 'pk.pem')))).toThrow(SchemeError);
    }
  });

  it('rejects malformed index lines', () => {
    const bad = ['abc irma-demo/x', `${'0'.repeat(64)} other/x`, `${'0'.repeat(64)} irma-demo/../x`, `${'0'.repeat(64)} irma-demo/x\n${'1'.repeat(64)} irma-demo/x`];
    for (const text of bad) {
      expect(() => parseSchemeIndex(Buffer.from(text), 'irma-demo', 'index')).toThrow(SchemeError);
    }
  });

  it('rejects a changed byte in a credential type description, naming the file', async () => {
    const rel = 'irma-demo/RU/Issues/studentCard/description.xml';
    flipByte(rel, 200);
    const err = await loadError();
    expect(err.code).toBe('INVALID_SIGNATURE');
    expect(err.path).toBe(join(dir, rel));
    expect(err.message).toContain('studentCard');
  });

  it('rejects a changed byte in a public key, naming the file', async () => {
    const rel = 'irma-demo/RU/PublicKeys/2.xml';
    flipByte(rel, -40);
    const err = await loadError();
    expect(err.code).toBe('INVALID_SIGNATURE');
    expect(err.path).toBe(join(dir, rel));
  });

  it('rejects a changed scheme description, timestamp and logo', async () => {
    for (const rel of ['test2/description.xml', 'test/timestamp', 'irma-demo/RU/logo.png']) {
      rmSync(dir, { recursive: true, force: true });
      cpSync(REFERENCE_SCHEMES, dir, { recursive: true });
      flipByte(rel, 3);
      const err = await loadError();
      expect(err.code).toBe('INVALID_SIGNATURE');
      expect(err.path).toBe(join(dir, rel));
    }
  });

  it('rejects a public key that the index does not list', async () => {
    const key = readFileSync(join(dir, 'irma-demo/RU/PublicKeys/2.xml'), 'utf8').replace('<Counter>2<', '<Counter>3<');
    writeFileSync(join(dir, 'irma-demo/RU/PublicKeys/3.xml'), key);
    const err = await loadError();
    expect(err.code).toBe('INVALID_SIGNATURE');
    expect(err.path).toBe(join(dir, 'irma-demo/RU/PublicKeys/3.xml'));
    expect(err.message).toMatch(/not listed/);
  });

  it('rejects a bad index.sig or a changed index', async () => {
    flipByte('irma-demo/index.sig', 10);
    let err = await loadError();
    expect(err.code).toBe('INVALID_SIGNATURE');
    expect(err.path).toBe(join(dir, 'irma-demo/index.sig'));

    cpSync(join(REFERENCE_SCHEMES, 'irma-demo/index.sig'), join(dir, 'irma-demo/index.sig'));
    appendFileSync(join(dir, 'irma-demo/index'), '0'.repeat(64) + ' irma-demo/extra.xml\n');
    err = await loadError();
    expect(err.path).toBe(join(dir, 'irma-demo/index.sig'));
  });

  it('rejects a signature by another scheme key', async () => {
    cpSync(join(REFERENCE_SCHEMES, 'test/pk.pem'), join(dir, 'irma-demo/pk.pem'));
    const err = await loadError();
    expect(err.code).toBe('INVALID_SIGNATURE');
  });

  it('reports a missing pk.pem or index.sig as an IO error', async () => {
    unlinkSync(join(dir, 'test2/pk.pem'));
    const err = await loadError();
    expect(err.code).toBe('IO');
    expect(err.path).toBe(join(dir, 'test2/pk.pem'));
  });

  it('rejects an indexed file that is missing from disk', async () => {
    unlinkSync(join(dir, 'irma-demo/stemmen/logo.png'));
    const err = await loadError();
    expect(err.path).toBe(join(dir, 'irma-demo/stemmen/logo.png'));
  });

  it('loads unsigned or tampered schemes when signatures are not required', async () => {
    const rel = 'irma-demo/MijnOverheid/Issues/root/description.xml';
    writeFileSync(join(dir, rel), readFileSync(join(dir, rel), 'utf8').replace('<en>Demo Root</en>', '<en>Demo Rook</en>'));
    for (const s of ['irma-demo', 'test', 'test2']) {
      for (const f of ['index', 'index.sig', 'pk.pem']) unlinkSync(join(dir, s, f));
    }
    expect((await loadError()).code).toBe('IO');
    const reg = await loadSchemes({ schemesPath: dir, requireSignatures: false });
    expect(reg.credentialType('irma-demo.MijnOverheid.root')!.name.en).toBe('Demo Rook');
    expect(reg.publicKey('irma-demo.RU', 2)!.R.length).toBe(16);
  });
});
