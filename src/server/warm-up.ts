// A start-up warm-up: before the server listens, a throwaway instance of it (own memory store,
// no listener, no metrics, nothing logged) runs disclosure sessions against itself through
// Fastify's inject, for a bounded time. V8 compiles JavaScript as it runs: a fresh process runs
// the request path in its interpreter and baseline tiers, and its first ~1,500 sessions cost 2×
// the CPU of later ones. The handlers, the store, the state machine, parsing and verification
// are the same functions in both instances, so what the warm-up teaches V8 serves the real one.
//
// The app's proof is made up (random values of the right sizes for a real public key of the
// loaded schemes): verification runs to its end and says INVALID, so no credential and no
// private key is needed. Nothing of the warm-up outlives it but compiled code.
import pino from 'pino';
import { encodeB64, randomBits } from '../idemix/bigint.js';
import { encodeAttribute } from '../idemix/attributes.js';
import { createMetadata } from '../idemix/metadata.js';
import type { PublicKey } from '../idemix/keys.js';
import type { CredentialType, SchemeRegistry } from '../scheme/types.js';
import { MemoryRevocationStore } from '../revocation/memory-store.js';
import { RevocationService } from '../revocation/service.js';
import { MemoryStore } from '../store/memory.js';
import type { Session } from '../session/session.js';
import { defaultOptions, type ServerOptions } from './options.js';
import { createProofChecker } from './proof-checker.js';

/** Wall-clock bound of the warm-up: start-up may not take noticeably longer for it. */
export const WARM_UP_MS = 600;
const MAX_FLOWS = 2000;

export interface WarmUpReport {
  sessions: number;
  /** Sessions whose made-up proofs went through verification (and were found INVALID). */
  checked: number;
  ms: number;
}

interface Target {
  type: CredentialType;
  pk: PublicKey;
}

/** A credential type with at least one attribute and a current public key, if the schemes have one. */
function pickTarget(schemes: SchemeRegistry, now: number): Target | undefined {
  for (const type of schemes.credentialTypes.values()) {
    if (type.attributes.length === 0) continue;
    const pk = schemes.latestPublicKey(type.issuerId, now);
    if (pk !== undefined && pk.R.length >= type.attributes.length + 2) return { type, pk };
  }
  return undefined;
}

/** A disclosure message of the shape the app sends, disclosing the type's first attribute. */
function madeUpDisclosure({ type, pk }: Target, now: number): string {
  const p = pk.params;
  const hidden: Record<string, string> = { '0': encodeB64(randomBits(p.LmCommit)) };
  for (let j = 1; j < type.attributes.length; j++) hidden[String(j + 2)] = encodeB64(randomBits(p.LmCommit));
  const proof = {
    c: encodeB64(randomBits(p.Lh)),
    A: encodeB64(randomBits(pk.n.toString(2).length - 8)),
    e_response: encodeB64(randomBits(p.LeCommit)),
    v_response: encodeB64(randomBits(p.LvCommit)),
    a_responses: hidden,
    a_disclosed: {
      '1': encodeB64(createMetadata({ credentialTypeId: type.id, keyCounter: pk.counter, issuedAt: now, validUntil: now + 180 * 86_400 })),
      '2': encodeB64(encodeAttribute('warm-up')),
    },
  };
  return JSON.stringify({ proofs: [proof], indices: [[{ cred: 0, attr: 2 }]] });
}

const APP_HEADERS = {
  'content-type': 'application/json',
  'x-irma-minprotocolversion': '2.4',
  'x-irma-maxprotocolversion': '2.9',
  authorization: 'warmupwarmupwarmup00',
};

/**
 * Runs made-up disclosure sessions on a private instance of the server for up to `budgetMs`;
 * undefined when the schemes offer nothing to disclose. Never throws: a warm-up that fails has
 * only failed to speed things up (`onError` hears why).
 */
export async function warmUp(
  schemes: SchemeRegistry,
  limits: ServerOptions['limits'],
  budgetMs = WARM_UP_MS,
  onError?: (err: unknown) => void,
): Promise<WarmUpReport | undefined> {
  const started = performance.now();
  const now = Math.floor(Date.now() / 1000);
  let sessions = 0;
  let checked = 0;
  const store = new MemoryStore<Session>();
  const logger = pino({ level: 'silent' });
  // Without revocation settings, issuers whose keys support revocation would make createServer
  // refuse to start: a revocation service of its own, in memory, never started, answers for them.
  const revocation = new RevocationService({ schemes, store: new MemoryRevocationStore(), settings: {}, log: logger });
  try {
    const target = pickTarget(schemes, now);
    if (target === undefined || budgetMs <= 0) return undefined;
    // Imported here: index.ts is the module that calls this one.
    const { createServer } = await import('./index.js');
    const options: ServerOptions = { ...defaultOptions(false), url: 'http://localhost', quiet: true, limits };
    const server = await createServer(options, { schemes, store, checker: createProofChecker(schemes, { logger }), logger, revocation });
    try {
      const request = JSON.stringify({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${target.type.id}.${target.type.attributes[0].shortId}`]]] });
      const proofs = madeUpDisclosure(target, now);
      const app = server.main;
      while (sessions < MAX_FLOWS && performance.now() - started < budgetMs) {
        const start = await app.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: request });
        if (start.statusCode !== 200) throw new Error(`warm-up session start answered ${start.statusCode}`);
        const pkg = start.json() as { token: string; sessionPtr: { u: string } };
        const ct = pkg.sessionPtr.u.slice(pkg.sessionPtr.u.lastIndexOf('/') + 1);
        await app.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: APP_HEADERS });
        const verdict = await app.inject({ method: 'POST', url: `/irma/session/${ct}/proofs`, headers: APP_HEADERS, payload: proofs });
        if (verdict.statusCode === 200 && verdict.body.includes('"INVALID"')) checked++;
        await app.inject({ method: 'GET', url: `/session/${pkg.token}/result` });
        sessions++;
      }
    } finally {
      await server.close();
    }
  } catch (err) {
    onError?.(err);
  } finally {
    await store.close();
    await revocation.close();
  }
  return { sessions, checked, ms: performance.now() - started };
}
