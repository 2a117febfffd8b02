// Attribute-based signatures with a timestamp, judged as the reference does (spec §8.4): the
// Ed25519 signature, then the scheme's TimestampServer (not the timestamp's own ServerUrl) asked
// whether it trusts the key. Uses the recorded sign-familyname session (signed by a real atum
// server key nobody here made) and a local stand-in for that server.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeB64 } from '../../src/idemix/bigint.js';
import { serializeProofD } from '../../src/idemix/proofs.js';
import { generateSecretKey, PreparedDisclosure } from '../../src/idemix/prover.js';
import { signatureNonce } from '../../src/idemix/signature-nonce.js';
import { timestampMessage } from '../../src/idemix/timestamp.js';
import type { JsonObject, JsonValue } from '../../src/session/session.js';
import { createProofChecker, type CheckerLogger } from '../../src/server/proof-checker.js';
import { createTimestampTrust } from '../../src/server/timestamp-trust.js';
import { REFERENCE_VECTORS } from '../support/reference.js';
import {
  issueDirectly,
  referenceKeyScheme,
  startTimestampStandIn,
  testSchemes,
  type TestSchemes,
  type TimestampStandIn,
} from './proof-checker-support.js';

interface Recorded {
  label: string;
  client: Array<{ requestBody?: unknown; responseBody: unknown }>;
  requestorResult: Record<string, unknown>;
}
const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as {
  recordedAtUnix: number;
  timestampServer: { ed25519PublicKey: string };
  sessions: Recorded[];
};
const recorded = vectors.sessions.find((s) => s.label === 'sign-familyname')!;
const recordedRequest = (recorded.client[0].responseBody as { request: JsonObject }).request;
const recordedMessage = recorded.client[1].requestBody as JsonObject;
const recordedTime = (recordedMessage.timestamp as { Time: number }).Time;
const KEY_HEX = Buffer.from(vectors.timestampServer.ed25519PublicKey, 'base64').toString('hex');
const NOW = vectors.recordedAtUnix * 1000;

class Logs implements CheckerLogger {
  lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  warn(obj: Record<string, unknown>, msg: string): void {
    this.lines.push({ obj, msg });
  }
}

let tsa: TimestampStandIn;
let fx: TestSchemes;
let logs: Logs;

beforeAll(async () => {
  tsa = await startTimestampStandIn();
  fx = await testSchemes(tsa.url, [
    await referenceKeyScheme('tsa-same', { timestampServer: tsa.url }),
    await referenceKeyScheme('tsa-other', { timestampServer: 'http://127.0.0.1:9/' }),
  ]);
});
afterAll(async () => {
  await tsa.close();
  await fx.remove();
});
beforeEach(() => {
  tsa.answers.clear();
  tsa.requests.length = 0;
  logs = new Logs();
});

/** A fresh checker each time, so nothing is cached from an earlier test. */
function checker(timeoutMs = 2000) {
  return createProofChecker(fx.schemes, { timestampTrust: createTimestampTrust({ timeoutMs }), logger: logs });
}

const verifyRecorded = (c = checker()) => c.signature({ request: recordedRequest, message: recordedMessage, now: NOW });

