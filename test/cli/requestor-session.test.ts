// `irma-server session`, the requestor in the terminal, run in-process against our server (and
// against a temporary server of its own): it prints a QR code and the session pointer, which this
// test reads back from the output and completes with the headless holder, then it prints the
// result, which the test checks.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/index.js';
import { EXIT_CANCELLED, EXIT_DONE, EXIT_FAILED } from '../../src/cli/requestor-session.js';
import { run } from '../../src/cli/run.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions } from '../../src/server/options.js';
import { freePort } from '../support/redis.js';
import { REFERENCE_JWTKEYS, REFERENCE_SCHEMES } from '../support/reference.js';

const HMAC_KEY = Buffer.from('an hmac key of thirty-two bytes!').toString('base64');

let dir: string;
let schemes: SchemeRegistry;
let open: RunningServer;
let openBase: string;
let authed: RunningServer;
let authedBase: string;

async function serve(over: Record<string, unknown>): Promise<[RunningServer, string]> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const options = { ...defaultOptions(false), port, listenAddr: '127.0.0.1', url: base, schemesPath: REFERENCE_SCHEMES, quiet: true, cryptoWorkers: 0, ...over };
  return [await startServer(options, { schemes }), base];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'irma-cli-requestor-'));
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  [open, openBase] = await serve({ jwtPrivateKey: readFileSync(join(REFERENCE_JWTKEYS, 'sk.pem'), 'utf8') });
  [authed, authedBase] = await serve({
    noAuth: false,
    requestors: {
      tokenRequestor: { authMethod: 'token', key: 'secret-token-1234' },
      hmacRequestor: { authMethod: 'hmac', key: HMAC_KEY },
      requestor1: { authMethod: 'publickey', key: readFileSync(join(REFERENCE_JWTKEYS, 'requestor1.pem'), 'utf8') },
    },
  });
});
afterAll(async () => {
  await open?.close();
  await authed?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** What the holder made of the session, when the test played the holder. */
  holder?: { status: string; proofStatus?: string };
}

/**
 * Runs the command; when it prints its session pointer, the holder (a wallet in `dir`) reads it
 * from the output and completes the session, or refuses it.
 */
async function requestor(args: string[], holder: 'complete' | 'refuse' | 'none' = 'complete'): Promise<Run> {
  let stdout = '';
  let stderr = '';
  let holding: Promise<Run['holder']> | undefined;
  const client = new IrmaClient({ storageDir: join(dir, 'wallet'), schemes });
  const code = await run(['session', ...args], { HOME: dir }, {
    cwd: dir,
    stdout: {
      write: (s: string) => {
        stdout += s;
        const m = /^session pointer: (.*)$/m.exec(stdout);
        if (m && !holding && holder !== 'none') {
          holding = client.runSession(m[1], { permission: () => holder === 'complete' }).then(
            (o) => ({ status: o.status, proofStatus: o.proofStatus }),
            (e: Error) => ({ status: `error ${e.message}` }),
          );
        }
      },
    },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr, holder: await holding };
}

function printedResult(stdout: string): Record<string, unknown> {
  const m = /^Session result:\n([\s\S]*?\n\})\n/m.exec(stdout);
  if (!m) throw new Error(`no result in output:\n${stdout}`);
  return JSON.parse(m[1]) as Record<string, unknown>;
}

describe('irma-server session (requestor)', () => {
  it('issues with --issue against --server: QR code, pointer, live status, result', async () => {
    const r = await requestor(['--server', openBase, '-s', REFERENCE_SCHEMES, '--issue', 'irma-demo.MijnOverheid.fullName=Alice Bo,Alice,Example,']);
    expect(r.stderr).toBe('');
    expect(r.holder).toEqual({ status: 'DONE', proofStatus: 'VALID' });
    expect(r.code).toBe(EXIT_DONE);
    // A QR code drawn with half-block characters, then the pointer it encodes.
    expect(r.stdout).toMatch(/[▀▄█]{5}/);
    const pointer = JSON.parse(/^session pointer: (.*)$/m.exec(r.stdout)![1]) as { u: string; irmaqr: string };
    expect(pointer.irmaqr).toBe('issuing');
    expect(pointer.u.startsWith(`${openBase}/irma/session/`)).toBe(true);
    expect(r.stdout).toMatch(/^(status: INITIALIZED\n)?(status: CONNECTED\n)?status: DONE$/m);
    expect(printedResult(r.stdout)).toMatchObject({ type: 'issuing', status: 'DONE', proofStatus: 'VALID' });
  });

  it('discloses with --disclose (a disjunction per flag) and prints the disclosed values and the result JWT', async () => {
    const r = await requestor([
      '--server', openBase, '-s', REFERENCE_SCHEMES, '--noqr', '--result-jwt',
      '--disclose', 'irma-demo.MijnOverheid.fullName.firstname',
      '--disclose', 'irma-demo.MijnOverheid.fullName.familyname,irma-demo.MijnOverheid.fullName.firstnames',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT_DONE);
    expect(r.stdout).not.toMatch(/[▀▄█]/);
    const result = printedResult(r.stdout) as { disclosed: { id: string; rawvalue: string }[][]; proofStatus: string };
    expect(result.proofStatus).toBe('VALID');
    expect(result.disclosed.map((c) => c.map((a) => [a.id, a.rawvalue]))).toEqual([
      [['irma-demo.MijnOverheid.fullName.firstname', 'Alice']],
      [['irma-demo.MijnOverheid.fullName.familyname', 'Example']],
    ]);
    const jwt = /^Result JWT:\n(\S+)$/m.exec(r.stdout)![1];
    expect(decodeJwt(jwt)).toMatchObject({ iss: 'irmaserver', sub: 'disclosing_result', status: 'DONE' });
  });

  it('signs with --sign and --message, authenticated with a token, an HMAC-signed and an RSA-signed request', async () => {
    const token = await requestor([
      '--server', authedBase, '-s', REFERENCE_SCHEMES, '--noqr', '--authmethod', 'token', '--key', 'secret-token-1234',
      '--sign', 'irma-demo.MijnOverheid.fullName.firstname', '--message', 'I agree',
    ]);
    expect(token.stderr).toBe('');
    expect(token.code).toBe(EXIT_DONE);
    const result = printedResult(token.stdout) as { type: string; signature: { message: string } };
    expect(result.type).toBe('signing');
    expect(result.signature.message).toBe('I agree');

    const hmac = await requestor([
      '--server', authedBase, '--noqr', '--authmethod', 'hmac', '--name', 'hmacRequestor', '--key', HMAC_KEY,
      '--request', JSON.stringify({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]] }),
    ]);
    expect(hmac.stderr).toBe('');
    expect(hmac.code).toBe(EXIT_DONE);

    // RSA: the key is a file, as with the reference.
    const rsa = await requestor([
      '--server', authedBase, '--noqr', '--authmethod', 'rsa', '--name', 'requestor1', '--key', join(REFERENCE_JWTKEYS, 'requestor1-sk.pem'),
      '--disclose', 'irma-demo.MijnOverheid.fullName.firstname',
    ]);
    expect(rsa.stderr).toBe('');
    expect(rsa.code).toBe(EXIT_DONE);

    const refused = await requestor(['--server', authedBase, '--noqr', '--authmethod', 'token', '--key', 'wrong', '--disclose', 'irma-demo.MijnOverheid.fullName.firstname'], 'none');
    expect(refused.code).toBe(EXIT_FAILED);
    expect(refused.stderr).toMatch(/^irma-server session: starting the session failed \(HTTP 403\): UNAUTHORIZED/);
  });

  it('runs a temporary server of its own without --server, and reports a refused session', async () => {
    const port = await freePort();
    const r = await requestor(['-s', REFERENCE_SCHEMES, '--noqr', '--port', String(port), '--url', 'http://127.0.0.1:port', '--disclose', 'irma-demo.MijnOverheid.fullName.firstname'], 'refuse');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`temporary IRMA server at http://127.0.0.1:${port} (schemes ${REFERENCE_SCHEMES})`);
    expect(r.stdout).toContain(`session pointer: {"u":"http://127.0.0.1:${port}/irma/session/`);
    expect(r.holder?.status).toBe('CANCELLED');
    expect(printedResult(r.stdout)).toMatchObject({ status: 'CANCELLED' });
    expect(r.code).toBe(EXIT_CANCELLED);
    // The temporary server is gone afterwards.
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });

  it('cancels the session at the server when stopped (Ctrl-C) while waiting', async () => {
    const stop = new AbortController();
    let stdout = '';
    const code = await run(['session', '--server', openBase, '-s', REFERENCE_SCHEMES, '--noqr', '--disclose', 'irma-demo.MijnOverheid.fullName.firstname'], { HOME: dir }, {
      cwd: dir,
      signal: stop.signal,
      stdout: {
        write: (s: string) => {
          stdout += s;
          if (s.startsWith('status: INITIALIZED')) stop.abort();
        },
      },
    });
    expect(code).toBe(EXIT_CANCELLED);
    expect(stdout).toMatch(/^session cancelled$/m);
    const pointer = JSON.parse(/^session pointer: (.*)$/m.exec(stdout)![1]) as { u: string };
    // The app now finds the session gone.
    const res = await fetch(pointer.u, { headers: { 'X-IRMA-MinProtocolVersion': '2.4', 'X-IRMA-MaxProtocolVersion': '2.8' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
  });

  it('refuses what the reference refuses, before contacting a server', async () => {
    const cases: [string[], RegExp][] = [
      [[], /provide either a complete session request using --request or construct one/],
      [['--disclose', 'irma-demo.MijnOverheid.fullName.nope'], /unknown attribute: irma-demo.MijnOverheid.fullName.nope/],
      [['--issue', 'irma-demo.MijnOverheid.fullName=a,b'], /4 attributes required but 2 provided for irma-demo.MijnOverheid.fullName/],
      [['--issue', 'irma-demo.MijnOverheid.fullName'], /must contain exactly 1 = sign/],
      [['--sign', 'irma-demo.MijnOverheid.fullName.firstname'], /signature sessions require a message/],
      [['--sign', 'irma-demo.MijnOverheid.fullName.firstname', '--message', 'm', '--disclose', 'irma-demo.MijnOverheid.fullName.firstname'], /cannot combine disclosure and signature/],
      [['--request', '{', '--disclose', 'irma-demo.MijnOverheid.fullName.firstname'], /either a complete session request/],
      [['--request', '{'], /--request is not valid JSON/],
      [['--authmethod', 'hmac', '--key', HMAC_KEY, '--disclose', 'irma-demo.MijnOverheid.fullName.firstname'], /needs --name/],
    ];
    for (const [args, error] of cases) {
      const r = await requestor(['--server', 'http://127.0.0.1:9', '-s', REFERENCE_SCHEMES, ...args], 'none');
      expect(r.code, args.join(' ')).toBe(EXIT_FAILED);
      expect(r.stderr).toMatch(error);
    }
  });
});
