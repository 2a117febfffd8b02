// `irma-server session`: the requestor's side of a session in the terminal, as the reference's
// `irma session`: build a request from --disclose/--issue/--sign (or take --request), start it at
// a running server (--server) or at a temporary one in this process, print the QR code the app
// scans, follow the status, and print the result.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SignJWT, importPKCS8 } from 'jose';
import QRCode from 'qrcode';
import { REQUESTOR_JWT } from '../protocol/requestor-jwt.js';
import { loadSchemes } from '../scheme/loader.js';
import type { SchemeRegistry } from '../scheme/types.js';
import { defaultOptions, validateOptions, validateOptionsAgainstSchemes } from '../server/options.js';
import { loadConfig } from './config.js';
import { describeStartupError } from './startup-error.js';
import type { CliIo, Env } from './run.js';

export interface RequestorSessionOptions {
  server?: string;
  authMethod: string;
  key?: string;
  name?: string;
  disclose: string[];
  issue: string[];
  sign: string[];
  message?: string;
  request?: string;
  fromPackage?: string;
  schemesPath?: string;
  privkeys?: string;
  dataDir?: string;
  /** Temporary server: port (0 = any free one) and the URL the app reaches it at. */
  port: number;
  url?: string;
  noqr: boolean;
  resultJwt: boolean;
}

export const EXIT_DONE = 0;
export const EXIT_FAILED = 1;
export const EXIT_CANCELLED = 2;

const CONTEXTS = {
  disclosing: 'https://irma.app/ld/request/disclosure/v2',
  signing: 'https://irma.app/ld/request/signature/v2',
  issuing: 'https://irma.app/ld/request/issuance/v2',
} as const;
const FINAL = new Set(['DONE', 'CANCELLED', 'TIMEOUT']);
const POLL_MS = 500;
const HTTP_TIMEOUT_MS = 20_000;

class UsageError extends Error {}

interface SessionPackage {
  token: string;
  sessionPtr: { u: string; irmaqr: string };
}

/** Each --disclose/--sign value is one disjunction: comma-separated attributes, any one of which will do. */
function condiscon(values: string[], schemes: SchemeRegistry | undefined): string[][][] {
  return values.map((value) =>
    value.split(',').map((id) => {
      if (schemes && !schemes.attributeType(id)) throw new UsageError(`unknown attribute: ${id}`);
      return [id];
    }),
  );
}

/** `--issue TYPE=v1,v2,...`: the values in the type's attribute order, skipping random-blind and revocation attributes. */
function credentials(values: string[], schemes: SchemeRegistry): unknown[] {
  return values.map((value) => {
    const eq = value.indexOf('=');
    if (eq < 0 || value.indexOf('=', eq + 1) >= 0) throw new UsageError('--issue argument must contain exactly 1 = sign');
    const id = value.slice(0, eq);
    const type = schemes.credentialType(id);
    if (!type) throw new UsageError(`unknown credential type: ${id}`);
    const given = value.slice(eq + 1).split(',');
    const attrs = type.attributes.filter((a) => !a.revocation && !a.randomBlind);
    if (given.length !== attrs.length) {
      throw new UsageError(`${attrs.length} attributes required but ${given.length} provided for ${id} (${attrs.map((a) => a.shortId).join(',')})`);
    }
    return { credential: id, attributes: Object.fromEntries(attrs.map((a, i) => [a.shortId, given[i]])) };
  });
}

export function buildRequest(opts: RequestorSessionOptions, schemes: SchemeRegistry | undefined): unknown {
  const built = opts.disclose.length + opts.issue.length + opts.sign.length > 0 || opts.message !== undefined;
  if (opts.request !== undefined) {
    if (built) throw new UsageError('provide either a complete session request using --request or construct one using the other flags');
    try {
      return JSON.parse(opts.request);
    } catch {
      throw new UsageError('--request is not valid JSON');
    }
  }
  if (!built) throw new UsageError('provide either a complete session request using --request or construct one using --disclose, --issue or --sign');
  if (opts.sign.length > 0) {
    if (opts.disclose.length > 0) throw new UsageError('cannot combine disclosure and signature sessions, use either --disclose or --sign');
    if (opts.issue.length > 0) throw new UsageError('cannot combine issuance and signature sessions, use either --issue or --sign');
  }
  if ((opts.sign.length > 0) !== (opts.message !== undefined)) {
    throw new UsageError(opts.message === undefined ? 'signature sessions require a message to be signed using --message' : '--message needs --sign');
  }
  if (opts.issue.length > 0) {
    if (!schemes) throw new UsageError('--issue needs the schemes (--schemes-path) to know the attribute order');
    const request: Record<string, unknown> = { '@context': CONTEXTS.issuing, credentials: credentials(opts.issue, schemes) };
    if (opts.disclose.length > 0) request.disclose = condiscon(opts.disclose, schemes);
    return request;
  }
  if (opts.sign.length > 0) return { '@context': CONTEXTS.signing, message: opts.message, disclose: condiscon(opts.sign, schemes) };
  return { '@context': CONTEXTS.disclosing, disclose: condiscon(opts.disclose, schemes) };
}

