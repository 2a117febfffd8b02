// Issuance and disclosure for a distributed scheme (spec §9): the holder proves its part of the
// secret, a simulated keyshare server its own (P = R_0^x, Pcommit = R_0^w, ProofP in an RS256
// JWT signed with the scheme's kss-0 key), and the checker merges the ProofP before verifying.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAttribute } from '../../src/idemix/attributes.js';
import { encodeB64, randomBits } from '../../src/idemix/bigint.js';
import type { PublicKey } from '../../src/idemix/keys.js';
import { mergeProofP } from '../../src/idemix/keyshare.js';
import { createMetadata } from '../../src/idemix/metadata.js';
import { modPow } from '../../src/idemix/modexp.js';
import { parseIssueSignatureMessage, serializeProof, serializeProofD, type Proof, type ProofD } from '../../src/idemix/proofs.js';
import {
  createDisclosureProofs,
  createIssuanceCommitments,
  finishIssuance,
  generateSecretKey,
  type Credential,
  type DisclosureChoice,
} from '../../src/idemix/prover.js';
import { verifyCLSignature } from '../../src/idemix/signature.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import type { JsonObject, JsonValue } from '../../src/session/session.js';
import { createProofChecker } from '../../src/server/proof-checker.js';
import { issueDirectly, referenceKeyScheme, testSchemes, type TestSchemes } from './proof-checker-support.js';

const SCHEME = 'kss-demo';
const CRED = `${SCHEME}.Bank.account`;

let fx: TestSchemes;
let kssKey: KeyObject;
let pk: PublicKey;
const checker = () => createProofChecker(fx.schemes, { logger: { warn: () => undefined } });

beforeAll(async () => {
  fx = await testSchemes('http://127.0.0.1:9/', [await referenceKeyScheme(SCHEME, { keyshareServer: 'https://kss.example/' })]);
  kssKey = createPrivateKey(fx.keysharePrivateKeys.get(SCHEME)!);
  pk = fx.schemes.publicKey(`${SCHEME}.Bank`, 2)!;
});
afterAll(async () => fx.remove());

/** The keyshare server's side for one user: its secret x, and per session a randomizer w. */
class SimulatedKeyshare {
  readonly x = randomBits(pk.params.Lm - 1);
  private w = 0n;
  get P(): bigint {
    return modPow(pk.R[0], this.x, pk.n);
  }
  commit(): { P: bigint; Pcommit: bigint } {
    this.w = randomBits(pk.params.LmCommit);
    return { P: this.P, Pcommit: modPow(pk.R[0], this.w, pk.n) };
  }
  /** ProofP for challenge c, on top of the holder's own response (s̃ + c·sk). */
  proofP(c: bigint, userResponse: bigint, x = this.x) {
    return { c, sResponse: userResponse + this.w + c * x };
  }
  jwt(c: bigint, userResponse: bigint, opts: { key?: KeyObject; sub?: string; kid?: string; x?: bigint } = {}): Promise<string> {
    const pp = this.proofP(c, userResponse, opts.x);
    return new SignJWT({ ProofP: { c: encodeB64(pp.c), s_response: encodeB64(pp.sResponse) } })
      .setProtectedHeader({ alg: 'RS256', ...(opts.kid === undefined ? {} : { kid: opts.kid }) })
      .setSubject(opts.sub ?? 'ProofP')
      .setIssuer('kss.example')
      .setIssuedAt()
      .sign(opts.key ?? kssKey);
  }
}

// A fixed moment inside the reference issuer key's validity (it expires 2030-01-01), not the wall clock.
const NOW_MS = Date.UTC(2026, 10, 22, 9, 0, 0);
const nowSeconds = () => Math.floor(NOW_MS / 1000);
const VALIDITY = nowSeconds() + 3600 * 24 * 90;
const ATTRS = { iban: 'NL00BANK0123456789', holder: 'Alice' };

function issuanceRequest(nonce: bigint, disclose?: JsonValue): JsonObject {
  return {
    '@context': 'https://irma.app/ld/request/issuance/v2',
    context: 'AQ==',
    nonce: encodeB64(nonce),
    protocolVersion: '2.8',
    credentials: [{ credential: CRED, validity: VALIDITY, keyCounter: 2, attributes: ATTRS }],
    ...(disclose === undefined ? {} : { disclose }),
  };
}

interface Prepared {
  request: JsonObject;
  message: JsonObject;
  proofs: Proof[];
  finish(sig: JsonValue): Credential;
}

