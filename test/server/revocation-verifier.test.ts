// The verifier's side of revocation on the reference's recorded sessions: each recorded proof
// with a nonrev_proof is VALID with notrevoked against the request the app got, INVALID against
// a request that handed out a newer accumulator, and carries notrevokedbefore once the
// accumulator is older than the tolerance.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { createProofChecker } from '../../src/server/proof-checker.js';
import type { ProofChecker } from '../../src/server/proof-port.js';
import type { JsonObject, JsonValue } from '../../src/session/session.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { exchange, recordedSession } from '../revocation/fixtures.js';

let schemes: SchemeRegistry;
let checker: ProofChecker;

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  checker = createProofChecker(schemes);
});

const LABELS = ['disclose-bsn-nonrevoked', 'disclose-bsn-witness-update', 'disclose-bsn-at-verifier'];

function recorded(label: string) {
  const s = recordedSession(label);
  const request = exchange(s, 'GET', '/').responseBody.request as JsonObject;
  const message = exchange(s, 'POST', '/proofs').requestBody as JsonValue;
  return { s, request, message, now: s.recordedAtUnix * 1000 };
}

describe('recorded revocation disclosures', () => {
  for (const label of LABELS) {
    it(`${label}: VALID, notrevoked`, async () => {
      const { request, message, now } = recorded(label);
      const r = await checker.disclosure({ request, message, now });
      expect(r.proofStatus).toBe('VALID');
      const attrs = (r.disclosed as JsonObject[][]).flat();
      expect(attrs.length).toBeGreaterThan(0);
      for (const a of attrs) {
        expect(a.notrevoked).toBe(true);
        expect(a.notrevokedbefore).toBeUndefined();
      }
      expect(attrs[0].rawvalue).toBeDefined();
    });
  }

  it('is INVALID when the server had handed out a newer accumulator than the proof uses', async () => {
    const old = recorded('disclose-bsn-nonrevoked');
    const newer = recorded('disclose-bsn-witness-update');
    const request = { ...old.request, revocation: newer.request.revocation };
    expect((await checker.disclosure({ request, message: old.message, now: old.now })).proofStatus).toBe('INVALID');
  });

  it('accepts a newer accumulator than the one handed out (the stale verifier)', async () => {
    const stale = recorded('disclose-bsn-nonrevoked');
    const newer = recorded('disclose-bsn-witness-update');
    const request = { ...newer.request, revocation: stale.request.revocation };
    expect((await checker.disclosure({ request, message: newer.message, now: newer.now })).proofStatus).toBe('VALID');
  });

  it('adds notrevokedbefore once the accumulator is older than the tolerance', async () => {
    const { request, message, now } = recorded('disclose-bsn-nonrevoked');
    const late = await checker.disclosure({ request, message, now: now + 3600_000 });
    expect(late.proofStatus).toBe('VALID');
    const attr = (late.disclosed as JsonObject[][])[0][0];
    expect(attr.notrevoked).toBe(true);
    expect(typeof attr.notrevokedbefore).toBe('number');
    // A larger tolerance in the request covers the same delay.
    const rev = request.revocation as Record<string, JsonObject>;
    const tolerant = { ...request, revocation: Object.fromEntries(Object.entries(rev).map(([k, v]) => [k, { ...v, tolerance: 7200 }])) };
    const ok = await checker.disclosure({ request: tolerant, message, now: now + 3600_000 });
    expect((ok.disclosed as JsonObject[][])[0][0].notrevokedbefore).toBeUndefined();
  });

  it('is INVALID when a nonrev_proof is tampered with', async () => {
    const { request, message, now } = recorded('disclose-bsn-nonrevoked');
    const m = structuredClone(message) as { proofs: { nonrev_proof: { C_u: string } }[] };
    m.proofs[0].nonrev_proof.C_u = m.proofs[0].nonrev_proof.C_u.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await checker.disclosure({ request, message: m as unknown as JsonValue, now })).proofStatus).toBe('INVALID');
  });
});
