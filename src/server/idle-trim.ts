// Gives the young generation back once the server goes idle after a burst.
//
// Under load V8 grows the young generation (new space) up to 32 MB, and shrinks it only in a
// garbage collection that runs while little is being allocated. An idle server runs none: nothing
// allocates, and V8's memory reducer, which would, is not re-armed by a burst that grew the old
// generation by less than 10 MB (10,000 open sessions are ~9 MB). So a server that had a burst kept
// ~30 MB of young generation for good: 3,000 of the ~4,000 bytes of RSS per open session measured
// after 10,000 session starts. One minor GC (a scavenge: it visits only what is young, ~1 ms) once
// the process has been idle for a while shrinks it back to 1 MB.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the process's CPU time is looked at. */
const TICK_MS = 5_000;
/** Ticks in a row with at most IDLE_CPU_MS of CPU (all threads) before trimming. */
const IDLE_TICKS = 2;
const IDLE_CPU_MS = 50;
/** New space (both semi-spaces) above this has grown; V8 starts it at 1 MB. */
const GROWN_BYTES = 2 * 2 ** 20;

type Gc = (options?: { type?: 'minor' | 'major' }) => void;

export interface IdleTrimDeps {
  /** CPU time of the process so far, in ms. */
  cpuMs?: () => number;
  /** Bytes of V8's new space now. */
  newSpaceBytes?: () => number;
  /** Undefined: trimming is off (no way to ask V8 for a GC). */
  gc?: Gc;
}

export interface IdleTrim {
  stop(): void;
  /** One look, as the timer takes every TICK_MS; for tests. */
  tick(): void;
}

export function startIdleTrim(deps: IdleTrimDeps = {}): IdleTrim {
  const cpuMs = deps.cpuMs ?? processCpuMs;
  const newSpaceBytes = deps.newSpaceBytes ?? v8NewSpaceBytes;
  const gc = 'gc' in deps ? deps.gc : exposedGc();
  let last = cpuMs();
  let idleTicks = 0;
  // Once per idle period: a scavenge that did not shrink the space would not the next time either.
  let trimmed = false;
  const tick = (): void => {
    const now = cpuMs();
    const used = now - last;
    last = now;
    if (used > IDLE_CPU_MS) {
      idleTicks = 0;
      trimmed = false;
      return;
    }
    if (++idleTicks < IDLE_TICKS || trimmed || gc === undefined) return;
    trimmed = true;
    if (newSpaceBytes() > GROWN_BYTES) gc({ type: 'minor' });
  };
  const timer = setInterval(tick, TICK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), tick };
}

function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function v8NewSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * V8's gc function without starting node with --expose-gc: the flag takes effect for contexts
 * made after it is set, so one new context hands it over; the flag is turned off again at once,
 * so no other context gets it. Undefined when this V8 refuses.
 */
export function exposedGc(): Gc | undefined {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as Gc;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as Gc) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
