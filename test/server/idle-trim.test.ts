import { describe, expect, it } from 'vitest';
import { exposedGc, startIdleTrim } from '../../src/server/idle-trim.js';

describe('idle trim', () => {
  function rig(newSpace = 32 * 2 ** 20) {
    let cpu = 0;
    const calls: unknown[] = [];
    const trim = startIdleTrim({ cpuMs: () => cpu, newSpaceBytes: () => newSpace, gc: (o) => calls.push(o) });
    return { trim, calls, spend: (ms: number) => (cpu += ms) };
  }

  it('runs one minor GC once the process has been idle for two looks after being busy', () => {
    const { trim, calls, spend } = rig();
    spend(500);
    trim.tick(); // busy
    trim.tick(); // idle once
    expect(calls).toEqual([]);
    trim.tick(); // idle twice
    expect(calls).toEqual([{ type: 'minor' }]);
    trim.tick();
    trim.tick();
    expect(calls).toHaveLength(1);
    spend(500);
    trim.tick();
    trim.tick();
    trim.tick();
    expect(calls).toHaveLength(2);
    trim.stop();
  });

  it('leaves a young generation that has not grown alone, and does nothing without a gc', () => {
    const small = rig(1 * 2 ** 20);
    small.trim.tick();
    small.trim.tick();
    expect(small.calls).toEqual([]);
    small.trim.stop();
    const none = startIdleTrim({ cpuMs: () => 0, newSpaceBytes: () => 2 ** 30, gc: undefined });
    none.tick();
    none.tick();
    none.stop();
  });

  it('finds V8s gc without --expose-gc, and does not leave it to other contexts', async () => {
    const gc = exposedGc();
    expect(typeof gc).toBe('function');
    gc!({ type: 'minor' });
    const { runInNewContext } = await import('node:vm');
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
