// The machine is shared with other processes, so a figure is the best of several short rounds:
// the fastest round is the closest to the unloaded cost.

/** Milliseconds per call of `f` in the fastest of `rounds` rounds of about `roundMs` each. */
export function bestMsPerOp(f: () => unknown, rounds: number, roundMs: number): number {
  f();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < roundMs || n < 2) {
      f();
      n++;
      now = performance.now();
    }
    best = Math.min(best, (now - start) / n);
  }
  return best;
}

/**
 * Like bestMsPerOp, but in CPU time of this process rather than wall time: on a shared machine
 * a round that loses the core to another process still counts only the work done in it.
 */
export function bestCpuMsPerOp(f: () => unknown, rounds: number, roundMs: number): number {
  f();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = process.cpuUsage();
    const wallStart = performance.now();
    let used = 0;
    while (used < roundMs * 1000 || n < 2) {
      f();
      n++;
      if ((n & 7) === 0 || performance.now() - wallStart > roundMs * 4) {
        const d = process.cpuUsage(start);
        used = d.user + d.system;
      }
    }
    const d = process.cpuUsage(start);
    best = Math.min(best, (d.user + d.system) / 1000 / n);
  }
  return best;
}
