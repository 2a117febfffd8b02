// Schemes from the network, through the command line, against a local HTTP server: `scheme
// download` and `scheme update`, the server's periodic update (--schemes-update) picking up a newly
// published version, and the development default schemes: downloaded when reachable, and a quick,
// logged fallback to the demo scheme alone when not.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { provideDefaultSchemes } from '../../src/cli/default-schemes.js';
import { run } from '../../src/cli/run.js';
import { parsePrivateKeyXml, parsePublicKeyXml, type PrivateKey, type PublicKey } from '../../src/idemix/keys.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { writeScheme, type SchemeSpec } from '../../src/scheme/writer.js';
import { serveFolder, type FileServer } from '../support/file-server.js';
import { freePort } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let pk: PublicKey;
let sk: PrivateKey;
let signingKey: KeyObject;
let web: FileServer;
let dir: string;
let published: string;

beforeAll(() => {
  const keys = join(REFERENCE_SCHEMES, 'irma-demo/MijnOverheid');
  pk = parsePublicKeyXml(readFileSync(join(keys, 'PublicKeys/2.xml'), 'utf8'));
  sk = parsePrivateKeyXml(readFileSync(join(keys, 'PrivateKeys/2.xml'), 'utf8'));
  signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
});
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'irma-cli-download-'));
  published = join(dir, 'web');
  web = await serveFolder(published);
});
afterEach(async () => {
  await web.close();
  rmSync(dir, { recursive: true, force: true });
});

function spec(id: string, timestamp: number, types: string[]): SchemeSpec {
  return {
    id,
    url: `${web.base}/${id}`,
    timestamp,
    signingKey,
    issuers: [{ id: 'Shop', keys: [{ publicKey: pk, privateKey: sk }], credentialTypes: types.map((t) => ({ id: t, attributes: [{ id: 'a' }] })) }],
  };
}

async function cli(args: string[], io: { signal?: AbortSignal; onListening?: (url: string) => void } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { HOME: dir }, { cwd: dir, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, ...io });
  return { code, stdout, stderr };
}

describe('irma-server scheme download / update', () => {
  it('downloads by URL (either argument order), updates, and refuses a second download', async () => {
    await writeScheme(published, spec('sch', 1000, ['card']));
    await writeScheme(published, spec('other', 1000, ['card']));
    const conf = join(dir, 'conf');
    const r = await cli(['scheme', 'download', conf, `${web.base}/sch`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`downloaded scheme sch (timestamp 1000) into ${join(conf, 'sch')}\n`);
    expect((await cli(['scheme', 'download', `${web.base}/other/`, conf])).code).toBe(0);
    expect(readdirSync(conf).sort()).toEqual(['other', 'sch']);
    const again = await cli(['scheme', 'download', conf, `${web.base}/sch`]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/scheme sch is already installed/);

    await writeScheme(published, spec('sch', 2000, ['card', 'ticket']));
    const up = await cli(['scheme', 'update', conf]);
    expect(up.stdout).toBe('other: up to date (timestamp 1000)\nsch: updated to timestamp 2000\n');
    expect(up.code).toBe(0);
    expect([...(await loadSchemes({ schemesPath: conf })).credentialTypes.keys()].sort()).toEqual(['other.Shop.card', 'sch.Shop.card', 'sch.Shop.ticket']);
    expect((await cli(['scheme', 'verify', conf])).code).toBe(0);
  });

  it('the server checks for updates itself (--schemes-update) and uses the new version without a restart', async () => {
    await writeScheme(published, spec('sch', 1000, ['card']));
    const conf = join(dir, 'conf');
    expect((await cli(['scheme', 'download', conf, `${web.base}/sch`])).code).toBe(0);
    // Published before the server starts: its first check, shortly after startup, finds it.
    await writeScheme(published, spec('sch', 2000, ['card', 'ticket']));

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const stop = new AbortController();
    let listening = false;
    const finished = cli(['server', '--schemes-path', conf, '--port', String(port), '--listen-addr', '127.0.0.1', '--url', base, '--schemes-update', '1', '--crypto-workers', '0'], {
      signal: stop.signal,
      onListening: () => (listening = true),
    });
    const ticket = JSON.stringify({ '@context': 'https://irma.app/ld/request/issuance/v2', credentials: [{ credential: 'sch.Shop.ticket', keyCounter: 2, attributes: { a: 'x' } }] });
    let status = 0;
    try {
      const deadline = Date.now() + 30_000;
      while (status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        if (!listening) continue;
        status = (await fetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: ticket })).status;
      }
    } finally {
      stop.abort();
    }
    const r = await finished;
    expect(status).toBe(200);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/updating schemes every 1 minutes/);
    expect(r.stderr).toMatch(/scheme updated/);
    expect(readFileSync(join(conf, 'sch', 'timestamp'), 'utf8')).toBe('2000\n');
  }, 60_000);
});

describe('development default schemes', () => {
  const logger = () => {
    const lines: string[] = [];
    const log = (level: string) => (o: unknown, msg?: string) => lines.push(`${level} ${msg ?? String(o)} ${typeof o === 'object' ? JSON.stringify(o) : ''}`);
    return { lines, log: { info: log('info'), warn: log('warn'), debug: log('debug') } };
  };

  it('downloads the default schemes with their pinned keys when reachable, and only those missing', async () => {
    await writeScheme(published, spec('one', 1000, ['card']));
    await writeScheme(published, spec('two', 1000, ['card']));
    const pinned = readFileSync(join(published, 'one', 'pk.pem'), 'utf8');
    const defaults = [
      { url: `${web.base}/one`, publicKeyPem: pinned },
      { url: `${web.base}/two`, publicKeyPem: pinned },
    ];
    const data = join(dir, 'data');
    const { lines, log } = logger();
    expect(await provideDefaultSchemes(data, log, defaults)).toEqual(['one', 'two']);
    expect(lines.join('\n')).toMatch(/^info downloaded default schemes beside the generated demo scheme/m);
    expect(await provideDefaultSchemes(data, log, defaults)).toEqual([]);
    // A default scheme signed by another key than the pinned one is not installed.
    rmSync(join(data, 'two'), { recursive: true });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await provideDefaultSchemes(data, log, [defaults[0], { url: defaults[1].url, publicKeyPem: other }])).toEqual([]);
    expect(existsSync(join(data, 'two'))).toBe(false);
    expect(lines.join('\n')).toMatch(/^warn default scheme not installed .*signature does not verify/m);
  });

  it('offline, says so at once and leaves the demo scheme alone', async () => {
    const closed = await freePort();
    const { lines, log } = logger();
    const data = join(dir, 'data');
    expect(await provideDefaultSchemes(data, log, [{ url: `http://127.0.0.1:${closed}/irma-demo`, publicKeyPem: 'unused' }, { url: `http://127.0.0.1:${closed}/pbdf`, publicKeyPem: 'unused' }])).toEqual([]);
    // One failed attempt, not one per scheme (no timed assertion: a refused connection is immediate).
    expect(lines.filter((l) => l.startsWith('info downloading default scheme'))).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/^warn default schemes \(irma-demo, pbdf\) not downloaded, the network seems unavailable: using the generated demo scheme only .*ECONNREFUSED/m);
    expect(existsSync(data) ? readdirSync(data).filter((n) => !n.startsWith('.')) : []).toEqual([]);
  });
});
