// A small in-process stand-in for the client API of an IRMA server, reached through an
// injected fetch. It checks proofs and commitments with the idemix verifier and issuer, so the
// client's messages are judged cryptographically, and it records every request the client makes.
import { decodeB64 } from '../../src/idemix/bigint.js';
import { decodeAttribute, randomBlindDisplay } from '../../src/idemix/attributes.js';
import { verifyIssuanceCommitments, signCredential } from '../../src/idemix/issuer.js';
import type { PublicKey } from '../../src/idemix/keys.js';
import { createMetadata, type Metadata } from '../../src/idemix/metadata.js';
import { parseProofDList, parseProofList, serializeIssueSignatureMessage, type ProofD } from '../../src/idemix/proofs.js';
import { parseSignedMessage, verifySignedMessage } from '../../src/idemix/signed-message.js';
import { resolvePublicKeys, verifyDisclosureProofs, type DisclosedCredential } from '../../src/idemix/verifier.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

export interface DisclosedValue {
  id: string;
  rawvalue: string | null;
}

type AttrReq = string | { type: string; value?: string | null; notNull?: boolean };
type Request = Record<string, unknown> & { disclose?: AttrReq[][][]; credentials?: Record<string, unknown>[] };

interface FakeSession {
  type: 'disclosing' | 'signing' | 'issuing';
  request: Request;
  nonce: bigint;
  pairing: boolean;
  status: string;
  clientAuth?: string;
  next?: Request;
  implicit: AttrReq[][][];
  disclosed?: (DisclosedValue[] | null)[];
  listeners: ((status: string) => void)[];
}

const CONTEXTS: Record<string, FakeSession['type']> = {
  'https://irma.app/ld/request/disclosure/v2': 'disclosing',
  'https://irma.app/ld/request/signature/v2': 'signing',
  'https://irma.app/ld/request/issuance/v2': 'issuing',
};

let counter = 0;

function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? '' : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=UTF-8' },
  });
}

function remoteError(status: number, error: string, message?: string): Response {
  return json(status, { status, error, description: error, message });
}

export class FakeIrmaServer {
  readonly base = 'http://irma.test';
  readonly requests: RecordedRequest[] = [];
  readonly sessions = new Map<string, FakeSession>();
  private readonly statics = new Map<string, Request>();
  /** Unix seconds; the clock the verifier checks expiry with. */
  now = () => Math.floor(Date.now() / 1000);

  constructor(
    private readonly schemes: SchemeRegistry,
    private readonly opts: { sse?: boolean } = {},
  ) {}

  start(request: Request, opts: { pairing?: boolean; next?: Request; implicit?: AttrReq[][][] } = {}) {
    const ct = `ct${String(++counter).padStart(18, '0')}`;
    const type = CONTEXTS[request['@context'] as string];
    const nonce = BigInt(`0x${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')}`);
    this.sessions.set(ct, {
      type,
      request,
      nonce,
      pairing: opts.pairing ?? false,
      status: 'INITIALIZED',
      next: opts.next,
      implicit: opts.implicit ?? [],
      listeners: [],
    });
    return { qr: { u: `${this.base}/irma/session/${ct}`, irmaqr: type }, ct };
  }

  addStatic(name: string, request: Request): object {
    this.statics.set(name, request);
    return { u: `${this.base}/irma/session/${name}`, irmaqr: 'redirect' };
  }

  session(ct: string): FakeSession {
    const s = this.sessions.get(ct);
    if (!s) throw new Error(`no session ${ct}`);
    return s;
  }

  setStatus(ct: string, status: string): void {
    const s = this.session(ct);
    s.status = status;
    for (const l of s.listeners) l(status);
  }

