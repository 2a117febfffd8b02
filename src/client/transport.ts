// HTTP to one session endpoint, the way irmaclient talks to it: every request carries the
// protocol version headers and the client authorization, JSON in and out, and any failure
// becomes a ClientError (a RemoteError body keeps its protocol error type).
import { randomBytes } from 'node:crypto';
import { ClientError, type RemoteError } from './errors.js';

export type FetchFn = typeof fetch;

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
// 248 = 4 * 62: bytes at or above it are dropped so that every character is equally likely.
const TOKEN_BYTE_BOUND = 256 - (256 % TOKEN_ALPHABET.length);

/** A 20-character [a-zA-Z0-9] token from the CSPRNG, the client authorization of protocol 2.8. */
export function newClientAuthorization(length = 20): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte >= TOKEN_BYTE_BOUND) continue;
      out += TOKEN_ALPHABET[byte % TOKEN_ALPHABET.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Far above any protocol message (the server itself takes bodies up to 10 MiB). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** The body as text, refusing to buffer more than `limit` bytes of whatever a server sends. */
export async function readBoundedText(res: Response, limit = MAX_RESPONSE_BYTES): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) {
      await res.body.cancel().catch(() => undefined);
      throw new ClientError('transport', `answer larger than ${limit} bytes`, { httpStatus: res.status });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isRemoteError(v: unknown): v is RemoteError {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.error === 'string' && typeof o.status === 'number';
}

export interface TransportOptions {
  fetch?: FetchFn;
  headers?: Record<string, string>;
  /** Per-request deadline in milliseconds. */
  timeoutMs?: number;
  /** Use the URL as given instead of as a base ending in "/" (static session pointers). */
  exact?: boolean;
}

export class Transport {
  /** Base URL that relative paths are appended to; ends in "/" unless `exact`. */
  readonly base: string;
  readonly headers: Record<string, string>;
  private readonly fetchFn: FetchFn;
  private readonly timeoutMs: number;

  constructor(url: string, opts: TransportOptions = {}) {
    this.base = opts.exact || url.endsWith('/') ? url : url + '/';
    this.headers = { ...(opts.headers ?? {}) };
    this.fetchFn = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  url(path: string): string {
    return this.base + path;
  }

  get(path: string): Promise<unknown> {
    return this.request('GET', path);
  }

  post(path: string, body: unknown): Promise<unknown> {
    return this.request('POST', path, body);
  }

  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }

  /** Opens a streaming GET (server-sent events); the caller owns the returned response body. */
  async stream(path: string, signal: AbortSignal): Promise<Response> {
    try {
      return await this.fetchFn(this.url(path), {
        method: 'GET',
        headers: { ...this.headers, Accept: 'text/event-stream' },
        signal,
      });
    } catch (err) {
      throw new ClientError('transport', `GET ${path || '/'} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { ...this.headers };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(this.url(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await readBoundedText(res);
    } catch (err) {
      if (err instanceof ClientError) throw err;
      throw new ClientError('transport', `${method} ${path || '/'} failed: ${(err as Error).message}`, { cause: err });
    }
    let parsed: unknown;
    let parseFailed = false;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parseFailed = true;
      }
    }
    if (!res.ok) {
      if (isRemoteError(parsed)) {
        const detail = parsed.message ? `: ${parsed.message}` : '';
        throw new ClientError('serverResponse', `server error ${parsed.error} (HTTP ${res.status})${detail}`, {
          remote: parsed,
          httpStatus: res.status,
        });
      }
      throw new ClientError('transport', `${method} ${path || '/'} answered HTTP ${res.status}`, { httpStatus: res.status });
    }
    if (parseFailed) {
      throw new ClientError('invalidRequest', `${method} ${path || '/'} answered a body that is not JSON`, {
        httpStatus: res.status,
      });
    }
    return parsed;
  }
}
