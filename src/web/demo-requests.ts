// The three sessions the demo page offers, built over whatever schemes the server has loaded:
// the generated `demo` scheme, else irma-demo's fullName, else any credential type whose issuer's
// private key is here and whose scheme needs no keyshare server (the demo holder has none).
import type { CredentialType, SchemeRegistry } from '../scheme/types.js';

export type DemoSessionType = 'disclosure' | 'signature' | 'issuance';

export const DEMO_SESSION_TYPES: readonly DemoSessionType[] = ['disclosure', 'signature', 'issuance'];

const PREFERRED = ['demo.Example.person', 'irma-demo.MijnOverheid.fullName'];

/** Sample values: names where the attribute looks like one, else a recognisable filler. */
const SAMPLE_VALUES: Record<string, string> = {
  firstname: 'Alice',
  firstnames: 'Alice',
  familyname: 'Example',
  prefix: 'van',
  over18: 'yes',
  email: 'alice@example.com',
  domain: 'example.com',
};

function usable(schemes: SchemeRegistry, type: CredentialType): boolean {
  const scheme = schemes.scheme(type.schemeId);
  return (
    scheme !== undefined &&
    !scheme.keyshareServer &&
    !type.revocationSupported &&
    schemes.latestPrivateKey(type.issuerId) !== undefined &&
    schemes.latestPublicKey(type.issuerId) !== undefined
  );
}

/** The credential type the demo issues and asks for, or undefined when no loaded one can be issued here. */
export function demoCredentialType(schemes: SchemeRegistry): CredentialType | undefined {
  for (const id of PREFERRED) {
    const type = schemes.credentialType(id);
    if (type && usable(schemes, type)) return type;
  }
  for (const type of schemes.credentialTypes.values()) if (usable(schemes, type)) return type;
  return undefined;
}

/** Attribute values for issuing `type`: every non-optional attribute gets one. */
export function demoAttributes(type: CredentialType): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of type.attributes) {
    if (a.optional || a.randomBlind) continue;
    out[a.shortId] = SAMPLE_VALUES[a.shortId] ?? `demo ${a.shortId}`;
  }
  return out;
}

/** Up to two attributes to ask for: enough to show a conjunction, few enough to read. */
function askedAttributes(type: CredentialType): string[] {
  return type.attributes
    .filter((a) => !a.optional && !a.randomBlind)
    .slice(0, 2)
    .map((a) => a.id);
}

export const DEMO_MESSAGE = 'I agree to the terms of this demo.';

/** The session request (JSON, as a requestor would POST it) for one demo button. */
export function demoRequest(kind: DemoSessionType, type: CredentialType): Record<string, unknown> {
  switch (kind) {
    case 'issuance':
      return {
        '@context': 'https://irma.app/ld/request/issuance/v2',
        credentials: [{ credential: type.id, attributes: demoAttributes(type) }],
      };
    case 'disclosure':
      return { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[askedAttributes(type)]] };
    case 'signature':
      return {
        '@context': 'https://irma.app/ld/request/signature/v2',
        message: DEMO_MESSAGE,
        disclose: [[askedAttributes(type)]],
      };
  }
}