  readonly fetch = async (input: string | URL | globalThis.Request, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const body = typeof init.body === 'string' && init.body.length > 0 ? JSON.parse(init.body) : undefined;
    this.requests.push({ method, url, headers, body });
    const m = /^http:\/\/irma\.test\/irma\/session\/([A-Za-z0-9_]+)(\/(.*))?$/.exec(url);
    if (!m) return remoteError(404, 'INVALID_REQUEST');
    const [, ct, slash, rest] = m;
    if (!slash && method === 'POST' && this.statics.has(ct)) {
      return json(200, this.start(this.statics.get(ct) as Request).qr);
    }
    const s = this.sessions.get(ct);
    if (!s) return remoteError(400, 'SESSION_UNKNOWN', 'Unknown or expired session');
    const path = rest ?? '';
    if (method === 'DELETE' && path === '') {
      if (!['DONE', 'CANCELLED'].includes(s.status)) this.setStatus(ct, 'CANCELLED');
      return new Response('', { status: 200 });
    }
    if (method === 'GET' && path === 'status') return json(200, s.status);
    if (method === 'GET' && path === 'statusevents') return this.statusEvents(s, init.signal ?? undefined);
    if (method === 'GET' && path === '') return this.connect(ct, s, headers);
    if (s.status === 'PAIRING') return remoteError(403, 'PAIRING_REQUIRED');
    if (s.status !== 'CONNECTED') return remoteError(403, 'UNEXPECTED_REQUEST', 'Session not yet started or already finished');
    if (headers.authorization !== s.clientAuth) return remoteError(403, 'UNAUTHORIZED');
    if (method === 'GET' && path === 'request') return json(200, this.appRequest(s));
    if (method === 'POST' && path === 'proofs' && s.type !== 'issuing') return this.proofs(ct, s, body);
    if (method === 'POST' && path === 'commitments' && s.type === 'issuing') return this.commitments(ct, s, body);
    return remoteError(400, 'INVALID_REQUEST');
  };

  private appRequest(s: FakeSession): Request {
    return { ...s.request, context: 'AQ==', nonce: Buffer.from(s.nonce.toString(16).padStart(32, '0'), 'hex').toString('base64'), protocolVersion: '2.8', devMode: true };
  }

  private connect(ct: string, s: FakeSession, headers: Record<string, string>): Response {
    if (!headers['x-irma-minprotocolversion'] || !headers['x-irma-maxprotocolversion']) return remoteError(400, 'MALFORMED_INPUT');
    if (s.status !== 'INITIALIZED') return remoteError(403, 'UNEXPECTED_REQUEST', 'Session already started');
    if (!headers.authorization) {
      this.setStatus(ct, 'CANCELLED');
      return remoteError(403, 'UNAUTHORIZED', 'No authorization header provided');
    }
    s.clientAuth = headers.authorization;
    const options: Record<string, unknown> = { '@context': 'https://irma.app/ld/options/v1', pairingMethod: s.pairing ? 'pin' : 'none' };
    if (s.pairing) options.pairingCode = '4802';
    this.setStatus(ct, s.pairing ? 'PAIRING' : 'CONNECTED');
    const answer: Record<string, unknown> = { '@context': 'https://irma.app/ld/request/client/v1', protocolVersion: '2.8', options };
    if (!s.pairing) answer.request = this.appRequest(s);
    return json(200, answer);
  }

