// `irma-server wallet` (the holder) run in-process against our server on a loopback port, with the reference
// irma-demo scheme and its private keys: issuance, disclosure, signing, pairing, refusal, the
// wallet listing, the data-folder defaults and the errors a holder can run into.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { EXIT_CANCELLED, EXIT_DONE, EXIT_FAILED } from '../../src/cli/wallet.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions } from '../../src/server/options.js';
import { freePort } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const NAME = { firstnames: 'Alice Bo', firstname: 'Alice', familyname: 'Example' };

interface SessionPackage {
  token: string;
  sessionPtr: { u: string; irmaqr: string };
  frontendRequest: { authorization: string };
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let wallet: string;
let base: string;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'irma-cli-session-'));
  wallet = join(dir, 'wallet');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const options = { ...defaultOptions(false), port, listenAddr: '127.0.0.1', url: base, schemesPath: REFERENCE_SCHEMES, quiet: true, allowUnsignedCallbacks: true };
  server = await startServer(options, { schemes: await loadSchemes({ schemesPath: REFERENCE_SCHEMES }) });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(request: unknown): Promise<SessionPackage> {
  const res = await fetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
  expect(res.status).toBe(200);
  return (await res.json()) as SessionPackage;
}

async function result(token: string): Promise<Record<string, unknown> & { disclosed?: { id: string; rawvalue: string | null }[][] }> {
  return (await fetch(`${base}/session/${token}/result`)).json();
}

