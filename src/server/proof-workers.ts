// The ProofChecker on a pool of worker threads, so proof verification and issuance signing use
// every core and never block the event loop that serves HTTP. Each worker loads the schemes from
// disk itself and runs the same checker the server would run on its own thread (proof-worker.ts).
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ProtocolError } from '../protocol/errors.js';
import type { LoadSchemesOptions } from '../scheme/loader.js';
import type { DisclosureOutcome, IssuanceOutcome, ProofChecker, SignatureOutcome, VerificationInput } from './proof-port.js';
import {
  errorFromWire,
  type CheckKind,
  type CheckRequest,
  type WorkerMessage,
  type WorkerSetup,
} from './proof-worker-wire.js';

export interface ProofWorkerPoolOptions {
  /** Where every worker loads the schemes from (paths, not a registry: objects do not cross threads). */
  schemes: LoadSchemesOptions;
  /** Number of worker threads, at least 1. */
  size: number;
  /** Calls that may wait for a free worker; beyond that a call fails at once with TOO_MANY_REQUESTS. */
  maxQueue?: number;
  /** A call running longer than this on a worker restarts that worker (its calls fail). */
  callTimeoutMs?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_QUEUE = 1024;
/**
 * Honest proofs take milliseconds and input sizes are bounded before they reach a worker, so a
 * call this slow means a stuck worker: replacing it is the only way to get the core back.
 */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/**
 * Calls handed to one worker before it answers. Two keep a worker busy while the next message is
 * in transit, without putting many calls at risk when a worker dies.
 */
const PER_WORKER = 2;
/** Pause before replacing a worker that died before it was ready, so a broken setup cannot spin. */
const RESPAWN_DELAY_MS = 1000;

interface Call {
  id: number;
  kind: CheckKind;
  input: VerificationInput;
  resolve(value: unknown): void;
  reject(err: Error): void;
  deadline?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  calls: Map<number, Call>;
}

/**
 * Under tsx or vitest this module is TypeScript, which a fresh worker thread cannot load on its
 * own; the .mjs bootstrap registers tsx first. Compiled, the worker is plain JavaScript.
 */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./proof-worker-bootstrap.mjs', import.meta.url)
    : new URL('./proof-worker.js', import.meta.url);
}

function workerStopped(): ProtocolError {
  return new ProtocolError('INTERNAL_ERROR', 'crypto worker stopped');
}

/** Fails a call that was running on a worker that is gone. */
function stopped(call: Call): void {
  clearTimeout(call.deadline);
  call.reject(workerStopped());
}

