// Requests the server itself makes: callbacks and next-session POSTs (spec §3.5, §9.1).
import type { Session } from '../session/session.js';
import type { ResultSigner } from './result-jwt.js';
import { sessionResult } from './result.js';

/** Deadline of an outbound call (§9.5). */
export const OUTBOUND_TIMEOUT_MS = 20_000;
/** A next-session answer is a session request, which may be as large as one POSTed to /session. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const RETRIES = 2;

export interface OutboundBody {
  contentType: string;
  body: string;
}

/** The result as a JWT when the server has a key, else as JSON. */
export async function resultBody(session: Session, signer: ResultSigner | undefined, now: number): Promise<OutboundBody> {
  if (signer) return { contentType: 'text/plain; charset=UTF-8', body: await signer.resultJwt(session, now) };
  return { contentType: 'application/json; charset=UTF-8', body: JSON.stringify(sessionResult(session)) };
}

export interface OutboundResponse {
  status: number;
  body: string;
}

/**
 * POSTs `payload` to `url`. Only failures to connect are retried (the request may otherwise
 * have had its effect already), twice, after 100–200 ms.
 */
export async function post(url: string, payload: OutboundBody): Promise<OutboundResponse> {
  const signal = AbortSignal.timeout(OUTBOUND_TIMEOUT_MS);
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': payload.contentType, 'User-Agent': 'irmago' },
        body: payload.body,
        signal,
        redirect: 'manual',
      });
      const body = await boundedText(res, MAX_RESPONSE_BYTES);
      if (body === undefined) throw new Error(`response body larger than ${MAX_RESPONSE_BYTES} bytes`);
      return { status: res.status, body };
    } catch (err) {
      if (attempt >= RETRIES || signal.aborted || !isConnectionError(err)) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 100)));
    }
  }
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(code);
}

/** The body as UTF-8, read only up to `maxBytes`: undefined (and the rest discarded) when larger. */
export async function boundedText(res: Response, maxBytes: number): Promise<string | undefined> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
