// Whether an atum timestamp server vouches for the Ed25519 key that signed a timestamp (spec §8.4):
// `GET <url>checkPublicKey?alg=ed25519&pk=<hex>` answers {"Trusted": bool, "Expires": time}.
// Trusted answers are cached per (server, key) until they expire, as the reference's atum client
// does. A server that cannot be asked makes the timestamp untrusted (the reference then reports
// INVALID_TIMESTAMP); the caller learns why, so it can say so in its log.
import { boundedText } from './outbound.js';

/** Why a timestamp is not trusted; absent when it is. */
export type DistrustReason = 'untrusted' | 'expired' | 'unreachable';

export interface TrustVerdict {
  trusted: boolean;
  reason?: DistrustReason;
  /** Human-readable cause for the log (never contains secrets: URLs and public keys only). */
  detail?: string;
}

export interface TimestampTrust {
  /**
   * Asks (or remembers) whether the server at `serverUrl` trusts `publicKey` (raw 32-byte
   * Ed25519) for a timestamp made at `time` (Unix seconds).
   */
  check(serverUrl: string, publicKey: Uint8Array, time: number): Promise<TrustVerdict>;
}

export interface TimestampTrustOptions {
  /** Deadline of one checkPublicKey call; well under the ~4.2 s an app request may take (§9.5). */
  timeoutMs?: number;
  /** Bound on remembered (server, key) answers. */
  maxEntries?: number;
  /** Milliseconds since the epoch; a test clock. */
  now?: () => number;
  fetch?: typeof fetch;
}

export const TRUST_TIMEOUT_MS = 3_000;
const MAX_ENTRIES = 256;
// A checkPublicKey answer is a few dozen bytes; anything far larger is not one.
const MAX_BODY_BYTES = 16 * 1024;

class UnreachableError extends Error {}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * The answer's Expires: atum servers send Go's time.Time JSON (an RFC 3339 string); Unix seconds
 * are accepted as well. Go's zero time (or a missing field) is long expired.
 */
function expiresSeconds(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  return -Infinity;
}

/** Go decodes JSON field names case-insensitively; so does this. */
function field(obj: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : obj[key];
}

export function createTimestampTrust(opts: TimestampTrustOptions = {}): TimestampTrust {
  const timeoutMs = opts.timeoutMs ?? TRUST_TIMEOUT_MS;
  const maxEntries = opts.maxEntries ?? MAX_ENTRIES;
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetch ?? fetch;
  /** key -> Unix seconds until which the key is trusted; insertion order is recency (LRU). */
  const cache = new Map<string, number>();
  /** Concurrent checks of one key share one request. */
  const inFlight = new Map<string, Promise<{ trusted: boolean; expires: number }>>();

  function remember(key: string, expires: number): void {
    cache.delete(key);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(key, expires);
  }

  async function ask(url: string, pkHex: string): Promise<{ trusted: boolean; expires: number }> {
    const query = new URLSearchParams({ alg: 'ed25519', pk: pkHex });
    let res: Response;
    try {
      res = await doFetch(`${url}checkPublicKey?${query.toString()}`, {
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as Error;
      const cause = (e.cause as { code?: string } | undefined)?.code;
      throw new UnreachableError(e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause ?? e.message));
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new UnreachableError(`HTTP status ${res.status}`);
    }
    let body: unknown;
    try {
      const text = await boundedText(res, MAX_BODY_BYTES);
      if (text === undefined) throw new UnreachableError('answer too large');
      body = JSON.parse(text);
    } catch (err) {
      throw err instanceof UnreachableError ? err : new UnreachableError('answer is not JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new UnreachableError('answer is not a JSON object');
    const b = body as Record<string, unknown>;
    return { trusted: field(b, 'trusted') === true, expires: expiresSeconds(field(b, 'expires')) };
  }

  return {
    async check(serverUrl: string, publicKey: Uint8Array, time: number): Promise<TrustVerdict> {
      const url = withSlash(serverUrl);
      const pkHex = Buffer.from(publicKey).toString('hex');
      const key = `${url} ${pkHex}`;
      const cached = cache.get(key);
      if (cached !== undefined) {
        if (cached * 1000 > now()) {
          remember(key, cached);
          if (cached >= time) return { trusted: true };
        } else {
          cache.delete(key);
        }
      }
      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = ask(url, pkHex).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      let answer: { trusted: boolean; expires: number };
      try {
        answer = await pending;
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        return { trusted: false, reason: 'unreachable', detail: `timestamp server ${url} could not be asked: ${err.message}` };
      }
      // Same order as the reference: an expired key is refused before trust is looked at.
      if (answer.expires < time) {
        return { trusted: false, reason: 'expired', detail: `timestamp server ${url}: trust in key ${pkHex} expired before the timestamp` };
      }
      if (!answer.trusted) return { trusted: false, reason: 'untrusted', detail: `timestamp server ${url} does not trust key ${pkHex}` };
      // Only trusted answers are remembered (as atum does): a key can become trusted at any time.
      if (answer.expires * 1000 > now()) remember(key, answer.expires);
      return { trusted: true };
    },
  };
}
