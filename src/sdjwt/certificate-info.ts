// What the SD-JWT VC parts need from an X.509 certificate beyond node:crypto's view: the URI
// names of the subjectAltName (the issuer URL, sdjwtvc-issuance.md §4.2) and the key usage bits
// the app requires (§6 step 4). Parsed from DER, so no name with a comma is ever split wrongly.
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Certificate,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import type { X509Certificate } from 'node:crypto';

/** OID of the Yivi extension carrying the issuer's registration JSON (§4.4). */
export const REQUESTOR_INFO_OID = '2.1.123.1';

export interface CertificateInfo {
  /** URI entries of the subjectAltName, in certificate order. */
  uris: string[];
  /** Undefined when the certificate has no keyUsage extension. */
  digitalSignature?: boolean;
  /** The extension 2.1.123.1 is present. */
  requestorInfo: boolean;
}

export function certificateInfo(cert: X509Certificate): CertificateInfo {
  const parsed = AsnConvert.parse(cert.raw, Certificate);
  const info: CertificateInfo = { uris: [], requestorInfo: false };
  for (const ext of parsed.tbsCertificate.extensions ?? []) {
    if (ext.extnID === id_ce_subjectAltName) {
      for (const name of AsnConvert.parse(ext.extnValue, SubjectAlternativeName)) {
        if (name.uniformResourceIdentifier !== undefined) info.uris.push(name.uniformResourceIdentifier);
      }
    } else if (ext.extnID === id_ce_keyUsage) {
      const usage = AsnConvert.parse(ext.extnValue, KeyUsage);
      info.digitalSignature = (usage.toNumber() & KeyUsageFlags.digitalSignature) !== 0;
    } else if (ext.extnID === REQUESTOR_INFO_OID) {
      info.requestorInfo = true;
    }
  }
  return info;
}

/** Every CERTIFICATE block of a PEM text, in order; other blocks are skipped. */
export function pemCertificates(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0] + '\n');
}
