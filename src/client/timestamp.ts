// Asking an atum timestamp server to sign the nonce of an attribute-based signature. The
// request and answer follow go-atum's JSON; the Ed25519 signature over uint64_BE(Time) || nonce
// is checked before the timestamp goes into a signature (whether its key is trusted is for the
// verifier to ask the scheme's timestamp server).
import { verifyTimestampSignature } from '../idemix/timestamp.js';
import { ClientError } from './errors.js';
import { readBoundedText, type FetchFn } from './transport.js';

export interface Timestamp {
  Time: number;
  ServerUrl: string;
  Sig: { Alg: 'ed25519'; Data: string; PublicKey: string };
}

function parseTimestamp(v: unknown): Timestamp | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const t = v as Record<string, unknown>;
  const sig = t.Sig as Record<string, unknown> | null | undefined;
  if (!Number.isSafeInteger(t.Time) || (t.Time as number) < 0 || typeof t.ServerUrl !== 'string') return undefined;
  if (typeof sig !== 'object' || sig === null || sig.Alg !== 'ed25519') return undefined;
  if (typeof sig.Data !== 'string' || typeof sig.PublicKey !== 'string') return undefined;
  return { Time: t.Time as number, ServerUrl: t.ServerUrl, Sig: { Alg: 'ed25519', Data: sig.Data, PublicKey: sig.PublicKey } };
}

/** POSTs the nonce to the atum server at `serverUrl` and returns its checked Ed25519 timestamp. */
export async function requestTimestamp(serverUrl: string, nonce: Uint8Array, fetchFn: FetchFn = fetch): Promise<Timestamp> {
  const url = serverUrl.endsWith('/') ? serverUrl : serverUrl + '/';
  const body = { Nonce: Buffer.from(nonce).toString('base64'), ProofOfWork: null, Time: null, PreferredSigAlg: 'ed25519' };
  let answer: unknown;
  try {
    const res = await fetchFn(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    answer = JSON.parse(await readBoundedText(res));
  } catch (err) {
    throw new ClientError('timestamp', `timestamp server ${url} failed: ${(err as Error).message}`, { cause: err });
  }
  const a = (answer ?? {}) as Record<string, unknown>;
  if (typeof a.Error === 'string') throw new ClientError('timestamp', `timestamp server ${url} reported: ${a.Error}`);
  const ts = parseTimestamp(a.Stamp);
  if (!ts) throw new ClientError('timestamp', `timestamp server ${url} sent no usable ed25519 timestamp`);
  const sig = {
    time: ts.Time,
    alg: ts.Sig.Alg,
    data: Buffer.from(ts.Sig.Data, 'base64'),
    publicKey: Buffer.from(ts.Sig.PublicKey, 'base64'),
  };
  if (!verifyTimestampSignature(sig, nonce)) throw new ClientError('timestamp', `timestamp from ${url} has an invalid signature`);
  return ts;
}
