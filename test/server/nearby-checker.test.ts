// Which thread checks a proof: ordinary disclosures and signatures on the server thread while it
// has time to spare, everything else on the crypto workers, with the same answers either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countCalls } from '../../src/server/checker-calls.js';
import { BUSY_UTILIZATION, NearbyChecker, ThreadUse } from '../../src/server/nearby-checker.js';
import { createProofChecker } from '../../src/server/proof-checker.js';
import type { ProofChecker, VerificationInput } from '../../src/server/proof-port.js';
import { ProofWorkerPool } from '../../src/server/proof-workers.js';
import { recordedInput } from '../support/recorded-sessions.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { referenceSchemes } from './harness.js';

let pool: ProofWorkerPool;
let here: ProofChecker;
beforeAll(async () => {
  pool = await ProofWorkerPool.start({ schemes: { schemesPath: REFERENCE_SCHEMES }, size: 1, startWorkers: 0 });
  here = createProofChecker(await referenceSchemes());
});
afterAll(() => pool.close());

/** A NearbyChecker whose server thread reports `use` of a core, and which of its checkers ran. */
function checkerAt(use: number) {
  const local = countCalls(here);
  const workers = countCalls(pool);
  const ran: string[] = [];
  const spy = (name: string, c: ProofChecker): ProofChecker => ({
    disclosure: (i) => (ran.push(name), c.disclosure(i)),
    signature: (i) => (ran.push(name), c.signature(i)),
    issuance: (i) => (ran.push(name), c.issuance(i)),
    warm: () => ran.push(`${name}.warm`),
  });
  const nearby = new NearbyChecker(spy('here', local.checker), Object.assign(spy('pool', workers.checker), { queueDepth: () => pool.queueDepth() }), {
    current: () => use,
  });
  return { nearby, ran };
}

function bigDisclosure(copies: number): VerificationInput {
  const input = recordedInput('disclose-stempas-2048');
  const body = input.message as { proofs: unknown[] };
  return { ...input, message: { ...body, proofs: Array(copies).fill(body.proofs[0]) } } as VerificationInput;
}

describe('NearbyChecker', () => {
  it('checks an ordinary disclosure and a signature on this thread while it is not busy, with the answers the workers give', async () => {
    const { nearby, ran } = checkerAt(0.1);
    for (const label of ['disclose-firstname', 'sign-familyname']) {
      const input = recordedInput(label);
      const kind = label.startsWith('sign') ? 'signature' : 'disclosure';
      const nearbyOutcome = await nearby[kind](input);
      // (The recorded signature's timestamp is from a server these tests do not trust.)
      expect(nearbyOutcome.proofStatus).toBe(kind === 'disclosure' ? 'VALID' : 'INVALID_TIMESTAMP');
      expect(nearbyOutcome).toEqual(await pool[kind](input));
    }
    expect(ran).toEqual(['here', 'here']);
  });

  it('sends every job to the workers once this thread is busy', async () => {
    const { nearby, ran } = checkerAt(BUSY_UTILIZATION + 0.01);
    expect((await nearby.disclosure(recordedInput('disclose-firstname'))).proofStatus).toBe('VALID');
    expect(ran).toEqual(['pool']);
  });

  it('sends big jobs and issuance to the workers even when this thread idles', async () => {
    const { nearby, ran } = checkerAt(0);
    expect((await nearby.disclosure(bigDisclosure(4))).proofStatus).toBe('INVALID');
    const issuance = recordedInput('issue-stempas-2048');
    await nearby.issuance(issuance).catch(() => undefined);
    expect(ran).toEqual(['pool', 'pool']);
  });

  it('starts the workers when an issuance starts, not for other sessions, busy or not', () => {
    const idle = checkerAt(0.1);
    idle.nearby.warm('disclosing');
    idle.nearby.warm('signing');
    expect(idle.ran).toEqual([]);
    idle.nearby.warm('issuing');
    expect(idle.ran).toEqual(['pool.warm']);
    const busy = checkerAt(BUSY_UTILIZATION + 0.1);
    busy.nearby.warm('disclosing');
    expect(busy.ran).toEqual([]);
  });
});

describe('ThreadUse', () => {
  it('reads near a full core while this thread computes and near none while it waits', async () => {
    const use = new ThreadUse();
    // Each reading covers at least half a second.
    const spinUntil = performance.now() + 600;
    while (performance.now() < spinUntil) Math.sqrt(Math.random());
    const busy = use.current();
    await new Promise((r) => setTimeout(r, 600));
    const idle = use.current();
    // On a loaded machine the spinning thread may get less than a core; a waiting one gets none.
    expect(idle).toBeLessThan(0.2);
    expect(busy).toBeGreaterThan(idle + 0.3);
  });
});
