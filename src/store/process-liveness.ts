// Which server processes are alive, so a claim left by a process that died (kill -9, a crash) is
// taken over at once instead of after its lifetime. In Redis each process keeps a key with a short
// TTL and renews it on a heartbeat; the key expiring is the process's death notice. Redis's own
// clock times it, so clocks of the processes need not agree, and a process id is never reused, so
// a process found dead stays dead.
import { randomBytes } from 'node:crypto';

/** How long a process's liveness key lives without renewal. */
export const LIVENESS_TTL_MS = 1500;
/** How often a process renews its key: a few renewals may fail before it is presumed dead. */
export const HEARTBEAT_MS = 400;

export interface ProcessLiveness {
  /** This process's id (random, new on every start). */
  readonly id: string;
  /** Whether the process with this id is alive; true when that cannot be told (the store is down). */
  isAlive(id: string): Promise<boolean>;
  /**
   * Whether this process's own liveness is confirmed recently enough that no other process can
   * have presumed it dead: checked before effects outside the store (the next-session call).
   */
  confirmed(): boolean;
  /** Stops the heartbeat and announces this process's end, so its claims are taken over at once. */
  close(): Promise<void>;
}

/** The part of the Redis store the heartbeat needs. */
export interface ScriptRunner {
  runScript(text: string, keys: string[], args: string[]): Promise<unknown>;
}

export function runsScripts(store: unknown): store is ScriptRunner {
  return typeof (store as Partial<ScriptRunner>).runScript === 'function';
}

const newId = () => randomBytes(12).toString('hex');

/** Servers in this one Node process (the memory store is not shared beyond it). */
const alive = new Set<string>();

export class LocalLiveness implements ProcessLiveness {
  readonly id = newId();
  constructor() {
    alive.add(this.id);
  }
  async isAlive(id: string): Promise<boolean> {
    return alive.has(id);
  }
  confirmed(): boolean {
    return alive.has(this.id);
  }
  async close(): Promise<void> {
    alive.delete(this.id);
  }
}

const RENEW = `redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) return 1`;
const EXISTS = `return redis.call('EXISTS', KEYS[1])`;
const REMOVE = `return redis.call('DEL', KEYS[1])`;

export interface LivenessLogger {
  warn(obj: object, msg: string): void;
}

export class RedisLiveness implements ProcessLiveness {
  readonly id = newId();
  #lastConfirmed = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #failing = false;

  private constructor(
    private readonly redis: ScriptRunner,
    private readonly logger?: LivenessLogger,
  ) {}

  /** Writes the key once (so claims made right after start are covered), then keeps renewing it. */
  static async start(redis: ScriptRunner, logger?: LivenessLogger): Promise<RedisLiveness> {
    const l = new RedisLiveness(redis, logger);
    await l.#renew();
    l.#timer = setInterval(() => void l.#renew().catch(() => undefined), HEARTBEAT_MS);
    l.#timer.unref();
    return l;
  }

  static key(id: string): string {
    return `irma:process:${id}`;
  }

  async #renew(): Promise<void> {
    const sent = Date.now();
    try {
      await this.redis.runScript(RENEW, [RedisLiveness.key(this.id)], [String(LIVENESS_TTL_MS)]);
      // Counted from when the renewal was sent: the key may have been written at once.
      if (!this.#closed) this.#lastConfirmed = sent;
      if (this.#failing) this.logger?.warn({}, 'process liveness renewed again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.logger?.warn({ err: { name: (err as Error)?.name } }, 'could not renew the process liveness key');
      this.#failing = true;
      throw err;
    }
  }

  async isAlive(id: string): Promise<boolean> {
    if (id === this.id) return !this.#closed;
    try {
      return (await this.redis.runScript(EXISTS, [RedisLiveness.key(id)], [])) === 1;
    } catch {
      // Not knowing is not a death notice.
      return true;
    }
  }

  confirmed(): boolean {
    // Keep a margin: another process may read the key a little after it expired.
    return !this.#closed && Date.now() - this.#lastConfirmed < LIVENESS_TTL_MS - HEARTBEAT_MS;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.redis.runScript(REMOVE, [RedisLiveness.key(this.id)], []).catch(() => undefined);
  }
}
