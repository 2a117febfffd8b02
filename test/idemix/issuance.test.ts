// Full round trips with the reference private keys: commit → verify commitments → sign →
// finish → disclose → verify, on 1024- and 2048-bit keys, with random-blind attributes,
// several credentials in one proof list, and attribute-based signatures with a timestamp.
import { generateKeyPairSync, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeAttribute, randomBlindDisplay } from '../../src/idemix/attributes.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { signCredential, verifyIssuanceCommitments } from '../../src/idemix/issuer.js';
import type { PublicKey } from '../../src/idemix/keys.js';
import { createMetadata } from '../../src/idemix/metadata.js';
import {
  parseIssueSignatureMessage,
  parseProofList,
  serializeIssueSignatureMessage,
  serializeProof,
  serializeProofD,
  type ProofU,
} from '../../src/idemix/proofs.js';
import {
  createDisclosureProofs,
  createIssuanceCommitments,
  finishIssuance,
  generateSecretKey,
  PreparedDisclosure,
  type Credential,
  type CredentialRequest,
} from '../../src/idemix/prover.js';
import { signatureNonce } from '../../src/idemix/signature-nonce.js';
import { parseSignedMessage, verifySignedMessage } from '../../src/idemix/signed-message.js';
import { timestampMessage } from '../../src/idemix/timestamp.js';
import { verifyDisclosureProofs } from '../../src/idemix/verifier.js';
import { privateKey, publicKey, randomBlindIndices } from './proof-fixtures.js';

const NOW = 1795335240;
const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const STEMPAS = 'irma-demo.stemmen.stempas';

interface Kind {
  credType: string;
  issuer: string;
  counter: number;
  values: (string | null)[];
}

const fullName: Kind = { credType: FULLNAME, issuer: 'irma-demo.MijnOverheid', counter: 2, values: ['Alice Bo', 'Alice', 'Example', null] };
const stempas: Kind = { credType: STEMPAS, issuer: 'irma-demo.stemmen', counter: 0, values: ['Gemeenteraad 2026', null] };

function ints(k: Kind): bigint[] {
  const meta = createMetadata({ credentialTypeId: k.credType, keyCounter: k.counter, issuedAt: NOW, validUntil: NOW + 182 * 86400 });
  return [meta, ...k.values.map((v) => encodeAttribute(v))];
}

function request(k: Kind): CredentialRequest {
  return { publicKey: publicKey(k.issuer, k.counter), randomBlindIndices: randomBlindIndices(k.credType) };
}

/** One issuance session, every message passed through its JSON form as on the wire. */
function issue(secretKey: bigint, kinds: Kind[], disclose: { credential: Credential; publicKey: PublicKey; disclosed: number[] }[] = []) {
  const nonce = 0x1234567890n;
  const com = createIssuanceCommitments({
    secretKey,
    credentials: kinds.map(request),
    disclosures: disclose,
    context: 1n,
    nonce,
  });
  const wire = parseProofList(JSON.parse(JSON.stringify(com.proofs.map(serializeProof))));
  const verified = verifyIssuanceCommitments({
    proofs: wire,
    disclosureKeys: disclose.map((d) => d.publicKey),
    credentials: kinds.map(request),
    context: 1n,
    nonce,
  });
  const creds = kinds.map((k, i) => {
    const msg = signCredential({
      publicKey: publicKey(k.issuer, k.counter),
      privateKey: privateKey(k.issuer, k.counter),
      U: verified.commitments[i],
      attributes: ints(k),
      randomBlindIndices: randomBlindIndices(k.credType),
      nonce2: com.nonce2,
    });
    const json = JSON.parse(JSON.stringify(serializeIssueSignatureMessage(msg)));
    expect(json.signature.KeyshareP).toBeNull();
    return finishIssuance(com.state, i, parseIssueSignatureMessage(json), ints(k));
  });
  return { creds, verified, com };
}

