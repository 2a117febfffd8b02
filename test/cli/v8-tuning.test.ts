import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TUNING = fileURLToPath(new URL('../../src/cli/v8-tuning.ts', import.meta.url));

/**
 * How many calls V8 makes of a small function before it optimises it, in a fresh node (with
 * compilation made synchronous, so the count is exact): a measure of the interrupt budget in effect.
 */
function callsBeforeOptimising(flags: string[], withTuning: boolean): number {
  const probe = `
    ${withTuning ? 'await import(process.env.TUNING);' : ''}
    function f(x) { let s = 0; for (let i = 0; i < 10; i++) s += x * i; return s; }
    let n = 0;
    for (; n < 1e6; n++) { f(n); if (%GetOptimizationStatus(f) & 16) break; }
    console.log(n);`;
  const args = ['--import', 'tsx', '--allow-natives-syntax', '--no-concurrent-recompilation', ...flags, '--input-type=module', '-e', probe];
  return Number(execFileSync(process.execPath, args, { env: { ...process.env, TUNING }, encoding: 'utf8' }).trim());
}

describe('V8 tuning of the server process', () => {
  it('doubles the bytecode V8 runs before optimising a function', () => {
    const plain = callsBeforeOptimising([], false);
    const tuned = callsBeforeOptimising([], true);
    expect(plain).toBeGreaterThan(10);
    expect(tuned / plain).toBeGreaterThan(1.6);
    expect(tuned / plain).toBeLessThan(2.5);
  });

  it("leaves a budget given on node's command line alone", () => {
    const given = callsBeforeOptimising(['--interrupt-budget=16896'], true);
    const plain = callsBeforeOptimising([], false);
    expect(given).toBeLessThan(plain / 2);
  });
});
