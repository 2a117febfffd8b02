// A server built around the reference schemes, an in-memory store and a clock the test moves.
import { pino, type Logger } from 'pino';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { createServer, type BuiltServer } from '../../src/server/index.js';
import { defaultOptions, type ServerOptions } from '../../src/server/options.js';
import type { DisclosureOutcome, IssuanceOutcome, ProofChecker, SignatureOutcome, VerificationInput } from '../../src/server/proof-port.js';
import type { Session } from '../../src/session/session.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { SessionStore } from '../../src/store/store.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let schemesPromise: Promise<SchemeRegistry> | undefined;
export function referenceSchemes(): Promise<SchemeRegistry> {
  schemesPromise ??= loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  return schemesPromise;
}

export const START = Date.UTC(2026, 10, 22, 9, 0, 0);

/** A checker whose answers the test decides; records what it was asked. */
export class ScriptedChecker implements ProofChecker {
  calls: VerificationInput[] = [];
  next: DisclosureOutcome | Error = {
    proofStatus: 'VALID',
    disclosed: [[{ rawvalue: 'yes', value: { '': 'yes', en: 'yes', nl: 'yes' }, id: 'irma-demo.MijnOverheid.fullName.firstname', status: 'PRESENT', issuancetime: 1795046400 }]],
  };
  sigs = [{ proof: { c: 'AQ==', e_response: 'AQ==' } }];
  async disclosure(input: VerificationInput): Promise<DisclosureOutcome> {
    this.calls.push(input);
    if (this.next instanceof Error) throw this.next;
    return this.next;
  }
  async signature(input: VerificationInput): Promise<SignatureOutcome> {
    const r = await this.disclosure(input);
    return { ...r, signature: input.message };
  }
  async issuance(input: VerificationInput): Promise<IssuanceOutcome> {
    const r = await this.disclosure(input);
    return { ...r, sigs: this.sigs };
  }
}

export interface Harness {
  server: BuiltServer;
  store: SessionStore<Session>;
  checker: ScriptedChecker;
  clock: { now: number };
  options: ServerOptions;
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function makeHarness(
  patch: Partial<ServerOptions> = {},
  shared?: { store?: SessionStore<Session>; clock?: { now: number }; checker?: ScriptedChecker; logger?: Logger },
): Promise<Harness> {
  const clock = shared?.clock ?? { now: START };
  const store = shared?.store ?? new MemoryStore<Session>({ now: () => clock.now });
  const checker = shared?.checker ?? new ScriptedChecker();
  const options: ServerOptions = {
    ...defaultOptions(false),
    url: 'http://irma.example.com:8088',
    schemesPath: REFERENCE_SCHEMES,
    ...patch,
  };
  const server = await createServer(options, {
    schemes: await referenceSchemes(),
    store,
    clock: () => clock.now,
    checker,
    logger: shared?.logger ?? pino({ level: 'silent' }),
  });
  return {
    server,
    store,
    checker,
    clock,
    options,
    inject: (o) => server.main.inject(o),
    close: () => server.close(),
  };
}

export const DISCLOSURE = {
  '@context': 'https://irma.app/ld/request/disclosure/v2',
  disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]],
};

export const APP_HEADERS = {
  'x-irma-minprotocolversion': '2.4',
  'x-irma-maxprotocolversion': '2.9',
  authorization: 'APPauthorization0001',
};

export interface StartedSession {
  token: string;
  ct: string;
  frontendAuth: string;
  pkg: { token: string; sessionPtr: { u: string; irmaqr: string }; frontendRequest: Record<string, unknown> };
}

export async function startSession(h: Harness, body: unknown = DISCLOSURE, headers: Record<string, string> = {}): Promise<StartedSession> {
  const res = await h.inject({
    method: 'POST',
    url: '/session',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body),
  });
  if (res.statusCode !== 200) throw new Error(`POST /session: ${res.statusCode} ${res.body}`);
  const pkg = res.json();
  return {
    pkg,
    token: pkg.token,
    ct: pkg.sessionPtr.u.split('/').pop(),
    frontendAuth: pkg.frontendRequest.authorization,
  };
}

export function connectApp(h: Harness, ct: string, headers: Record<string, string> = APP_HEADERS) {
  return h.inject({ method: 'GET', url: `/irma/session/${ct}`, headers });
}