function sessionTypeOf(request: unknown): keyof typeof CONTEXTS {
  const r = request as Record<string, unknown>;
  const inner = (r.request ?? r) as Record<string, unknown>;
  const ctx = inner['@context'];
  for (const [type, url] of Object.entries(CONTEXTS)) if (ctx === url) return type as keyof typeof CONTEXTS;
  // Old-style requests carry a "type" field.
  if (inner.type === 'signing' || inner.type === 'issuing') return inner.type;
  return 'disclosing';
}

/** Key text, or the contents of the file it names (as the reference). */
function keyMaterial(key: string | undefined, cwd: string): string {
  if (key === undefined || key === '') throw new UsageError('this authentication method needs --key');
  try {
    return readFileSync(resolve(cwd, key), 'utf8');
  } catch {
    return key;
  }
}

/** The POST /session body and headers for the authentication method, as the reference's `irma session`. */
async function startRequest(request: unknown, opts: RequestorSessionOptions, cwd: string): Promise<{ body: string; headers: Record<string, string> }> {
  const method = opts.authMethod;
  if (method === 'none' || method === 'token') {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (method === 'token') headers.Authorization = keyMaterial(opts.key, cwd).trim();
    return { body: JSON.stringify(request), headers };
  }
  if (method !== 'hmac' && method !== 'rsa') throw new UsageError('invalid authentication method (must be none, token, hmac or rsa)');
  if (!opts.name) throw new UsageError(`--authmethod ${method} needs --name, the requestor name`);
  const type = sessionTypeOf(request);
  const { sub, claim } = REQUESTOR_JWT[type];
  const r = request as Record<string, unknown>;
  const extended = r.request !== undefined ? r : { request };
  const jwt = new SignJWT({ [claim]: extended }).setSubject(sub).setIssuer(opts.name).setIssuedAt();
  const material = keyMaterial(opts.key, cwd);
  const token =
    method === 'hmac'
      ? await jwt.setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(material.trim(), 'base64'))
      : await jwt.setProtectedHeader({ alg: 'RS256' }).sign(await importPKCS8(pkcs8(material), 'RS256'));
  return { body: token, headers: { 'Content-Type': 'text/plain' } };
}

