// A test issuer certificate chain for SD-JWT VC issuance: a CA and, per issuer, a P-256 leaf with
// the URI subjectAltName that becomes `iss` and what the app looks for (sdjwtvc-issuance.md §4.4:
// digitalSignature, clientAuth, not a CA, and the 2.1.123.1 registration extension). For tests and
// demos only: a production issuer gets its certificate from the Yivi trust list.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  DirectoryString,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { REQUESTOR_INFO_OID } from './certificate-info.js';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';

export interface ChainMember {
  /** PEM certificate. */
  certificate: string;
  /** PEM private key: SEC1 `EC PRIVATE KEY`, the form the issuer key directory wants. */
  privateKey: string;
}

export interface IssuerLeafOptions {
  /** `<scheme>.<issuer>`: named in the registration extension, which authorizes all its credentials. */
  issuerId: string;
  /** Host of the issuer URL: SAN `URI:https://<host>` (the `iss`) and `DNS:<host>`. */
  host: string;
  /** Days from now the certificate stays valid (default 365). */
  days?: number;
  /** Start of validity (default: an hour ago, for clock skew). */
  notBefore?: Date;
  /** Leave out the digitalSignature key usage (to test that holders refuse such a leaf). */
  withoutDigitalSignature?: boolean;
}

function name(cn: string): Name {
  const rdn = (oid: string, value: string) =>
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([rdn(OID_O, 'irma-server-ts test'), rdn(OID_CN, cn)]);
}

function ext(id: string, value: unknown, critical = false): Extension {
  return new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function spkiOf(key: KeyObject): SubjectPublicKeyInfo {
  return AsnConvert.parse(key.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
}

function keyId(spki: SubjectPublicKeyInfo): ArrayBuffer {
  const der = Buffer.from(spki.subjectPublicKey);
  return new Uint8Array(createHash('sha1').update(der).digest()).buffer;
}

function toPem(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

function serial(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // positive
  bytes[0] |= 0x01; // no leading zero byte to trim
  return new Uint8Array(bytes).buffer;
}

interface Signed {
  subject: string;
  subjectKey: KeyObject;
  issuer: Name;
  issuerKey: KeyObject;
  issuerSpki: SubjectPublicKeyInfo;
  notBefore: Date;
  notAfter: Date;
  extensions: Extension[];
}

function certificate(s: Signed): string {
  const spki = spkiOf(s.subjectKey);
  const alg = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial(),
    signature: alg,
    issuer: s.issuer,
    validity: new Validity({ notBefore: s.notBefore, notAfter: s.notAfter }),
    subject: name(s.subject),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      ...s.extensions,
      ext(id_ce_subjectKeyIdentifier, new SubjectKeyIdentifier(keyId(spki))),
      ext(id_ce_authorityKeyIdentifier, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId(s.issuerSpki)) })),
    ]),
  });
  const tbsDer = AsnConvert.serialize(tbs);
  const signature = sign('sha256', Buffer.from(tbsDer), { key: s.issuerKey, dsaEncoding: 'der' });
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: alg, signatureValue: new Uint8Array(signature).buffer });
  return toPem(AsnConvert.serialize(cert));
}

function newKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function sec1(key: KeyObject): string {
  return key.export({ type: 'sec1', format: 'pem' }) as string;
}

const DAY_MS = 86_400_000;

/** A self-signed P-256 CA, valid for `days` (default 3650). */
export function makeTestCa(cn = 'irma-server-ts test SD-JWT VC CA', days = 3650): ChainMember {
  const { privateKey, publicKey } = newKey();
  const notBefore = new Date(Date.now() - 3_600_000);
  const certificatePem = certificate({
    subject: cn,
    subjectKey: publicKey,
    issuer: name(cn),
    issuerKey: privateKey,
    issuerSpki: spkiOf(publicKey),
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * DAY_MS),
    extensions: [
      ext(id_ce_basicConstraints, new BasicConstraints({ cA: true }), true),
      ext(id_ce_keyUsage, keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign), true),
    ],
  });
  return { certificate: certificatePem, privateKey: sec1(privateKey) };
}

function keyUsage(flags: number): KeyUsage {
  const ku = new KeyUsage();
  ku.fromNumber(flags);
  return ku;
}

/** The registration JSON of §4.4 as a UTF8String, authorizing every credential and attribute of the issuer. */
function requestorInfo(issuerId: string, host: string): DirectoryString {
  const json = JSON.stringify({
    registration: `https://${host}/`,
    organization: { legalName: { en: issuerId, nl: issuerId } },
    ap: { authorized: [{ credential: `${issuerId}.*`, attributes: ['*'] }] },
  });
  return new DirectoryString({ utf8String: json });
}

/** An issuer leaf signed by `ca`. */
export function makeIssuerLeaf(ca: ChainMember, opts: IssuerLeafOptions): ChainMember {
  const { privateKey, publicKey } = newKey();
  const caCert = AsnConvert.parse(new X509Certificate(ca.certificate).raw, Certificate).tbsCertificate;
  const notBefore = opts.notBefore ?? new Date(Date.now() - 3_600_000);
  const flags = KeyUsageFlags.keyEncipherment | (opts.withoutDigitalSignature ? 0 : KeyUsageFlags.digitalSignature);
  const certificatePem = certificate({
    subject: opts.host,
    subjectKey: publicKey,
    issuer: caCert.subject,
    issuerKey: createPrivateKey(ca.privateKey),
    issuerSpki: caCert.subjectPublicKeyInfo,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (opts.days ?? 365) * DAY_MS),
    extensions: [
      ext(id_ce_basicConstraints, new BasicConstraints({ cA: false }), true),
      ext(id_ce_keyUsage, keyUsage(flags), true),
      ext(id_ce_extKeyUsage, new ExtendedKeyUsage([id_kp_clientAuth])),
      ext(
        id_ce_subjectAltName,
        new SubjectAlternativeName([
          new GeneralName({ dNSName: opts.host }),
          new GeneralName({ uniformResourceIdentifier: `https://${opts.host}` }),
        ]),
      ),
      ext(REQUESTOR_INFO_OID, requestorInfo(opts.issuerId, opts.host)),
    ],
  });
  return { certificate: certificatePem, privateKey: sec1(privateKey) };
}