/** The holder's IssueCommitmentMessage, with the keyshare server's commitments folded in. */
function commitments(secret: bigint, kss: SimulatedKeyshare, disclosures: DisclosureChoice[] = []): Prepared {
  const nonce = randomBits(128);
  const com = createIssuanceCommitments({
    secretKey: secret,
    credentials: [{ publicKey: pk, keyshare: kss.commit() }],
    disclosures,
    context: 1n,
    nonce,
  });
  const disclose = disclosures.length ? [[['irma-demo.MijnOverheid.fullName.firstname']]] : undefined;
  return {
    request: issuanceRequest(nonce, disclose),
    message: {
      n_2: encodeB64(com.nonce2),
      combinedProofs: com.proofs.map((p) => serializeProof(p)) as unknown as JsonValue[],
      ...(disclosures.length ? { indices: [[{ cred: 0, attr: 3 }]] } : {}),
    },
    proofs: com.proofs,
    finish: (sig) => {
      const attributes = [
        createMetadata({ credentialTypeId: CRED, keyCounter: 2, issuedAt: nowSeconds(), validUntil: VALIDITY }),
        encodeAttribute(ATTRS.iban),
        encodeAttribute(ATTRS.holder),
      ];
      return finishIssuance(com.state, 0, parseIssueSignatureMessage(sig), attributes);
    },
  };
}

const proofU = (p: Prepared) => p.proofs[p.proofs.length - 1] as Extract<Proof, { kind: 'ProofU' }>;

async function rejection(promise: Promise<unknown>): Promise<ProtocolError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a rejection');
}

