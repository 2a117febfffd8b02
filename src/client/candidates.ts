// Which credentials in the wallet can answer a condiscon, and the choice the client makes when
// nobody chooses for it. Pure: the wallet, the request and the clock come in as arguments.
import { ClientError } from './errors.js';
import type { AttributeRequest, Condiscon } from './messages.js';
import type { WalletCredential } from './wallet.js';

/** One attribute to disclose, taken from one credential in the wallet. */
export interface AttributeChoice {
  /** The requested identifier: a 4-part attribute id, or a 3-part credential type id. */
  id: string;
  credentialId: string;
  /** The disclosed value: null for an absent optional attribute, "present" for a 3-part id. */
  rawValue: string | null;
}

/** One way to satisfy one inner conjunction; the empty list answers an optional disjunction. */
export type ConjunctionOption = AttributeChoice[];

/** Per disjunction of the request: every option the wallet can satisfy, in preference order. */
export type Candidates = ConjunctionOption[][];

/** Per disjunction of the request: the option to disclose. */
export type DisclosureChoice = ConjunctionOption[];

export interface CandidateOptions {
  /** Unix seconds; expired credentials are not offered. */
  now: number;
  /** Credential types whose expiry the verifier ignores (request `skipExpiryCheck`). */
  skipExpiryCheck?: readonly string[];
}

function credentialTypeOf(id: string): string {
  const parts = id.split('.');
  return parts.length === 4 ? parts.slice(0, 3).join('.') : id;
}

function isCredentialRequest(id: string): boolean {
  return id.split('.').length === 3;
}

function valueOf(cred: WalletCredential, ar: AttributeRequest): string | null | undefined {
  if (isCredentialRequest(ar.type)) return 'present';
  const short = ar.type.split('.')[3];
  return Object.prototype.hasOwnProperty.call(cred.attributes, short) ? cred.attributes[short] : undefined;
}

/** irmago's AttributeRequest.Satisfy: a required value must match, notNull forbids absence. */
function satisfies(ar: AttributeRequest, value: string | null | undefined): boolean {
  if (value === undefined) return false;
  if (ar.notNull && value === null) return false;
  if (ar.value !== undefined && ar.value !== null && value !== ar.value) return false;
  return true;
}

function preferNewest(a: WalletCredential, b: WalletCredential): number {
  return b.issuedAt - a.issuedAt || b.storedAt - a.storedAt;
}

function conjunctionOptions(con: AttributeRequest[], wallet: readonly WalletCredential[], opts: CandidateOptions): ConjunctionOption[] {
  const types: string[] = [];
  for (const ar of con) {
    const t = credentialTypeOf(ar.type);
    if (!types.includes(t)) types.push(t);
  }
  // Attributes of one credential type in one conjunction must come from one credential.
  const perType = types.map((t) =>
    wallet
      .filter((c) => c.credentialType === t)
      .filter((c) => c.expires > opts.now || (opts.skipExpiryCheck ?? []).includes(t))
      .filter((c) => con.every((ar) => credentialTypeOf(ar.type) !== t || satisfies(ar, valueOf(c, ar))))
      .sort(preferNewest),
  );
  let combos: WalletCredential[][] = [[]];
  for (const creds of perType) {
    const next: WalletCredential[][] = [];
    for (const combo of combos) for (const c of creds) next.push([...combo, c]);
    combos = next;
  }
  return combos.map((combo) =>
    con.map((ar) => {
      const cred = combo[types.indexOf(credentialTypeOf(ar.type))];
      return { id: ar.type, credentialId: cred.id, rawValue: valueOf(cred, ar) ?? null };
    }),
  );
}

export function disclosureCandidates(disclose: Condiscon, wallet: readonly WalletCredential[], opts: CandidateOptions): Candidates {
  return disclose.map((discon) => discon.flatMap((con) => (con.length === 0 ? [[]] : conjunctionOptions(con, wallet, opts))));
}

/**
 * The headless default: per disjunction the first option that discloses something (newest
 * credentials first), the empty option only when nothing else is possible.
 */
export function chooseDefault(candidates: Candidates): DisclosureChoice {
  return candidates.map((options, i) => {
    const option = options.find((o) => o.length > 0) ?? options.find((o) => o.length === 0);
    if (!option) {
      throw new ClientError('requiredAttributeMissing', `the wallet cannot satisfy disjunction ${i} of the request`);
    }
    return option;
  });
}
