// Issuer public and private keys and their XML form (the IssuerPublicKey / IssuerPrivateKey
// files of an irma_configuration scheme).
import { bitLength, decodeDecimal, isProbablePrime } from './bigint.js';
import { IdemixError } from './errors.js';
import { parseOrderedXml, type XmlElement } from './ordered-xml.js';
import { registerFixedBases } from './modexp.js';
import { systemParameters, type SystemParameters } from './params.js';

export interface PublicKey {
  issuerId?: string;
  counter: number;
  expiryDate: number;
  n: bigint;
  Z: bigint;
  S: bigint;
  G?: bigint;
  H?: bigint;
  R: bigint[];
  ecdsa?: string;
  params: SystemParameters;
}

export interface PrivateKey {
  issuerId?: string;
  counter: number;
  expiryDate: number;
  p: bigint;
  q: bigint;
  pPrime: bigint;
  qPrime: bigint;
  n: bigint;
  /** p'q', the order of the quadratic residues mod n. */
  order: bigint;
  ecdsa?: string;
}

const NAMESPACE = 'http://www.zurich.ibm.com/security/idemix';

function parseRoot(xml: string, rootName: string): XmlElement {
  let roots: XmlElement[];
  try {
    roots = parseOrderedXml(xml);
  } catch (e) {
    throw new IdemixError('MALFORMED', `key ${(e as Error).message}`);
  }
  if (roots.length !== 1 || roots[0].name !== rootName) {
    throw new IdemixError('MALFORMED', `expected one <${rootName}> root element`);
  }
  return roots[0];
}

function child(parent: XmlElement, name: string): XmlElement | undefined {
  const found = parent.children.filter((c) => c.name === name);
  if (found.length > 1) throw new IdemixError('MALFORMED', `duplicate <${name}> element`);
  return found[0];
}

function required(parent: XmlElement, name: string): XmlElement {
  const el = child(parent, name);
  if (!el) throw new IdemixError('MALFORMED', `missing <${name}> element`);
  return el;
}

// A 4096-bit value has 1234 decimal digits; longer text cannot be a key element and is refused
// before paying for a huge BigInt parse.
const MAX_DIGITS = 1240;

function decimal(text: string, name: string): bigint {
  if (text.length > MAX_DIGITS) throw new IdemixError('INVALID_KEY', `${name} is larger than any supported key`);
  return decodeDecimal(text, name);
}

function requiredInt(parent: XmlElement, name: string): bigint {
  return decimal(required(parent, name).text, name);
}

function optionalInt(parent: XmlElement, name: string): bigint | undefined {
  const el = child(parent, name);
  return el ? decimal(el.text, name) : undefined;
}

function smallInt(parent: XmlElement, name: string): number {
  const v = requiredInt(parent, name);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new IdemixError('MALFORMED', `${name} is too large`);
  return Number(v);
}

function optionalText(parent: XmlElement, name: string): string | undefined {
  const el = child(parent, name);
  return el && el.text !== '' ? el.text : undefined;
}

export function parsePublicKeyXml(xml: string, issuerId?: string): PublicKey {
  const root = parseRoot(xml, 'IssuerPublicKey');
  const elements = required(root, 'Elements');
  const n = requiredInt(elements, 'n');
  const params = systemParameters(bitLength(n));
  const bases = required(elements, 'Bases');
  const R = bases.children.map((b) => decimal(b.text, `base ${b.name}`));
  const num = bases.attrs.num;
  if (num === undefined || !/^[0-9]+$/.test(num) || Number(num) !== R.length) {
    throw new IdemixError('MALFORMED', `Bases@num (${num}) does not match ${R.length} bases`);
  }
  const pk: PublicKey = {
    counter: smallInt(root, 'Counter'),
    expiryDate: smallInt(root, 'ExpiryDate'),
    n,
    Z: requiredInt(elements, 'Z'),
    S: requiredInt(elements, 'S'),
    R,
    params,
  };
  if (issuerId !== undefined) pk.issuerId = issuerId;
  const G = optionalInt(elements, 'G');
  const H = optionalInt(elements, 'H');
  const ecdsa = optionalText(root, 'ECDSA');
  if (G !== undefined) pk.G = G;
  if (H !== undefined) pk.H = H;
  if (ecdsa !== undefined) pk.ecdsa = ecdsa;
  // Group elements outside (0, n) cannot come from a real key generator and would make the
  // verification equations degenerate.
  const groupElements: Array<[string, bigint | undefined]> = [['Z', pk.Z], ['S', pk.S], ['G', G], ['H', H]];
  R.forEach((r, i) => groupElements.push([`Base_${i}`, r]));
  for (const [name, v] of groupElements) {
    if (v !== undefined && (v === 0n || v >= n)) throw new IdemixError('INVALID_KEY', `${name} is not in (0, n)`);
  }
  registerFixedBases(n, [pk.S, pk.Z, ...R]);
  return pk;
}

