// The client's requests side by side with the reference client's recorded ones: for every
// recorded session the same request goes through the client, and what it sends must have the
// recorded shape — endpoints, headers, members and their order, proof kinds, attribute index sets
// and `indices` — with only the random numbers differing.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { planDisclosure } from '../../src/client/disclosure-plan.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { REFERENCE_SCHEMES, REFERENCE_VECTORS } from '../support/reference.js';
import { FakeIrmaServer } from './fake-server.js';

interface RecordedExchange {
  method: string;
  path: string;
  requestHeaders: Record<string, string>;
  requestBody?: unknown;
  responseBody: { request?: Record<string, unknown> };
}
interface RecordedSession {
  label: string;
  sessionPackage: { sessionPtr: { irmaqr: string } };
  client: RecordedExchange[];
}
const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as { recordedAtUnix: number; sessions: RecordedSession[] };
// The recorded issuance requests carry validities of recording time + 6 months: every clock here
// is the recording's, or the credentials would expire under the wall clock from 2027-05 on.
const now = () => vectors.recordedAtUnix;

/**
 * Keeps structure, member names and their order; drops the values that differ per run (strings
 * and numbers become placeholders), except `indices` and `message`.
 */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).map(([k, x]) => [k, k === 'indices' || k === 'message' ? x : shape(x)]);
  }
  if (typeof v === 'string') return '*';
  return typeof v === 'number' ? '#' : v;
}

/** The request as the app received it, minus what the server sets per session. */
function appRequest(s: RecordedSession): Record<string, unknown> {
  const { context: _c, nonce: _n, protocolVersion: _p, devMode: _d, ...rest } = s.client[0].responseBody.request!;
  return rest;
}

let schemes: SchemeRegistry;
let dir: string;
beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  dir = await mkdtemp(join(tmpdir(), 'irma-client-wire-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('disclosure plan', () => {
  it.each(vectors.sessions.filter((s) => s.client[1].requestBody && 'indices' in (s.client[1].requestBody as object)).map((s) => [s.label, s] as const))(
    'reproduces the recorded indices and disclosed index sets of %s',
    (_label, s) => {
      const request = appRequest(s) as { disclose: (string | { type: string })[][][] };
      // One credential per credential type, as in the recorded wallets.
      const choice = request.disclose.map((discon) =>
        discon[0].map((ar) => {
          const id = typeof ar === 'string' ? ar : ar.type;
          return { id, credentialId: id.split('.').slice(0, 3).join('.'), rawValue: null };
        }),
      );
      const plan = planDisclosure(choice, schemes);
      const body = s.client[1].requestBody as { indices: unknown; proofs?: unknown[]; signature?: unknown[]; combinedProofs?: unknown[] };
      expect(plan.indices).toEqual(body.indices);
      const proofs = (body.proofs ?? body.signature ?? body.combinedProofs ?? []) as { a_disclosed?: Record<string, string> }[];
      const disclosedSets = proofs.filter((p) => p.a_disclosed).map((p) => Object.keys(p.a_disclosed!).map(Number));
      expect(plan.proofs.map((p) => p.disclosed)).toEqual(disclosedSets);
    },
  );
});

describe('requests compared with the recorded reference client', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const rawPk = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);

  it('sends what the reference client sent, session by session', async () => {
    const server = new FakeIrmaServer(schemes);
    server.now = now;
    const fetchFn = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
      if (!String(input).startsWith('http://atum.test/')) return server.fetch(input, init);
      const nonce = Buffer.from(JSON.parse(String(init.body)).Nonce, 'base64');
      const time = now();
      const msg = Buffer.concat([Buffer.alloc(8), nonce]);
      msg.writeBigUInt64BE(BigInt(time));
      const Sig = { Alg: 'ed25519', Data: sign(null, msg, privateKey).toString('base64'), PublicKey: rawPk.toString('base64') };
      return new Response(JSON.stringify({ Error: null, Stamp: { Time: time, ServerUrl: 'http://atum.test/', Sig } }));
    };
    const client = new IrmaClient({ storageDir: dir, schemes, fetch: fetchFn, timestampServer: 'http://atum.test/', now });
    for (const s of vectors.sessions) {
      const { qr, ct } = server.start(appRequest(s) as never);
      const before = server.requests.length;
      const out = await client.runSession(qr, {
        // Prefer the credential the recording used: the one carrying the disclosed value "van".
        choose: ({ candidates }) => candidates.map((opts) => opts.find((o) => o.every((a) => a.rawValue !== null)) ?? opts[0]),
      });
      expect(out.status, s.label).toBe('DONE');
      expect(server.session(ct).status).toBe('DONE');
      const sent = server.requests.slice(before);
      expect(sent.map((r) => [r.method, r.url.replace(qr.u, '/irma/session/{clientToken}')]), s.label).toEqual(
        s.client.map((c) => [c.method, c.path.replace(/\/$/, c.method === 'GET' ? '/' : '')]),
      );
      sent.forEach((r, i) => {
        const rec = s.client[i];
        expect(Object.keys(r.headers).filter((h) => h.startsWith('x-irma-') || h === 'authorization').sort()).toEqual(
          Object.keys(rec.requestHeaders).sort(),
        );
        expect(r.headers['x-irma-minprotocolversion']).toBe(rec.requestHeaders['x-irma-minprotocolversion']);
        expect(r.headers['x-irma-maxprotocolversion']).toBe(rec.requestHeaders['x-irma-maxprotocolversion']);
        if (rec.requestBody !== undefined) expect(shape(r.body), s.label).toEqual(shape(rec.requestBody));
      });
    }
  });
});
