// The size-based estimate the crypto pool refuses and routes jobs by: it must grow with every
// dimension of a job an attacker controls, or a job could slip past the bound by that dimension.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jobCost } from '../../src/server/crypto-cost.js';
import type { VerificationInput } from '../../src/server/proof-port.js';
import type { JsonValue } from '../../src/session/session.js';
import { DEFAULT_BIG_JOB_COST, DEFAULT_MAX_JOB_COST } from '../../src/server/proof-workers.js';
import { REFERENCE_VECTORS } from '../support/reference.js';

const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as {
  sessions: Array<{ label: string; client: Array<{ requestBody?: unknown; responseBody: unknown }> }>;
};
function input(label: string): VerificationInput {
  const s = vectors.sessions.find((x) => x.label === label)!;
  return { request: (s.client[0].responseBody as { request: VerificationInput['request'] }).request, message: s.client[1].requestBody as VerificationInput['message'], now: 0 };
}
function repeated(label: string, list: string, n: number): VerificationInput {
  const i = input(label);
  const m = i.message as Record<string, JsonValue[]>;
  return { ...i, message: { ...m, [list]: Array(n).fill(m[list][0]) } };
}

describe('jobCost', () => {
  it('puts ordinary sessions well below the lane for big jobs', () => {
    for (const [label, kind] of [['disclose-firstname', 'disclosure'], ['disclose-two-credentials', 'disclosure'], ['issue-fullName', 'issuance'], ['issue-stempas-2048', 'issuance']] as const) {
      expect(jobCost(kind, input(label)), label).toBeLessThan(DEFAULT_BIG_JOB_COST / 2);
    }
  });

  it('grows with the number of proofs and with the key size', () => {
    const one = jobCost('disclosure', input('disclose-firstname'));
    expect(jobCost('disclosure', repeated('disclose-firstname', 'proofs', 100))).toBeGreaterThan(50 * one);
    const big = jobCost('disclosure', repeated('disclose-stempas-2048', 'proofs', 1));
    expect(big).toBeGreaterThan(one * 1.5);
  });

  it('counts every credential to issue and its attributes, so 2,000 credentials are over the bound', () => {
    const i = input('issue-fullName');
    const request = i.request as { credentials: Array<Record<string, unknown>> };
    const many = (n: number, attributes: Record<string, string>) => ({
      ...i,
      request: { ...request, credentials: Array(n).fill({ ...request.credentials[0], attributes }) },
    });
    const small = jobCost('issuance', many(10, { a: '1' }));
    expect(jobCost('issuance', many(10, Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`a${k}`, 'x']))))).toBeGreaterThan(small * 2);
    expect(jobCost('issuance', many(2000, { a: '1' }))).toBeGreaterThan(DEFAULT_MAX_JOB_COST);
  });

  it('finds the proof list under any case of its name, as the decoder does', () => {
    const i = repeated('disclose-firstname', 'proofs', 100);
    const { proofs } = i.message as { proofs: JsonValue[] };
    expect(jobCost('disclosure', { ...i, message: { PROOFS: proofs } })).toBe(jobCost('disclosure', i));
  });
});