describe('recorded signature (sign-familyname) against a stand-in timestamp server', () => {
  it('is VALID when the scheme’s timestamp server trusts the key, asked once per key', async () => {
    tsa.answers.set(KEY_HEX, { Trusted: true, Expires: Math.floor(Date.now() / 1000) + 3600 });
    const c = checker();
    const out = await verifyRecorded(c);
    expect(out.proofStatus).toBe('VALID');
    expect(out.disclosed).toEqual(recorded.requestorResult.disclosed);
    expect(tsa.requests.map((q) => q.toString())).toEqual([`alg=ed25519&pk=${KEY_HEX}`]);
    // The result shows the server that vouched, as the reference's does, not the one the app named.
    const ts = (out.signature as JsonObject).timestamp as JsonObject;
    expect(ts.ServerUrl).toBe(tsa.url);
    expect({ ...ts, ServerUrl: undefined }).toEqual({ ...(recordedMessage.timestamp as JsonObject), ServerUrl: undefined });
    // The second signature uses the cached answer.
    expect((await verifyRecorded(c)).proofStatus).toBe('VALID');
    expect(tsa.requests).toHaveLength(1);
  });

  it('accepts the RFC 3339 Expires atum servers actually send', async () => {
    tsa.answers.set(KEY_HEX, { Trusted: true, Expires: new Date((recordedTime + 60) * 1000).toISOString() });
    expect((await verifyRecorded()).proofStatus).toBe('VALID');
  });

  it('is INVALID_TIMESTAMP when the server does not trust the key', async () => {
    tsa.answers.set(KEY_HEX, { Trusted: false, Expires: Math.floor(Date.now() / 1000) + 3600 });
    expect((await verifyRecorded()).proofStatus).toBe('INVALID_TIMESTAMP');
    // Untrusted answers are not remembered: the next signature asks again.
    const c = checker();
    await verifyRecorded(c);
    await verifyRecorded(c);
    expect(tsa.requests).toHaveLength(3);
  });

  it('is INVALID_TIMESTAMP when the trust expired before the timestamp was made', async () => {
    tsa.answers.set(KEY_HEX, { Trusted: true, Expires: recordedTime - 1 });
    expect((await verifyRecorded()).proofStatus).toBe('INVALID_TIMESTAMP');
    tsa.answers.set(KEY_HEX, { Trusted: true, Expires: recordedTime });
    expect((await verifyRecorded()).proofStatus).toBe('VALID');
  });

  it('is INVALID_TIMESTAMP, with a warning in the log, when the timestamp server is down', async () => {
    const down = await startTimestampStandIn();
    await down.close();
    const gone = await testSchemes(down.url);
    try {
      const c = createProofChecker(gone.schemes, { timestampTrust: createTimestampTrust(), logger: logs });
      const out = await c.signature({ request: recordedRequest, message: recordedMessage, now: NOW });
      expect(out.proofStatus).toBe('INVALID_TIMESTAMP');
      expect(logs.lines).toHaveLength(1);
      expect(logs.lines[0].msg).toMatch(/timestamp server unreachable/);
      expect(logs.lines[0].obj).toMatchObject({ timestampServer: down.url });
      expect(String(logs.lines[0].obj.detail)).toMatch(/ECONNREFUSED/);
    } finally {
      await gone.remove();
    }
  });

  it('gives up on a timestamp server that does not answer within the deadline', async () => {
    tsa.answers.set(KEY_HEX, 'hang');
    const started = Date.now();
    expect((await verifyRecorded(checker(300))).proofStatus).toBe('INVALID_TIMESTAMP');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(String(logs.lines[0]?.obj.detail)).toMatch(/no answer within 300 ms/);
  });

  it('is INVALID_TIMESTAMP when the timestamp server answers with an error', async () => {
    tsa.answers.set(KEY_HEX, 'error');
    expect((await verifyRecorded()).proofStatus).toBe('INVALID_TIMESTAMP');
    expect(String(logs.lines[0]?.obj.detail)).toMatch(/HTTP status 500/);
  });

  it('does not ask anyone about a timestamp whose signature does not verify', async () => {
    tsa.answers.set(KEY_HEX, { Trusted: true, Expires: Math.floor(Date.now() / 1000) + 3600 });
    const altered = structuredClone(recordedMessage) as { timestamp: { Time: number } };
    altered.timestamp.Time += 1;
    const out = await checker().signature({ request: recordedRequest, message: altered as unknown as JsonValue, now: NOW });
    expect(out.proofStatus).toBe('INVALID_TIMESTAMP');
    expect(tsa.requests).toHaveLength(0);
  });

  it('is INVALID_TIMESTAMP when the scheme names no timestamp server', async () => {
    const none = await testSchemes('');
    try {
      const c = createProofChecker(none.schemes, { timestampTrust: createTimestampTrust(), logger: logs });
      tsa.answers.set(KEY_HEX, { Trusted: true, Expires: Math.floor(Date.now() / 1000) + 3600 });
      expect((await c.signature({ request: recordedRequest, message: recordedMessage, now: NOW })).proofStatus).toBe('INVALID_TIMESTAMP');
      expect(tsa.requests).toHaveLength(0);
    } finally {
      await none.remove();
    }
  });
});