describe('issuance and disclosure round trips with the reference keys', () => {
  const sk = generateSecretKey();
  let name: Credential;
  let pass: Credential;

  beforeAll(() => {
    const { creds } = issue(sk, [fullName, stempas]);
    [name, pass] = creds;
  });

  it('issues both credentials in one session, secret key at index 0', () => {
    expect(name.attributes[0]).toBe(sk);
    expect(name.attributes.slice(1)).toEqual(ints(fullName));
    expect(name.keyCounter).toBe(2);
    expect(pass.issuerId).toBe('irma-demo.stemmen');
  });

  it('combines the random-blind votingnumber from both shares', () => {
    const vn = pass.attributes[3];
    expect(vn).toBeGreaterThan(0n);
    expect(randomBlindDisplay(vn)).toMatch(/^[0-9a-zA-Z]+$/);
  });

  it('discloses a subset of one 1024-bit credential', () => {
    const pk = publicKey(fullName.issuer, 2);
    const proofs = createDisclosureProofs([{ credential: name, publicKey: pk, disclosed: [3] }], 1n, 99n);
    const wire = parseProofList(JSON.parse(JSON.stringify(proofs.map(serializeProofD)))) as typeof proofs;
    const [res] = verifyDisclosureProofs({ proofs: wire, publicKeys: [pk], context: 1n, nonce: 99n });
    expect([...res.disclosed.keys()]).toEqual([1, 3]);
    expect(res.disclosed.get(3)).toBe(encodeAttribute('Alice'));
    expect(res.metadata.expiry).toBeGreaterThan(NOW);
    expect(() => verifyDisclosureProofs({ proofs: wire, publicKeys: [pk], context: 1n, nonce: 98n })).toThrow(IdemixError);
  });

  it('discloses a null optional attribute and the 2048-bit random-blind attribute in one list', () => {
    const pks = [publicKey(fullName.issuer, 2), publicKey(stempas.issuer, 0)];
    const proofs = createDisclosureProofs(
      [
        { credential: name, publicKey: pks[0], disclosed: [5] },
        { credential: pass, publicKey: pks[1], disclosed: [3] },
      ],
      1n,
      5n,
    );
    const res = verifyDisclosureProofs({ proofs, publicKeys: pks, context: 1n, nonce: 5n });
    expect(res[0].disclosed.get(5)).toBe(0n);
    expect(res[1].disclosed.get(3)).toBe(pass.attributes[3]);
    expect(proofs[0].aResponses.get(0)).toBe(proofs[1].aResponses.get(0));
  });

  it('rejects a list mixing credentials of different secret keys, unless groups differ', () => {
    const other = issue(generateSecretKey(), [fullName]).creds[0];
    const pk = publicKey(fullName.issuer, 2);
    const choices = [
      { credential: name, publicKey: pk, disclosed: [2] },
      { credential: other, publicKey: pk, disclosed: [2] },
    ];
    const proofs = createDisclosureProofs(choices, 1n, 5n);
    expect(() => verifyDisclosureProofs({ proofs, publicKeys: [pk, pk], context: 1n, nonce: 5n })).toThrow(/secret key differs/);
    expect(verifyDisclosureProofs({ proofs, publicKeys: [pk, pk], context: 1n, nonce: 5n, groups: ['.', 'other'] })).toHaveLength(2);
  });

  it('issues with a disclosure in the same proof list (shared secret across ProofD and ProofU)', () => {
    const pk = publicKey(fullName.issuer, 2);
    const { verified, creds } = issue(sk, [fullName], [{ credential: name, publicKey: pk, disclosed: [4] }]);
    expect(verified.disclosed[0].disclosed.get(4)).toBe(encodeAttribute('Example'));
    expect(creds[0].attributes[0]).toBe(sk);
  });

  it('makes and verifies an attribute-based signature with a v2 timestamp', () => {
    const pk = publicKey(fullName.issuer, 2);
    const tsKey = generateKeyPairSync('ed25519');
    const message = 'I hereby sign';
    const nonce = 777n;
    const prep = new PreparedDisclosure([{ credential: name, publicKey: pk, disclosed: [4] }]);
    const T = timestampMessage({ randomizedA: prep.randomizedA, message, disclosed: prep.disclosed, version: 2, publicKeys: prep.publicKeys });
    const time = NOW + 5;
    const signed = Buffer.alloc(8 + T.length);
    signed.writeBigUInt64BE(BigInt(time));
    T.copy(signed, 8);
    const sigData = sign(null, signed, tsKey.privateKey);
    const proofs = prep.prove(1n, signatureNonce(nonce, message, sigData), true);
    expect(() => prep.prove(1n, 1n)).toThrow(/already used/);
    const rawPk = tsKey.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const json = {
      '@context': 'https://irma.app/ld/signature/v2',
      signature: proofs.map(serializeProofD),
      indices: [[{ cred: 0, attr: 4 }]],
      nonce: 'Awk=',
      context: 'AQ==',
      message,
      timestamp: { Time: time, ServerUrl: 'http://ts', Sig: { Alg: 'ed25519', Data: sigData.toString('base64'), PublicKey: rawPk.toString('base64') } },
    };
    const res = verifySignedMessage({ signed: parseSignedMessage(json), publicKeys: [pk], request: { nonce, context: 1n, message } });
    expect(res.credentials[0].disclosed.get(4)).toBe(encodeAttribute('Example'));
    expect(res.timestamp?.time).toBe(time);
    expect(() => verifySignedMessage({ signed: parseSignedMessage({ ...json, message: 'other' }), publicKeys: [pk] })).toThrow(
      /timestamp/,
    );
  });

  it('makes an attribute-based signature without timestamp that only verifies as a signature', () => {
    const pk = publicKey(fullName.issuer, 2);
    const nSig = signatureNonce(5n, 'm', null);
    const proofs = createDisclosureProofs([{ credential: name, publicKey: pk, disclosed: [] }], 1n, nSig, true);
    expect(verifyDisclosureProofs({ proofs, publicKeys: [pk], nonce: nSig, sig: true })).toHaveLength(1);
    expect(() => verifyDisclosureProofs({ proofs, publicKeys: [pk], nonce: nSig })).toThrow(/challenge/);
  });

  it('the holder refuses wrong attributes, a tampered signature or ProofS, and a missing random-blind share', () => {
    const k = fullName;
    const pk = publicKey(k.issuer, k.counter);
    const com = createIssuanceCommitments({ secretKey: sk, credentials: [request(k)], context: 1n, nonce: 1n });
    const msg = signCredential({
      publicKey: pk,
      privateKey: privateKey(k.issuer, k.counter),
      U: (com.proofs[0] as ProofU).U,
      attributes: ints(k),
      nonce2: com.nonce2,
    });
    const wrong = ints(k);
    wrong[2] = encodeAttribute('Mallory');
    expect(() => finishIssuance(com.state, 0, msg, wrong)).toThrow(/signature does not verify/);
    const badV = { ...msg, signature: { ...msg.signature, v: msg.signature.v + 1n } };
    expect(() => finishIssuance(com.state, 0, badV, ints(k))).toThrow(/signature does not verify/);
    const badProof = { ...msg, proof: { ...msg.proof, c: msg.proof.c + 1n } };
    expect(() => finishIssuance(com.state, 0, badProof, ints(k))).toThrow(/ProofS/);
    const extraShare = { ...msg, mIssuer: new Map([[3, 5n]]) };
    expect(() => finishIssuance(com.state, 0, extraShare, ints(k))).toThrow(/unexpected issuer share/);
    expect(finishIssuance(com.state, 0, msg, ints(k)).attributes[0]).toBe(sk);

    const sp = publicKey(stempas.issuer, 0);
    const com2 = createIssuanceCommitments({ secretKey: sk, credentials: [request(stempas)], context: 1n, nonce: 1n });
    const msg2 = signCredential({
      publicKey: sp,
      privateKey: privateKey(stempas.issuer, 0),
      U: (com2.proofs[0] as ProofU).U,
      attributes: ints(stempas),
      randomBlindIndices: [3],
      nonce2: com2.nonce2,
    });
    expect(() => finishIssuance(com2.state, 0, { ...msg2, mIssuer: new Map() }, ints(stempas))).toThrow(/no share/);
  });
});
