// The SD-JWT VC demo path from the command line: `irma-server sdjwtvc certgen` makes the issuer
// directories, `irma-server server` loads them (or refuses a bad file by name), and
// `irma-server session --sdjwtvc-trust` receives the SD-JWT VCs.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '../../src/cli/run.js';
import { loadSdJwtIssuers } from '../../src/sdjwt/issuer-keys.js';
import { freePort } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'irma-cli-sdjwtvc-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[], io: Partial<CliIo> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { HOME: dir }, {
    cwd: dir,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    ...io,
  });
  return { code, stdout, stderr };
}

describe('irma-server sdjwtvc certgen', () => {
  it('writes a CA, issuer chains and keys the server loads without a warning; reuses the CA; refuses to overwrite', async () => {
    const r = await cli(['sdjwtvc', 'certgen', '--issuer', 'irma-demo.MijnOverheid', '--host', 'issuer.example', '--out', 'out']);
    expect(r.code).toBe(0);
    const out = join(dir, 'out');
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      join(out, 'ca.pem'),
      join(out, 'certs', 'irma-demo.MijnOverheid.pem'),
      join(out, 'privkeys', 'irma-demo.MijnOverheid.pem'),
    ]);
    expect(statSync(join(out, 'privkeys', 'irma-demo.MijnOverheid.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'privkeys', 'irma-demo.MijnOverheid.pem'), 'utf8')).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);

    const again = await cli(['sdjwtvc', 'certgen', '--issuer', 'irma-demo.MijnOverheid', '--out', 'out']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/irma-demo\.MijnOverheid\.pem exists \(use --force-overwrite/);
    const more = await cli(['sdjwtvc', 'certgen', '--issuer', 'irma-demo.stemmen', '--issuer', 'test.test', '--host', 'issuer.example', '--out', 'out']);
    expect(more.code).toBe(0);
    expect(more.stderr).toContain(`using the CA in ${join(out, 'ca.pem')}`);

    const loaded = await loadSdJwtIssuers({ issuerCertificatesDir: join(out, 'certs'), issuerPrivateKeysDir: join(out, 'privkeys') });
    expect(loaded.warnings).toEqual([]);
    expect([...loaded.issuers.keys()]).toEqual(['irma-demo.MijnOverheid', 'irma-demo.stemmen', 'test.test']);
    expect([...loaded.issuers.values()].every((i) => i.iss === 'https://issuer.example' && i.x5c.length === 2)).toBe(true);
    expect((await cli(['sdjwtvc', 'certgen', '--issuer', 'nodots'])).stderr).toMatch(/not of the form <scheme>\.<issuer>/);
  });

  it('the server issues with them and the headless holder stores the SD-JWT VCs', async () => {
    const out = join(dir, 'demo');
    expect((await cli(['sdjwtvc', 'certgen', '--issuer', 'irma-demo.MijnOverheid', '--out', out])).code).toBe(0);
    const port = await freePort();
    const stop = new AbortController();
    let url = '';
    const flags = ['-s', REFERENCE_SCHEMES, '--port', String(port), '--listen-addr', '127.0.0.1', '--url', 'http://127.0.0.1:port'];
    const server = cli(['server', ...flags, '--sdjwtvc-issuer-certificates-dir', join(out, 'certs'), '--sdjwtvc-issuer-private-keys-dir', join(out, 'privkeys')], {
      signal: stop.signal,
      onListening: (u) => (url = u),
    });
    try {
      const deadline = Date.now() + 30_000;
      while (url === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(url).not.toBe('');
      const res = await fetch(`http://127.0.0.1:${port}/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          '@context': 'https://irma.app/ld/request/issuance/v2',
          credentials: [{ credential: 'irma-demo.MijnOverheid.singleton', attributes: { BSN: '999999990' }, sdJwtBatchSize: 3 }],
        }),
      });
      expect(res.status).toBe(200);
      const holder = await cli(['wallet', '--wallet', join(dir, 'wallet'), '-s', REFERENCE_SCHEMES, '--sdjwtvc-trust', join(out, 'ca.pem'), await res.text()]);
      expect(holder.stderr).toBe('');
      expect(holder.code).toBe(0);
      expect(holder.stdout).toContain('SD-JWT VCs stored: 3');
      expect(JSON.parse(readFileSync(join(dir, 'wallet', 'sdjwtvcs.json'), 'utf8')).sdjwtvcs).toHaveLength(3);
      const list = await cli(['wallet', '--list', '--wallet', join(dir, 'wallet'), '-s', REFERENCE_SCHEMES]);
      expect(list.stdout).toContain('SD-JWT VC irma-demo.MijnOverheid.singleton: 3 instance(s)');
    } finally {
      stop.abort();
    }
    const r = await server;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('SD-JWT VC issuance enabled');
  });

  it('a bad issuer key file stops the server, naming the file', async () => {
    const out = join(dir, 'bad');
    expect((await cli(['sdjwtvc', 'certgen', '--issuer', 'irma-demo.MijnOverheid', '--out', out])).code).toBe(0);
    const keyFile = join(out, 'privkeys', 'irma-demo.MijnOverheid.pem');
    writeFileSync(keyFile, '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n');
    const r = await cli(['server', '-s', REFERENCE_SCHEMES, '--port', String(await freePort()), '--sdjwtvc-issuer-private-keys-dir', join(out, 'privkeys'), '--sdjwtvc-issuer-certificates-dir', join(out, 'certs')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`sdjwtvc: ${keyFile}: not a PEM private key`);
    const check = await cli(['check', '-s', REFERENCE_SCHEMES, '--sdjwtvc-issuer-private-keys-dir', join(out, 'privkeys'), '--sdjwtvc-issuer-certificates-dir', join(out, 'certs')]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`sdjwtvc: FAILED: ${keyFile}: not a PEM private key`);
    const half = await cli(['server', '-s', REFERENCE_SCHEMES, '--sdjwtvc-issuer-private-keys-dir', join(out, 'privkeys')]);
    expect(half.code).toBe(1);
    expect(half.stderr).toContain('sdjwtvc issuance was enabled but no sdjwtvc certificates directory was provided');
  });
});