describe('signatures over credentials of two schemes', () => {
  // A timestamp server of our own: an Ed25519 key the stand-in vouches for.
  const tsKey = generateKeyPairSync('ed25519');
  const tsPub = Buffer.from(tsKey.publicKey.export({ format: 'jwk' }).x!, 'base64url');

  function signedMessage(secondScheme: string) {
    // A fixed moment inside the reference issuer key's validity (it expires 2030-01-01), not the wall clock.
    const now = Math.floor(Date.UTC(2026, 10, 22, 9, 0, 0) / 1000);
    const secret = generateSecretKey();
    const a = issueDirectly(fx.schemes, 'irma-demo.MijnOverheid.fullName', ['Alice Bo', 'Alice', 'Example', 'van'], secret, now);
    const b = issueDirectly(fx.schemes, `${secondScheme}.Bank.account`, ['NL00BANK0123456789', 'Alice'], secret, now);
    const pk = (issuer: string) => fx.schemes.publicKey(issuer, 2)!;
    const prepared = new PreparedDisclosure([
      { credential: a, publicKey: pk('irma-demo.MijnOverheid'), disclosed: [3] },
      { credential: b, publicKey: pk(`${secondScheme}.Bank`), disclosed: [2] },
    ]);
    const message = 'I transfer everything';
    const nonce = 77n;
    const T = timestampMessage({
      randomizedA: prepared.randomizedA,
      message,
      disclosed: prepared.disclosed,
      version: 2,
      publicKeys: prepared.publicKeys,
    });
    const signed = Buffer.alloc(8 + T.length);
    signed.writeBigUInt64BE(BigInt(now));
    T.copy(signed, 8);
    const sigData = sign(null, signed, tsKey.privateKey);
    const proofs = prepared.prove(1n, signatureNonce(nonce, message, sigData), true);
    const request: JsonObject = {
      '@context': 'https://irma.app/ld/request/signature/v2',
      context: 'AQ==',
      nonce: encodeB64(nonce),
      protocolVersion: '2.8',
      message,
      disclose: [[['irma-demo.MijnOverheid.fullName.firstname']], [[`${secondScheme}.Bank.account.iban`]]],
    };
    const body: JsonObject = {
      '@context': 'https://irma.app/ld/signature/v2',
      signature: proofs.map((p) => serializeProofD(p)) as unknown as JsonValue[],
      indices: [[{ cred: 0, attr: 3 }], [{ cred: 1, attr: 2 }]],
      nonce: encodeB64(nonce),
      context: 'AQ==',
      message,
      timestamp: {
        Time: now,
        ServerUrl: 'http://not-asked.example/',
        Sig: { Alg: 'ed25519', Data: sigData.toString('base64'), PublicKey: tsPub.toString('base64') },
      },
    };
    return { request, body, now: now * 1000 };
  }

  it('is VALID when both schemes name the same timestamp server', async () => {
    tsa.answers.set(tsPub.toString('hex'), { Trusted: true, Expires: Math.floor(Date.now() / 1000) + 600 });
    const { request, body, now } = signedMessage('tsa-same');
    const out = await checker().signature({ request, message: body, now });
    expect(out.proofStatus).toBe('VALID');
    expect(out.disclosed).toMatchObject([[{ rawvalue: 'Alice' }], [{ rawvalue: 'NL00BANK0123456789' }]]);
  });

  it('is INVALID_TIMESTAMP when they name different ones', async () => {
    tsa.answers.set(tsPub.toString('hex'), { Trusted: true, Expires: Math.floor(Date.now() / 1000) + 600 });
    const { request, body, now } = signedMessage('tsa-other');
    expect((await checker().signature({ request, message: body, now })).proofStatus).toBe('INVALID_TIMESTAMP');
    expect(tsa.requests).toHaveLength(0);
  });
});
