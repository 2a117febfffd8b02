// Outbound GET/POST to revocation servers: CBOR bodies, a deadline, and a cap on what is read.
import { RevocationError } from './errors.js';

export const FETCH_TIMEOUT_MS = 20_000;
/** 512 events of ~25 bytes plus accumulators: far below this. */
export const MAX_RESPONSE_BYTES = 1 << 20;

async function readBounded(res: Response): Promise<Uint8Array> {
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new RevocationError('REVOCATION', 'revocation server response too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export async function fetchCbor(url: string, init: { method?: string; body?: Uint8Array } = {}): Promise<{ status: number; body: Uint8Array }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      body: init.body === undefined ? undefined : Buffer.from(init.body),
      headers: { 'Content-Type': 'application/octet-stream', 'User-Agent': 'irma-server-ts' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (e) {
    throw new RevocationError('REVOCATION', `revocation server ${new URL(url).origin} unreachable: ${(e as Error).message}`);
  }
  return { status: res.status, body: await readBounded(res) };
}
