// The in-memory SchemeRegistry: everything the loader read, indexed for the lookups the
// protocol and crypto layers make while handling sessions.
import type { KeyObject } from 'node:crypto';
import type { PrivateKey, PublicKey } from '../idemix/keys.js';
import type { AttributeType, CredentialType, Issuer, SchemeManager, SchemeRegistry } from './types.js';

function highestCounter<K extends { counter: number }>(keys: Iterable<K>, accept: (k: K) => boolean = () => true): K | undefined {
  let best: K | undefined;
  for (const k of keys) if (accept(k) && (best === undefined || k.counter > best.counter)) best = k;
  return best;
}

export class LoadedSchemeRegistry implements SchemeRegistry {
  private readonly byHash = new Map<string, CredentialType>();
  private readonly attributeTypes = new Map<string, AttributeType>();

  constructor(
    readonly schemes: ReadonlyMap<string, SchemeManager>,
    readonly issuers: ReadonlyMap<string, Issuer>,
    readonly credentialTypes: ReadonlyMap<string, CredentialType>,
    private readonly publicKeys: ReadonlyMap<string, ReadonlyMap<number, PublicKey>>,
    private readonly privateKeys: ReadonlyMap<string, ReadonlyMap<number, PrivateKey>>,
    private readonly keyshareKeys: ReadonlyMap<string, ReadonlyMap<number, KeyObject>> = new Map(),
  ) {
    for (const ct of credentialTypes.values()) {
      this.byHash.set(ct.hashHex, ct);
      // The revocation attribute has no name of its own, so a request can never refer to it.
      for (const at of ct.attributes) if (!at.revocation) this.attributeTypes.set(at.id, at);
    }
  }

  scheme(id: string): SchemeManager | undefined {
    return this.schemes.get(id);
  }

  issuer(id: string): Issuer | undefined {
    return this.issuers.get(id);
  }

  credentialType(id: string): CredentialType | undefined {
    return this.credentialTypes.get(id);
  }

  credentialTypeByHash(hashHex: string): CredentialType | undefined {
    return this.byHash.get(hashHex.toLowerCase());
  }

  attributeType(id: string): AttributeType | undefined {
    return this.attributeTypes.get(id);
  }

  publicKey(issuerId: string, counter: number): PublicKey | undefined {
    return this.publicKeys.get(issuerId)?.get(counter);
  }

  latestPublicKey(issuerId: string, now: number = Math.floor(Date.now() / 1000)): PublicKey | undefined {
    return highestCounter(this.publicKeys.get(issuerId)?.values() ?? [], (pk) => pk.expiryDate >= now);
  }

  privateKey(issuerId: string, counter: number): PrivateKey | undefined {
    return this.privateKeys.get(issuerId)?.get(counter);
  }

  latestPrivateKey(issuerId: string): PrivateKey | undefined {
    return highestCounter(this.privateKeys.get(issuerId)?.values() ?? []);
  }

  keysharePublicKey(schemeId: string, kid: number): KeyObject | undefined {
    return this.keyshareKeys.get(schemeId)?.get(kid);
  }
}
