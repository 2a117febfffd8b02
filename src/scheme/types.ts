// What the rest of the server knows about an irma_configuration: schemes, issuers,
// credential types and attribute types, each with its full dotted identifier.
import type { KeyObject } from 'node:crypto';
import type { PublicKey, PrivateKey } from '../idemix/keys.js';

export type Translated = Record<string, string>; // language code -> text ("en", "nl", ...)

export interface SchemeManager {
  id: string; // "irma-demo"
  url: string;
  demo: boolean;
  timestampServer?: string;
  keyshareServer?: string; // non-empty => distributed scheme (keyshare proofs)
  name: Translated;
  path: string; // folder on disk
}

export interface Issuer {
  id: string; // "irma-demo.MijnOverheid"
  schemeId: string;
  shortId: string; // "MijnOverheid"
  name: Translated;
}

export interface AttributeType {
  id: string; // "irma-demo.MijnOverheid.fullName.firstname"
  shortId: string; // "firstname"
  credentialTypeId: string;
  /** Position j in the credential type (document order); the gabi index is j + 2. */
  index: number;
  optional: boolean;
  randomBlind: boolean;
  revocation: boolean;
  name: Translated;
}

export interface CredentialType {
  id: string; // "irma-demo.MijnOverheid.fullName"
  schemeId: string;
  issuerId: string; // "irma-demo.MijnOverheid"
  shortId: string; // "fullName"
  name: Translated;
  attributes: AttributeType[]; // document order
  singleton: boolean;
  revocationSupported: boolean;
  /** <RevocationServers> URLs, in order (empty without revocation). */
  revocationServers?: string[];
  /** <RevocationUpdateCount>: events sent in session requests and fetched by syncs (default 16). */
  revocationUpdateCount?: number;
  /** First 16 bytes of SHA-256 of the id, as in the metadata attribute (lower-case hex). */
  hashHex: string;
}

/** Read-only lookups over all loaded schemes. */
export interface SchemeRegistry {
  schemes: ReadonlyMap<string, SchemeManager>;
  issuers: ReadonlyMap<string, Issuer>;
  credentialTypes: ReadonlyMap<string, CredentialType>;
  scheme(id: string): SchemeManager | undefined;
  issuer(id: string): Issuer | undefined;
  credentialType(id: string): CredentialType | undefined;
  /** By the 16-byte type hash found in a metadata attribute (lower-case hex). */
  credentialTypeByHash(hashHex: string): CredentialType | undefined;
  attributeType(id: string): AttributeType | undefined;
  publicKey(issuerId: string, counter: number): PublicKey | undefined;
  /** The newest (highest counter) public key of an issuer that has not expired at `now` (Unix s). */
  latestPublicKey(issuerId: string, now?: number): PublicKey | undefined;
  /** Private keys come from the schemes' PrivateKeys folders and the configured privkeys folder. */
  privateKey(issuerId: string, counter: number): PrivateKey | undefined;
  /** The issuer signs with its highest-counter private key. */
  latestPrivateKey(issuerId: string): PrivateKey | undefined;
  /** RSA key `<scheme>/kss-<kid>.pem` that verifies a distributed scheme's keyshare (ProofP) JWTs. */
  keysharePublicKey?(schemeId: string, kid: number): KeyObject | undefined;
}
