import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LeanHistogram } from '../../src/server/lean-histogram.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.5, 1];

describe('LeanHistogram', () => {
  it("renders what prom-client's Histogram renders for the same observations", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            route: fc.constantFrom('/session', '/irma/session/:ct', 'a"b\\c'),
            status: fc.constantFrom('200', '400'),
            value: fc.oneof(fc.constantFrom(0, ...BUCKETS, 2), fc.double({ min: 0, max: 3, noNaN: true })),
          }),
          { maxLength: 40 },
        ),
        async (observations) => {
          const theirs = new Registry();
          const ours = new Registry();
          const reference = new Histogram({ name: 'h', help: 'help "text"', labelNames: ['route', 'status'], buckets: BUCKETS, registers: [theirs] });
          const lean = new LeanHistogram('h', 'help "text"', ['route', 'status'], BUCKETS, ours);
          for (const { route, status, value } of observations) {
            reference.observe({ route, status }, value);
            lean.observe({ route, status }, value);
          }
          expect(await ours.metrics()).toBe(await theirs.metrics());
        },
      ),
      { numRuns: 60 },
    );
  });

  it('times with startTimer, adding the labels given at the end', async () => {
    const registry = new Registry();
    const lean = new LeanHistogram('t', 'timer', ['kind', 'proof_status'], BUCKETS, registry);
    const end = lean.startTimer({ kind: 'disclosure' });
    await new Promise((r) => setTimeout(r, 20));
    end({ proof_status: 'VALID' });
    const text = await registry.metrics();
    expect(text).toContain('t_bucket{le="0.01",kind="disclosure",proof_status="VALID"} 0');
    expect(text).toContain('t_bucket{le="+Inf",kind="disclosure",proof_status="VALID"} 1');
    expect(Number(/t_sum\{[^}]*\} (\S+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(0.015);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('t_count');
  });
});