/** jose takes PKCS#8; the reference also accepts PKCS#1 ("RSA PRIVATE KEY") files. */
function pkcs8(pem: string): string {
  if (!pem.includes('BEGIN RSA PRIVATE KEY')) return pem;
  return createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function http(method: string, url: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, { method, body: init.body, headers: init.headers, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (e) {
    const c = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${url}: ${c?.code ?? c?.message ?? (e as Error).message}`);
  }
  return { status: res.status, text: await res.text() };
}

function remoteError(what: string, r: { status: number; text: string }): Error {
  let detail = r.text.slice(0, 500);
  try {
    const e = JSON.parse(r.text) as { error?: string; description?: string; message?: string };
    if (e.error) detail = `${e.error}: ${e.description ?? ''}${e.message ? ` (${e.message})` : ''}`;
  } catch {
    // not JSON: show the text
  }
  return new Error(`${what} failed (HTTP ${r.status}): ${detail}`);
}

interface TemporaryServer {
  base: string;
  close(): Promise<void>;
}

/** A server in this process on the schemes given, without requestor authentication, as the reference's built-in one. */
async function temporaryServer(opts: RequestorSessionOptions, schemesPath: string, schemes: SchemeRegistry, io: CliIo): Promise<TemporaryServer> {
  const { startServer } = await import('../server/index.js');
  const raw = { ...defaultOptions(false), port: opts.port, schemesPath, quiet: true, cryptoWorkers: 0, url: opts.url ?? '' };
  if (opts.privkeys !== undefined) raw.privkeys = resolve(io.cwd, opts.privkeys);
  if (raw.port === 0) raw.port = 1; // validateOptions wants a valid port; the real one is chosen below
  const options = validateOptions(raw);
  options.port = opts.port;
  validateOptionsAgainstSchemes(options, schemes);
  const server = await startServer(options, { schemes });
  return { base: `http://127.0.0.1:${server.port}`, close: () => server.close() };
}

export async function requestorSessionCommand(opts: RequestorSessionOptions, env: Env, io: CliIo): Promise<number> {
  const out = (s: string) => io.stdout.write(s);
  const fail = (msg: string): number => {
    io.stderr.write(`irma-server session: ${msg}\n`);
    return EXIT_FAILED;
  };
  let temp: TemporaryServer | undefined;
  try {
    let pkg: SessionPackage;
    let base: string;
    if (opts.fromPackage !== undefined) {
      pkg = JSON.parse(opts.fromPackage) as SessionPackage;
      base = requestorBaseOf(pkg.sessionPtr.u);
    } else {
      // The schemes: those given, else the server's (schemes_path, or the demo scheme in the data folder).
      const flags: Record<string, unknown> = {};
      if (opts.dataDir !== undefined) flags.data_dir = opts.dataDir;
      if (opts.schemesPath !== undefined) flags.schemes_path = opts.schemesPath;
      const loaded = loadConfig({ flags, env, cwd: io.cwd });
      const schemesPath = loaded.options.schemesPath || loaded.dataDir;
      let schemes: SchemeRegistry | undefined;
      try {
        schemes = await loadSchemes({ schemesPath, privateKeysPath: opts.privkeys === undefined ? undefined : resolve(io.cwd, opts.privkeys) });
      } catch (e) {
        // A remote server knows its own schemes; only a temporary server needs them here.
        if (opts.server === undefined || opts.issue.length > 0) throw new Error(`cannot read the schemes in ${schemesPath}: ${describeStartupError(e)}`);
      }
      const request = buildRequest(opts, schemes);
      if (opts.server !== undefined) {
        base = opts.server.replace(/\/+$/, '');
      } else {
        temp = await temporaryServer(opts, schemesPath, schemes!, io);
        base = temp.base;
        out(`temporary IRMA server at ${base} (schemes ${schemesPath})\n`);
      }
      const start = await startRequest(request, opts, io.cwd);
      const r = await http('POST', `${base}/session`, start);
      if (r.status !== 200) throw remoteError('starting the session', r);
      pkg = JSON.parse(r.text) as SessionPackage;
    }

    const pointer = JSON.stringify(pkg.sessionPtr);
    if (!opts.noqr) {
      const qr = await QRCode.toString(pointer, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
      out(qr.endsWith('\n') ? qr : `${qr}\n`);
    }
    out(`session pointer: ${pointer}\n`);

    // Ctrl-C cancels the session at the server rather than leaving it to time out there.
    const interrupt = new AbortController();
    const onSigint = () => interrupt.abort();
    process.once('SIGINT', onSigint);
    const stop = io.signal ? AbortSignal.any([io.signal, interrupt.signal]) : interrupt.signal;
    const status = await follow(`${base}/session/${pkg.token}`, out, stop).finally(() => process.off('SIGINT', onSigint));
    if (status === 'ABORTED') {
      await http('DELETE', `${base}/session/${pkg.token}`).catch(() => undefined);
      out('session cancelled\n');
      return EXIT_CANCELLED;
    }
    const result = await http('GET', `${base}/session/${pkg.token}/result`);
    if (result.status !== 200) throw remoteError('reading the result', result);
    const parsed = JSON.parse(result.text) as { status?: string; proofStatus?: string };
    out(`Session result:\n${JSON.stringify(parsed, null, 2)}\n`);
    if (opts.resultJwt) {
      const jwt = await http('GET', `${base}/session/${pkg.token}/result-jwt`);
      if (jwt.status !== 200) throw remoteError('reading the result JWT', jwt);
      out(`Result JWT:\n${jwt.text}\n`);
    }
    if (parsed.status !== 'DONE') return EXIT_CANCELLED;
    return parsed.proofStatus === undefined || parsed.proofStatus === 'VALID' ? EXIT_DONE : EXIT_FAILED;
  } catch (e) {
    return fail(e instanceof UsageError ? e.message : describeStartupError(e));
  } finally {
    await temp?.close();
  }
}

/** The requestor API base of a pointer `<base>/irma/session/<token>`; the reference derives it the same way. */
function requestorBaseOf(u: string): string {
  const i = u.lastIndexOf('/irma/session/');
  if (i < 0) throw new UsageError('the session pointer URL does not end in /irma/session/<token>: cannot find the requestor API');
  return u.slice(0, i);
}

/** Polls the status until it is final (printing each change), or until `signal` aborts. */
async function follow(url: string, out: (s: string) => void, signal: AbortSignal | undefined): Promise<string> {
  let last = '';
  for (;;) {
    if (signal?.aborted) return 'ABORTED';
    const r = await http('GET', `${url}/status`);
    if (r.status !== 200) throw remoteError('reading the status', r);
    const status = JSON.parse(r.text) as string;
    if (status !== last) out(`status: ${status}\n`);
    last = status;
    if (FINAL.has(status)) return status;
    await sleep(POLL_MS, signal);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
