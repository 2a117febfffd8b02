import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/errors.js';
import { requestTimestamp } from '../../src/client/timestamp.js';
import { parseMetadata } from '../../src/idemix/metadata.js';
import { parseProofDList } from '../../src/idemix/proofs.js';
import { timestampMessage } from '../../src/idemix/timestamp.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { REFERENCE_SCHEMES, REFERENCE_VECTORS } from '../support/reference.js';

const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8'));
const signing = vectors.sessions.find((s: { label: string }) => s.label === 'sign-familyname');
const signed = signing.client[1].requestBody;

let schemes: SchemeRegistry;
beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
});

/** A stand-in atum server answering every request with `answer(request)`. */
function atum(answer: (req: Record<string, unknown>) => unknown) {
  const seen: { url: string; body: Record<string, unknown> }[] = [];
  const fetchFn = async (input: string | URL | Request, init: RequestInit = {}) => {
    const body = JSON.parse(String(init.body));
    seen.push({ url: String(input), body });
    const a = answer(body);
    return new Response(typeof a === 'string' ? a : JSON.stringify(a));
  };
  return { fetchFn, seen };
}

async function expectTimestampError(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(ClientError);
  await expect(p).rejects.toMatchObject({ type: 'timestamp' });
}

describe('atum timestamps', () => {
  it('accepts the timestamp the reference client got for the recorded signature', async () => {
    const proofs = parseProofDList(signed.signature);
    const T = timestampMessage({
      randomizedA: proofs.map((p) => p.A),
      message: signed.message,
      disclosed: proofs.map((p) => p.aDisclosed),
      version: 2,
      publicKeys: proofs.map((p) => {
        const meta = parseMetadata(p.aDisclosed.get(1)!);
        const type = schemes.credentialTypeByHash(meta.credentialTypeHashHex)!;
        return schemes.publicKey(type.issuerId, meta.keyCounter)!;
      }),
    });
    const { fetchFn, seen } = atum(() => ({ Error: null, Stamp: signed.timestamp, Info: null }));
    const ts = await requestTimestamp('http://127.0.0.1:48690', T, fetchFn);
    expect(ts).toEqual(signed.timestamp);
    expect(seen[0].url).toBe('http://127.0.0.1:48690/');
    expect(seen[0].body).toEqual({ Nonce: T.toString('base64'), ProofOfWork: null, Time: null, PreferredSigAlg: 'ed25519' });
    // The same stamp does not fit another nonce.
    const other = Buffer.from(T);
    other[0] ^= 1;
    await expectTimestampError(requestTimestamp('http://127.0.0.1:48690/', other, fetchFn));
  });

  it('refuses error answers, other algorithms and garbage', async () => {
    const nonce = Buffer.alloc(32, 7);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pk = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    const stamp = (time: number, alg = 'ed25519') => {
      const msg = Buffer.concat([Buffer.alloc(8), nonce]);
      msg.writeBigUInt64BE(BigInt(time));
      return { Time: time, ServerUrl: 'x', Sig: { Alg: alg, Data: sign(null, msg, privateKey).toString('base64'), PublicKey: pk } };
    };
    const good = atum(() => ({ Stamp: stamp(1700000000) }));
    expect((await requestTimestamp('http://atum.test', nonce, good.fetchFn)).Time).toBe(1700000000);

    await expectTimestampError(requestTimestamp('http://atum.test', nonce, atum(() => ({ Error: 'too much lag' })).fetchFn));
    await expectTimestampError(requestTimestamp('http://atum.test', nonce, atum(() => ({ Stamp: stamp(1, 'xmssmt') })).fetchFn));
    await expectTimestampError(requestTimestamp('http://atum.test', nonce, atum(() => ({ Stamp: { ...stamp(5), Time: 6 } })).fetchFn));
    await expectTimestampError(requestTimestamp('http://atum.test', nonce, atum(() => 'not json').fetchFn));
    await expectTimestampError(requestTimestamp('http://atum.test', nonce, atum(() => ({ Stamp: { Time: -1 } })).fetchFn));
    const down = async () => {
      throw new TypeError('fetch failed');
    };
    await expectTimestampError(requestTimestamp('http://atum.test', nonce, down));
  });
});