export function parsePrivateKeyXml(xml: string, issuerId?: string): PrivateKey {
  const root = parseRoot(xml, 'IssuerPrivateKey');
  const elements = required(root, 'Elements');
  const p = requiredInt(elements, 'p');
  const q = requiredInt(elements, 'q');
  const pPrime = requiredInt(elements, 'pPrime');
  const qPrime = requiredInt(elements, 'qPrime');
  // An <n> element in old files is ignored on purpose: n is always p·q.
  const sk: PrivateKey = {
    counter: smallInt(root, 'Counter'),
    expiryDate: smallInt(root, 'ExpiryDate'),
    p,
    q,
    pPrime,
    qPrime,
    n: p * q,
    order: pPrime * qPrime,
  };
  if (issuerId !== undefined) sk.issuerId = issuerId;
  const ecdsa = optionalText(root, 'ECDSA');
  if (ecdsa !== undefined) sk.ecdsa = ecdsa;
  return sk;
}

/**
 * Throws INVALID_KEY unless the private key is the factorisation of the public key's n into
 * safe primes p = 2p'+1, q = 2q'+1, with the same counter.
 */
export function checkKeyPair(pk: PublicKey, sk: PrivateKey): void {
  if (sk.p * sk.q !== pk.n || sk.n !== pk.n) throw new IdemixError('INVALID_KEY', 'p·q does not equal n');
  if (sk.p !== 2n * sk.pPrime + 1n || sk.q !== 2n * sk.qPrime + 1n) {
    throw new IdemixError('INVALID_KEY', "p, q are not 2p'+1, 2q'+1");
  }
  if (sk.order !== sk.pPrime * sk.qPrime) throw new IdemixError('INVALID_KEY', "order is not p'q'");
  if (sk.counter !== pk.counter) throw new IdemixError('INVALID_KEY', 'key counters differ');
  // Last, as the costliest check: signing relies on p, q being safe primes.
  for (const x of [sk.pPrime, sk.qPrime, sk.p, sk.q]) {
    if (!isProbablePrime(x)) throw new IdemixError('INVALID_KEY', 'p, q are not safe primes');
  }
}

const HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n';

function line(depth: number, s: string): string {
  return '   '.repeat(depth) + s + '\n';
}

function leaf(depth: number, name: string, v: bigint | number | string): string {
  return line(depth, `<${name}>${v.toString()}</${name}>`);
}

/** gabi's layout: header, three-space indentation, fixed element order. */
export function publicKeyToXml(pk: PublicKey): string {
  let s = HEADER + `<IssuerPublicKey xmlns="${NAMESPACE}">\n`;
  s += leaf(1, 'Counter', pk.counter) + leaf(1, 'ExpiryDate', pk.expiryDate);
  s += line(1, '<Elements>');
  s += leaf(2, 'n', pk.n) + leaf(2, 'Z', pk.Z) + leaf(2, 'S', pk.S);
  if (pk.G !== undefined) s += leaf(2, 'G', pk.G);
  if (pk.H !== undefined) s += leaf(2, 'H', pk.H);
  s += line(2, `<Bases num="${pk.R.length}">`);
  pk.R.forEach((r, i) => (s += leaf(3, `Base_${i}`, r)));
  s += line(2, '</Bases>') + line(1, '</Elements>');
  s += line(1, '<Features>') + line(2, '<Epoch length="432000"></Epoch>') + line(1, '</Features>');
  if (pk.ecdsa !== undefined) s += leaf(1, 'ECDSA', pk.ecdsa);
  return s + '</IssuerPublicKey>\n';
}

export function privateKeyToXml(sk: PrivateKey): string {
  let s = HEADER + `<IssuerPrivateKey xmlns="${NAMESPACE}">\n`;
  s += leaf(1, 'Counter', sk.counter) + leaf(1, 'ExpiryDate', sk.expiryDate);
  s += line(1, '<Elements>');
  s += leaf(2, 'p', sk.p) + leaf(2, 'q', sk.q) + leaf(2, 'pPrime', sk.pPrime) + leaf(2, 'qPrime', sk.qPrime);
  s += line(1, '</Elements>');
  if (sk.ecdsa !== undefined) s += leaf(1, 'ECDSA', sk.ecdsa);
  return s + '</IssuerPrivateKey>\n';
}