  private statusEvents(s: FakeSession, signal?: AbortSignal): Response {
    if (!this.opts.sse) return remoteError(500, 'SSE_DISABLED');
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start: (ctl) => {
        ctl.enqueue(enc.encode('event: open\n\n'));
        const listener = (status: string) => {
          ctl.enqueue(enc.encode(`data: "${status}"\n\n`));
          if (['DONE', 'CANCELLED', 'TIMEOUT'].includes(status)) ctl.close();
        };
        s.listeners.push(listener);
        signal?.addEventListener('abort', () => {
          s.listeners = s.listeners.filter((l) => l !== listener);
          try {
            ctl.close();
          } catch {
            // already closed
          }
        });
      },
    });
    return new Response(stream, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
  }

  private keyOf = (meta: Metadata): PublicKey | undefined => {
    const type = this.schemes.credentialTypeByHash(meta.credentialTypeHashHex);
    return type && this.schemes.publicKey(type.issuerId, meta.keyCounter);
  };

  /** Values per disjunction from `indices`, checked against the request's condiscon. */
  private match(s: FakeSession, proofs: ProofD[], creds: DisclosedCredential[], indices: unknown): (DisclosedValue[] | null)[] | undefined {
    const condiscon = [...(s.request.disclose ?? []), ...s.implicit];
    if (!Array.isArray(indices) || indices.length !== condiscon.length) return undefined;
    const out: (DisclosedValue[] | null)[] = [];
    for (let k = 0; k < condiscon.length; k++) {
      const values: DisclosedValue[] = (indices[k] as { cred: number; attr: number }[]).map(({ cred, attr }) => {
        const meta = creds[cred].metadata;
        if (meta.expiry < this.now()) throw new Error('expired');
        const type = this.schemes.credentialTypeByHash(meta.credentialTypeHashHex)!;
        if (attr === 1) return { id: type.id, rawvalue: 'present' };
        const at = type.attributes[attr - 2];
        const m = proofs[cred].aDisclosed.get(attr);
        if (m === undefined) throw new Error('index not disclosed');
        return { id: at.id, rawvalue: at.randomBlind ? randomBlindDisplay(m) : decodeAttribute(m) };
      });
      const ok = condiscon[k].some(
        (con) =>
          con.length === values.length &&
          con.every((ar, i) => {
            const r = typeof ar === 'string' ? { type: ar } : ar;
            const v = values[i];
            return v.id === r.type && (r.value == null || r.value === v.rawvalue) && (!r.notNull || v.rawvalue !== null);
          }),
      );
      if (!ok) return undefined;
      out.push(values);
    }
    return out;
  }

  private finish(ct: string, s: FakeSession, disclosed: (DisclosedValue[] | null)[], extra: Record<string, unknown> = {}): Response {
    s.disclosed = disclosed;
    const answer: Record<string, unknown> = { proofStatus: 'VALID', ...extra };
    if (s.next) {
      const implicit = disclosed.filter((d): d is DisclosedValue[] => d !== null && d.length > 0).map((d) => [d.map((v) => ({ type: v.id, value: v.rawvalue }))]);
      answer.nextSession = this.start(s.next, { implicit }).qr;
    }
    this.setStatus(ct, 'DONE');
    return json(200, answer);
  }

  private proofs(ct: string, s: FakeSession, body: Record<string, unknown>): Response {
    try {
      let proofs: ProofD[];
      let creds: DisclosedCredential[];
      if (s.type === 'signing') {
        const signed = parseSignedMessage(body);
        proofs = signed.proofs;
        const publicKeys = resolvePublicKeys(proofs, this.keyOf);
        creds = verifySignedMessage({
          signed,
          publicKeys,
          request: { nonce: s.nonce, context: 1n, message: s.request.message as string },
        }).credentials;
      } else {
        proofs = parseProofDList(body.proofs);
        creds = verifyDisclosureProofs({ proofs, publicKeys: resolvePublicKeys(proofs, this.keyOf), context: 1n, nonce: s.nonce });
      }
      const disclosed = this.match(s, proofs, creds, body.indices);
      if (!disclosed) {
        this.setStatus(ct, 'DONE');
        return json(200, { proofStatus: 'MISSING_ATTRIBUTES' });
      }
      return this.finish(ct, s, disclosed);
    } catch {
      this.setStatus(ct, 'DONE');
      return json(200, { proofStatus: 'INVALID' });
    }
  }

  private commitments(ct: string, s: FakeSession, body: Record<string, unknown>): Response {
    const requests = s.request.credentials ?? [];
    const targets = requests.map((cr) => {
      const type = this.schemes.credentialType(cr.credential as string)!;
      const counter = (cr.keyCounter as number | undefined) ?? 0;
      return {
        cr,
        type,
        publicKey: this.schemes.publicKey(type.issuerId, counter)!,
        privateKey: this.schemes.privateKey(type.issuerId, counter)!,
        randomBlindIndices: type.attributes.filter((a) => a.randomBlind).map((a) => a.index + 2),
      };
    });
    try {
      const proofs = parseProofList(body.combinedProofs);
      const ds = proofs.slice(0, proofs.length - targets.length) as ProofD[];
      const verified = verifyIssuanceCommitments({
        proofs,
        disclosureKeys: resolvePublicKeys(ds, this.keyOf),
        credentials: targets,
        context: 1n,
        nonce: s.nonce,
      });
      const disclosed = this.match(s, ds, verified.disclosed, body.indices ?? []);
      if (!disclosed) throw new Error('missing attributes');
      const nonce2 = decodeB64(body.n_2);
      const sigs = targets.map((t, i) => {
        const attrs = t.type.attributes.map((a) => {
          if (a.randomBlind) return 0n;
          const v = (t.cr.attributes as Record<string, string | undefined>)[a.shortId];
          return v === undefined ? 0n : (BigInt(`0x${Buffer.from(v, 'utf8').toString('hex') || '0'}`) << 1n) | 1n;
        });
        const metadata = createMetadata({ credentialTypeId: t.type.id, keyCounter: t.publicKey.counter, issuedAt: this.now(), validUntil: t.cr.validity as number });
        return serializeIssueSignatureMessage(
          signCredential({ publicKey: t.publicKey, privateKey: t.privateKey, U: verified.commitments[i], attributes: [metadata, ...attrs], randomBlindIndices: t.randomBlindIndices, nonce2 }),
        );
      });
      return this.finish(ct, s, disclosed, { sigs });
    } catch (err) {
      this.setStatus(ct, 'CANCELLED');
      return remoteError(400, 'INVALID_PROOFS', (err as Error).message);
    }
  }
}