async function cli(args: string[], opts: { stdin?: string; env?: Record<string, string>; onStdout?: (text: string) => void } = {}): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await run(['wallet', ...args], { HOME: dir, ...opts.env }, {
    cwd: dir,
    stdin: opts.stdin === undefined ? undefined : Readable.from([opts.stdin]),
    stdout: { write: (s: string) => ((stdout += s), opts.onStdout?.(s)) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

const holder = (...args: string[]) => ['--schemes-path', REFERENCE_SCHEMES, '--wallet', wallet, ...args];
const issuance = (credential: string, attributes: Record<string, string>) => ({
  '@context': 'https://irma.app/ld/request/issuance/v2',
  credentials: [{ credential, attributes }],
});
const disclosure = (...ids: string[]) => ({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[ids]] });

describe('irma-server wallet', () => {
  it('completes an issuance from the whole session package and prints the credential', async () => {
    const pkg = await start(issuance(FULLNAME, NAME));
    const out = await cli(holder(JSON.stringify(pkg)));
    expect(out.stderr).toBe('');
    expect(out.code).toBe(EXIT_DONE);
    expect(out.stdout).toMatch(/^type: issuing\nstatus: DONE\nproofStatus: VALID\nissued irma-demo\.MijnOverheid\.fullName \(issued \d{4}-\d\d-\d\d, expires \d{4}-\d\d-\d\d, id [0-9a-f]{12}\)\n/);
    expect(out.stdout).toContain('  firstnames: Alice Bo\n  firstname: Alice\n  familyname: Example\n  prefix: (absent)\n');
    expect(await result(pkg.token)).toMatchObject({ status: 'DONE', type: 'issuing', proofStatus: 'VALID' });
  });

  it('lists the wallet', async () => {
    const out = await cli(holder('--list'));
    expect(out.code).toBe(EXIT_DONE);
    expect(out.stdout).toMatch(/^irma-demo\.MijnOverheid\.fullName \(issued .*\)\n {2}firstnames: Alice Bo\n/);
  });

  it('discloses from a bare session pointer read on standard input', async () => {
    const pkg = await start(disclosure(`${FULLNAME}.firstname`, `${FULLNAME}.prefix`));
    const out = await cli(holder('-'), { stdin: JSON.stringify(pkg.sessionPtr) });
    expect(out.code).toBe(EXIT_DONE);
    expect(out.stdout).toBe(
      `type: disclosing\nstatus: DONE\nproofStatus: VALID\ndisclosed ${FULLNAME}.firstname: Alice\ndisclosed ${FULLNAME}.prefix: (absent)\n`,
    );
    const r = await result(pkg.token);
    expect(r).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(r.disclosed![0].map((a) => [a.id, a.rawvalue])).toEqual([
      [`${FULLNAME}.firstname`, 'Alice'],
      [`${FULLNAME}.prefix`, null],
    ]);
  });

  it('signs a message', async () => {
    const pkg = await start({ '@context': 'https://irma.app/ld/request/signature/v2', message: 'I agree', disclose: [[[`${FULLNAME}.familyname`]]] });
    const out = await cli(holder(JSON.stringify(pkg)));
    expect(out.code).toBe(EXIT_DONE);
    expect(out.stdout).toContain(`type: signing\nstatus: DONE\nproofStatus: VALID\ndisclosed ${FULLNAME}.familyname: Example\nsigned message: I agree\n`);
    expect(await result(pkg.token)).toMatchObject({ type: 'signing', status: 'DONE', proofStatus: 'VALID' });
  });

  it('follows a chained session and prints both', async () => {
    const next = createHttpServer((req, res) => {
      req.resume().on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(issuance('irma-demo.MijnOverheid.singleton', { BSN: '999999990' })));
      });
    });
    await new Promise<void>((r) => next.listen(0, '127.0.0.1', r));
    try {
      const pkg = await start({
        nextSession: { url: `http://127.0.0.1:${(next.address() as AddressInfo).port}/next` },
        request: disclosure(`${FULLNAME}.familyname`),
      });
      const out = await cli(holder(JSON.stringify(pkg)));
      expect(out.code).toBe(EXIT_DONE);
      expect(out.stdout).toMatch(
        new RegExp(`^type: disclosing\nstatus: DONE\nproofStatus: VALID\ndisclosed ${FULLNAME}.familyname: Example\nnext session:\ntype: issuing\nstatus: DONE\nproofStatus: VALID\nissued irma-demo.MijnOverheid.singleton .*\n  BSN: 999999990\n$`),
      );
    } finally {
      await new Promise((r) => next.close(r));
    }
  });

  it('prints the pairing code the frontend asked for and waits for it to be confirmed', async () => {
    const pkg = await start(disclosure(`${FULLNAME}.firstname`));
    const frontend = (path: string, body?: unknown) =>
      fetch(`${pkg.sessionPtr.u}/frontend/${path}`, {
        method: 'POST',
        headers: { Authorization: pkg.frontendRequest.authorization, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const options = (await (await frontend('options', { '@context': 'https://irma.app/ld/request/frontendoptions/v1', pairingMethod: 'pin' })).json()) as {
      pairingCode: string;
    };
    let confirmed: Promise<Response> | undefined;
    const out = await cli(holder(JSON.stringify(pkg)), {
      onStdout: (s) => {
        if (s.startsWith('pairing code: ')) confirmed = frontend('pairingcompleted');
      },
    });
    expect((await confirmed!).status).toBe(204);
    expect(out.stdout).toMatch(new RegExp(`^pairing code: ${options.pairingCode} .*\ntype: disclosing\nstatus: DONE\nproofStatus: VALID\n`));
    expect(out.code).toBe(EXIT_DONE);
  });

  it('--refuse cancels the session and exits non-zero', async () => {
    const pkg = await start(disclosure(`${FULLNAME}.firstname`));
    const out = await cli(holder('--refuse', JSON.stringify(pkg)));
    expect(out.code).toBe(EXIT_CANCELLED);
    expect(out.stdout).toBe('type: disclosing\nstatus: CANCELLED\n');
    expect(await result(pkg.token)).toMatchObject({ status: 'CANCELLED' });
  });

  it('names the ClientError type when the wallet cannot answer, and cancels on the server', async () => {
    const pkg = await start(disclosure('irma-demo.RU.studentCard.studentID'));
    const out = await cli(holder(JSON.stringify(pkg)));
    expect(out.code).toBe(EXIT_FAILED);
    expect(out.stderr).toMatch(/^irma-server wallet: requiredAttributeMissing: /);
    expect(await result(pkg.token)).toMatchObject({ status: 'CANCELLED' });
  });

  it("names the server's error type for a pointer used twice", async () => {
    const pkg = await start(disclosure(`${FULLNAME}.firstname`));
    expect((await cli(holder(JSON.stringify(pkg)))).code).toBe(EXIT_DONE);
    const again = await cli(holder(JSON.stringify(pkg)));
    expect(again.code).toBe(EXIT_FAILED);
    expect(again.stderr).toMatch(/^irma-server wallet: serverResponse: .*\b(SESSION_UNKNOWN|UNEXPECTED_REQUEST)\b/);
  });

  it.each([
    ['not JSON', ['{nope'], /invalidRequest: session pointer is not JSON/],
    ['not a pointer', ['{"u":"x"}'], /invalidRequest: /],
    ['no pointer', [], /missing session pointer/],
    ['--list with a pointer', ['--list', '{}'], /--list takes no session pointer/],
  ])('refuses bad input with a typed one-line error: %s', async (_what, args, message) => {
    const out = await cli(holder(...args));
    expect(out.code).toBe(EXIT_FAILED);
    expect(out.stderr).toMatch(message);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('defaults from the data folder', () => {
  it('reads the schemes from --data-dir and keeps the wallet in <data dir>/wallet', async () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    symlinkSync(join(REFERENCE_SCHEMES, 'irma-demo'), join(dataDir, 'irma-demo'));
    const pkg = await start(issuance(FULLNAME, NAME));
    const out = await cli(['--data-dir', dataDir, JSON.stringify(pkg)]);
    expect(out.code).toBe(EXIT_DONE);
    const stored = JSON.parse(readFileSync(join(dataDir, 'wallet', 'credentials.json'), 'utf8'));
    expect(JSON.stringify(stored)).toContain(FULLNAME);
    // IRMASERVER_DATA_DIR, as the server reads it, leads to the same folder.
    const listed = await cli(['--list'], { env: { IRMASERVER_DATA_DIR: dataDir } });
    expect(listed.stdout).toContain('  firstname: Alice\n');
  });

  it('says to start the server when the data folder has no scheme yet', async () => {
    const out = await cli(['--list'], { env: { IRMASERVER_DATA_DIR: join(dir, 'empty') } });
    expect(out.code).toBe(EXIT_FAILED);
    expect(out.stderr).toMatch(/^irma-server wallet: cannot read the schemes in .*empty.*start the server once/);
  });
});