export class ProofWorkerPool implements ProofChecker {
  private readonly slots = new Set<Slot>();
  private readonly queue: Call[] = [];
  private readonly maxQueue: number;
  private nextId = 1;
  private closed = false;
  private respawnTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: ProofWorkerPoolOptions) {
    this.maxQueue = opts.maxQueue ?? DEFAULT_MAX_QUEUE;
  }

  /** Starts `size` workers and resolves once every one has loaded the schemes; rejects if one cannot. */
  static async start(opts: ProofWorkerPoolOptions): Promise<ProofWorkerPool> {
    if (!Number.isSafeInteger(opts.size) || opts.size < 1) throw new RangeError('a worker pool needs at least one worker');
    const pool = new ProofWorkerPool(opts);
    try {
      await Promise.all(Array.from({ length: opts.size }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Checks waiting for a free worker (read by the metrics at scrape time). */
  get queueDepth(): number {
    return this.queue.length;
  }

  get size(): number {
    return this.slots.size;
  }

  disclosure(input: VerificationInput): Promise<DisclosureOutcome> {
    return this.call('disclosure', input) as Promise<DisclosureOutcome>;
  }

  signature(input: VerificationInput): Promise<SignatureOutcome> {
    return this.call('signature', input) as Promise<SignatureOutcome>;
  }

  issuance(input: VerificationInput): Promise<IssuanceOutcome> {
    return this.call('issuance', input) as Promise<IssuanceOutcome>;
  }

  /** Stops every worker; calls still waiting or running fail with INTERNAL_ERROR. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.respawnTimer);
    for (const call of this.queue.splice(0)) call.reject(workerStopped());
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) for (const call of slot.calls.values()) stopped(call);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private call(kind: CheckKind, input: VerificationInput): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(workerStopped());
      const call: Call = { id: this.nextId++, kind, input, resolve, reject };
      const slot = this.freeSlot();
      if (slot) return this.send(slot, call);
      if (this.queue.length >= this.maxQueue) {
        return reject(new ProtocolError('TOO_MANY_REQUESTS', 'the crypto queue is full'));
      }
      this.queue.push(call);
    });
  }

  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.ready && s.calls.size < PER_WORKER && (!best || s.calls.size < best.calls.size)) best = s;
    }
    return best;
  }

  private send(slot: Slot, call: Call): void {
    const req: CheckRequest = { id: call.id, kind: call.kind, input: call.input };
    try {
      slot.worker.postMessage(req);
    } catch {
      // Only input that is not plain data gets here (it cannot be cloned); the server never sends such.
      call.reject(new ProtocolError('INTERNAL_ERROR', 'verification input cannot be sent to a crypto worker'));
      return;
    }
    slot.calls.set(call.id, call);
    call.deadline = setTimeout(() => {
      if (!slot.calls.has(call.id)) return;
      this.opts.logger?.warn({ kind: call.kind }, 'crypto call exceeded its deadline; restarting the worker');
      // The exit handler fails the worker's calls and starts a replacement.
      void slot.worker.terminate();
    }, this.opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    call.deadline.unref();
  }

  private pump(): void {
    for (let slot = this.freeSlot(); slot && this.queue.length > 0; slot = this.freeSlot()) {
      this.send(slot, this.queue.shift()!);
    }
  }

  /** Adds one worker; resolves when it is ready, rejects when it dies first. */
  private spawn(): Promise<void> {
    const setup: WorkerSetup = { schemes: this.opts.schemes };
    const worker = new Worker(workerUrl(), { workerData: setup });
    const slot: Slot = { worker, ready: false, calls: new Map() };
    this.slots.add(slot);
    return new Promise((resolve, reject) => {
      let failure: Error | undefined;
      worker.on('message', (m: WorkerMessage) => {
        if ('log' in m) {
          this.opts.logger?.warn(m.details, m.msg);
          return;
        }
        if ('ready' in m) {
          slot.ready = true;
          resolve();
          this.pump();
          return;
        }
        const call = slot.calls.get(m.id);
        if (!call) return;
        slot.calls.delete(m.id);
        clearTimeout(call.deadline);
        if (m.ok) call.resolve(m.result);
        else call.reject(errorFromWire(m.error));
        this.pump();
      });
      worker.on('error', (err) => {
        failure = err;
        // The name only: a message could echo request data.
        this.opts.logger?.error({ err: { name: err.name } }, 'crypto worker crashed');
      });
      worker.on('exit', (code) => {
        if (this.closed || !this.slots.delete(slot)) return;
        for (const call of slot.calls.values()) stopped(call);
        if (!slot.ready) {
          reject(failure ?? new Error(`crypto worker exited with code ${code} while loading the schemes`));
          // Nothing may wait on a pool whose workers cannot start.
          if (this.readySlots() === 0) for (const call of this.queue.splice(0)) call.reject(workerStopped());
          this.respawnLater();
          return;
        }
        this.opts.logger?.warn({ code }, 'crypto worker exited; starting a new one');
        this.spawn().catch(() => undefined);
      });
    });
  }

  private readySlots(): number {
    let n = 0;
    for (const s of this.slots) if (s.ready) n++;
    return n;
  }

  private respawnLater(): void {
    if (this.respawnTimer) return;
    this.respawnTimer = setTimeout(() => {
      this.respawnTimer = undefined;
      const missing = this.opts.size - this.slots.size;
      for (let i = 0; i < missing && !this.closed; i++) this.spawn().catch(() => undefined);
    }, RESPAWN_DELAY_MS);
    this.respawnTimer.unref();
  }
}