describe('keyshare issuance', () => {
  it('merges the ProofP and issues a credential the holder completes with its own P', async () => {
    const secret = generateSecretKey();
    const kss = new SimulatedKeyshare();
    const p = commitments(secret, kss);
    const u = proofU(p);
    const message = { ...p.message, proofPJwts: { [SCHEME]: await kss.jwt(u.c, u.sResponse) } };
    const out = await checker().issuance({ request: p.request, message, now: NOW_MS });
    expect(out.proofStatus).toBe('VALID');
    expect(out.sigs).toHaveLength(1);
    expect((out.sigs[0] as { signature: { KeyshareP: unknown } }).signature.KeyshareP).toBeNull();
    const cred = p.finish(out.sigs[0]);
    expect(cred.signature.keyshareP).toBe(kss.P);
    // The credential is bound to the whole secret: without P it is not a signature at all.
    expect(verifyCLSignature(pk, cred.signature, cred.attributes)).toBe(true);
    expect(verifyCLSignature(pk, { ...cred.signature, keyshareP: null }, cred.attributes)).toBe(false);
  });

  it('keeps separate secret-key groups for the distributed and the other schemes', async () => {
    const secret = generateSecretKey();
    const kss = new SimulatedKeyshare();
    const demo = issueDirectly(fx.schemes, 'irma-demo.MijnOverheid.fullName', ['Alice Bo', 'Alice', 'Example', 'van'], secret, nowSeconds());
    const p = commitments(secret, kss, [{ credential: demo, publicKey: fx.schemes.publicKey('irma-demo.MijnOverheid', 2)!, disclosed: [3] }]);
    const u = proofU(p);
    const message = { ...p.message, proofPJwts: { [SCHEME]: await kss.jwt(u.c, u.sResponse) } };
    const out = await checker().issuance({ request: p.request, message, now: NOW_MS });
    expect(out.proofStatus).toBe('VALID');
    expect(out.disclosed).toMatchObject([[{ id: 'irma-demo.MijnOverheid.fullName.firstname', rawvalue: 'Alice' }]]);
    p.finish(out.sigs[0]);
  });

  it('is KEYSHARE_PROOF_MISSING (403) without a valid ProofP JWT for the scheme', async () => {
    const kss = new SimulatedKeyshare();
    const p = commitments(generateSecretKey(), kss);
    const u = proofU(p);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const good = await kss.jwt(u.c, u.sResponse);
    const bad: Array<[string, Record<string, string> | undefined]> = [
      ['no proofPJwts', undefined],
      ['JWT under another scheme', { 'irma-demo': good }],
      ['signed by another key', { [SCHEME]: await kss.jwt(u.c, u.sResponse, { key: other }) }],
      ['wrong subject', { [SCHEME]: await kss.jwt(u.c, u.sResponse, { sub: 'ProofQ' }) }],
      ['unknown key id', { [SCHEME]: await kss.jwt(u.c, u.sResponse, { kid: '1' }) }],
      ['bad key id', { [SCHEME]: await kss.jwt(u.c, u.sResponse, { kid: 'x' }) }],
      ['unsigned', { [SCHEME]: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${good.split('.')[1]}.` }],
      ['not a JWT', { [SCHEME]: 'garbage' }],
      ['tampered payload', { [SCHEME]: good.replace(/\.[^.]+\./, `.${Buffer.from('{"sub":"ProofP","ProofP":{"c":"AQ==","s_response":"AQ=="}}').toString('base64url')}.`) }],
    ];
    for (const [label, jwts] of bad) {
      const message = jwts === undefined ? p.message : { ...p.message, proofPJwts: jwts };
      const err = await rejection(checker().issuance({ request: p.request, message, now: NOW_MS }));
      expect(err.type, label).toBe('KEYSHARE_PROOF_MISSING');
      expect(err.status, label).toBe(403);
    }
    // The kid of the one key there is, and the good token itself, are accepted.
    const withKid = { ...p.message, proofPJwts: { [SCHEME]: await kss.jwt(u.c, u.sResponse, { kid: '0' }) } };
    expect((await checker().issuance({ request: p.request, message: withKid, now: NOW_MS })).proofStatus).toBe('VALID');
  });

  it('is INVALID_PROOFS when the keyshare response is not for the P in the commitment', async () => {
    const kss = new SimulatedKeyshare();
    const p = commitments(generateSecretKey(), kss);
    const u = proofU(p);
    const message = { ...p.message, proofPJwts: { [SCHEME]: await kss.jwt(u.c, u.sResponse, { x: kss.x + 1n }) } };
    const err = await rejection(checker().issuance({ request: p.request, message, now: NOW_MS }));
    expect(err.type).toBe('INVALID_PROOFS');
  });
});

describe('keyshare disclosure', () => {
  it('verifies a disclosure of a distributed and a non-distributed credential together', async () => {
    const secret = generateSecretKey();
    const kss = new SimulatedKeyshare();
    const issued = commitments(secret, kss);
    const u = proofU(issued);
    const out = await checker().issuance({
      request: issued.request,
      message: { ...issued.message, proofPJwts: { [SCHEME]: await kss.jwt(u.c, u.sResponse) } },
      now: NOW_MS,
    });
    const account = issued.finish(out.sigs[0]);
    const demo = issueDirectly(fx.schemes, 'irma-demo.MijnOverheid.fullName', ['Alice Bo', 'Alice', 'Example', 'van'], secret, nowSeconds());

    const nonce = randomBits(128);
    const { Pcommit } = kss.commit();
    const [dDemo, dAccount] = createDisclosureProofs(
      [
        { credential: demo, publicKey: fx.schemes.publicKey('irma-demo.MijnOverheid', 2)!, disclosed: [3] },
        { credential: account, publicKey: pk, disclosed: [2], keyshare: { Pcommit } },
      ],
      1n,
      nonce,
    );
    // For disclosures the app merges the ProofP itself before sending.
    const merged = mergeProofP(dAccount, { P: null, ...kss.proofP(dAccount.c, dAccount.aResponses.get(0)!) }, pk) as ProofD;
    const request: JsonObject = {
      '@context': 'https://irma.app/ld/request/disclosure/v2',
      context: 'AQ==',
      nonce: encodeB64(nonce),
      protocolVersion: '2.8',
      disclose: [[['irma-demo.MijnOverheid.fullName.firstname']], [[`${CRED}.iban`]]],
    };
    const disclose = (proofs: ProofD[]) =>
      checker().disclosure({
        request,
        message: { proofs: proofs.map((p) => serializeProofD(p)) as unknown as JsonValue[], indices: [[{ cred: 0, attr: 3 }], [{ cred: 1, attr: 2 }]] },
        now: NOW_MS,
      });
    const ok = await disclose([dDemo, merged]);
    expect(ok.proofStatus).toBe('VALID');
    expect(ok.disclosed).toMatchObject([[{ rawvalue: 'Alice' }], [{ rawvalue: ATTRS.iban }]]);
    // Without the keyshare server's part the proof of the distributed credential fails.
    expect((await disclose([dDemo, dAccount])).proofStatus).toBe('INVALID');
  });
});
