// The key files of a scheme: issuer public and private keys (checked against each other and
// against their file names) and the keyshare server's RSA keys. Every failure names the file.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { IdemixError } from '../idemix/errors.js';
import { checkKeyPair, parsePrivateKeyXml, parsePublicKeyXml, type PrivateKey, type PublicKey } from '../idemix/keys.js';
import { SchemeError } from './errors.js';

// The metadata attribute stores the key counter in two bytes.
const MAX_COUNTER = 0xffff;
const KEY_FILE = /^(0|[1-9][0-9]{0,4})\.xml$/;

// Key pairs already proven in this process, by all the values checkKeyPair looks at: its primality
// tests cost up to ~0.1 s per 2048-bit key, and a reload (or a test) sees the same keys again.
const provenPairs = new Set<string>();

function checkKeyPairOnce(pk: PublicKey, sk: PrivateKey): void {
  const id = [pk.n, pk.counter, sk.p, sk.q, sk.pPrime, sk.qPrime, sk.n, sk.order, sk.counter].map((v) => v.toString(36)).join(':');
  if (provenPairs.has(id)) return;
  checkKeyPair(pk, sk);
  provenPairs.add(id);
}

/** The pairs proven so far, so a crypto worker loading the same files need not prove them again. */
export function provenKeyPairs(): string[] {
  return [...provenPairs];
}

/** Takes pairs another thread of this process proved; a pair read differently from disk is still checked. */
export function trustProvenKeyPairs(ids: Iterable<string>): void {
  for (const id of ids) provenPairs.add(id);
}

function keyError(path: string, e: unknown): never {
  if (e instanceof SchemeError) throw e;
  if (e instanceof IdemixError) throw new SchemeError('INVALID_KEY', path, e.message, { cause: e });
  throw new SchemeError('INVALID_KEY', path, `key does not parse: ${(e as Error).message}`, { cause: e });
}

function checkCounter(counter: number, path: string): number {
  if (counter > MAX_COUNTER) throw new SchemeError('INVALID_KEY', path, `key counter ${counter} does not fit in two bytes`);
  return counter;
}

/** The counter in a `<counter>.xml` file name. */
export function counterOfFileName(fileName: string, path: string): number {
  const m = KEY_FILE.exec(fileName);
  if (!m) throw new SchemeError('MALFORMED', path, 'key file name must be <counter>.xml');
  return checkCounter(Number(m[1]), path);
}

export function parsePublicKeyFile(xml: string, path: string, issuerId: string, counter: number): PublicKey {
  let pk: PublicKey;
  try {
    pk = parsePublicKeyXml(xml, issuerId);
  } catch (e) {
    keyError(path, e);
  }
  if (pk.counter !== counter) {
    throw new SchemeError('MALFORMED', path, `<Counter> is ${pk.counter} but the file name says ${counter}`);
  }
  return pk;
}

/** Parses a private key and proves (checkKeyPair: p·q = n, safe primes) it belongs to the public key of the same counter. */
export function parsePrivateKeyFile(
  xml: string,
  path: string,
  issuerId: string,
  publicKeys: ReadonlyMap<number, PublicKey> | undefined,
  expectedCounter?: number,
): PrivateKey {
  let sk: PrivateKey;
  try {
    sk = parsePrivateKeyXml(xml, issuerId);
  } catch (e) {
    keyError(path, e);
  }
  checkCounter(sk.counter, path);
  if (expectedCounter !== undefined && sk.counter !== expectedCounter) {
    throw new SchemeError('MALFORMED', path, `<Counter> is ${sk.counter} but the file name says ${expectedCounter}`);
  }
  const pk = publicKeys?.get(sk.counter);
  if (!pk) throw new SchemeError('MISSING_PUBLIC_KEY', path, `no public key ${issuerId}-${sk.counter} for this private key`);
  try {
    checkKeyPairOnce(pk, sk);
  } catch (e) {
    keyError(path, e);
  }
  return sk;
}

/** A `kss-<kid>.pem`: the RSA key that signs the keyshare server's ProofP JWTs. */
export function parseKeyshareKey(pem: Buffer, path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new SchemeError('INVALID_KEY', path, 'keyshare server public key does not parse', { cause: e });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new SchemeError('INVALID_KEY', path, 'keyshare server public key is not RSA');
  return key;
}
