// The fuzz suite (fuzz.ts): 10,000 generated hostile requests across every endpoint, unless
// FUZZ_CASES says otherwise (`npm run fuzz` runs more). A failure names the case and the seed.
import { describe, expect, it } from 'vitest';
import { describeStats, fuzz } from './fuzz.js';

const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

describe('fuzzing every endpoint', () => {
  it(`survives ${CASES} hostile requests with only protocol answers and no refused request changing a session`, async () => {
    const started = Date.now();
    const stats = await fuzz(CASES, SEED);
    console.log(describeStats(stats, Date.now() - started));
    expect(stats.cases).toBe(CASES);
  }, 600_000);
});
