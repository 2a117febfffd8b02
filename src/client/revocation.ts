// The holder's side of revocation: keep the witnesses of revocable credentials current with the
// updates a session request carries (fetching missing events from the scheme's revocation
// server), flag revoked credentials, and supply witnesses for non-revocation proofs.
import { decodeB64, encodeB64 } from '../idemix/bigint.js';
import type { PublicKey } from '../idemix/keys.js';
import type { NonRevWitness } from '../idemix/nonrevocation.js';
import { openSignedAccumulator } from '../revocation/accumulator.js';
import { RevocationError } from '../revocation/errors.js';
import { decodeEventList } from '../revocation/update.js';
import { updateFromJson, type Update } from '../revocation/update.js';
import { updateWitness, verifyWitness, type Witness } from '../revocation/witness.js';
import type { SchemeRegistry } from '../scheme/types.js';
import { ClientError } from './errors.js';
import type { CredentialStorage, StoredCredential, StoredWitness } from './storage.js';

type FetchFn = typeof fetch;

export function witnessFromStored(w: StoredWitness, pk: PublicKey): Witness {
  const sacc = { data: Buffer.from(w.sacc.data, 'base64'), pk: w.sacc.pk };
  return { u: decodeB64(w.u), e: decodeB64(w.e), sacc, accumulator: openSignedAccumulator(sacc, pk) };
}

export function witnessToStored(w: { u: bigint; e: bigint; sacc: { data: Uint8Array; pk: number } }): StoredWitness {
  return { u: encodeB64(w.u), e: encodeB64(w.e), sacc: { data: Buffer.from(w.sacc.data).toString('base64'), pk: w.sacc.pk } };
}

/** Checks a witness received at issuance; returns it for storage. */
export function acceptIssuedWitness(w: { u: bigint; e: bigint; sacc: { data: Uint8Array; pk: number } }, pk: PublicKey): StoredWitness {
  verifyWitness(w, pk);
  return witnessToStored(w);
}

export function nonRevWitness(stored: StoredWitness, pk: PublicKey): NonRevWitness {
  const w = witnessFromStored(stored, pk);
  return { u: w.u, e: w.e, nu: w.accumulator.nu, sacc: w.sacc };
}

/**
 * Events from `from` up to the update's first event, fetched from the scheme's revocation server
 * in 16-aligned chunks; only events at or after `from` are kept (unlike gabi's chunked path).
 */
async function fetchMissing(servers: string[], type: string, counter: number, from: number, update: Update, fetchFn: FetchFn): Promise<Update> {
  const until = update.events[0]?.index ?? from;
  const events = [];
  for (let a = Math.floor(from / 16) * 16; a < until; a += 16) {
    let got = false;
    for (const base of servers) {
      try {
        const res = await fetchFn(`${base.replace(/\/+$/, '')}/revocation/${type}/events/${counter}/${a}/${a + 16}`, { signal: AbortSignal.timeout(20_000) });
        if (res.status !== 200) continue;
        events.push(...decodeEventList(new Uint8Array(await res.arrayBuffer())));
        got = true;
        break;
      } catch {
        // next server
      }
    }
    if (!got) throw new ClientError('revocation', `cannot fetch revocation events ${a}-${a + 16} of ${type}-${counter}`);
  }
  const merged = [...events.filter((e) => e.index >= from && e.index < until), ...update.events];
  return { sacc: update.sacc, events: merged };
}

/**
 * Brings every stored witness of the requested types up to the request's updates and stores the
 * result; a revoked credential is flagged, so it is no longer offered.
 */
export async function updateWitnesses(
  storage: CredentialStorage,
  schemes: SchemeRegistry,
  revocation: Record<string, Record<string, unknown>>,
  fetchFn: FetchFn = fetch,
): Promise<void> {
  const changed = new Map<string, StoredWitness>();
  for (const cred of storage.list()) {
    const updates = revocation[cred.credentialType];
    if (!updates || !cred.witness || cred.witness.revoked) continue;
    const type = schemes.credentialType(cred.credentialType);
    const pk = type && schemes.publicKey(type.issuerId, cred.keyCounter);
    if (!type || !pk) continue;
    const json = updates[String(cred.keyCounter)];
    if (json === undefined) throw new ClientError('revocation', `missing revocation update for ${cred.credentialType}-${cred.keyCounter}`);
    try {
      let update = updateFromJson(json);
      const w = witnessFromStored(cred.witness, pk);
      if (update.events.length > 0 && update.events[0].index > w.accumulator.index + 1) {
        update = await fetchMissing(type.revocationServers ?? [], type.id, cred.keyCounter, w.accumulator.index + 1, update, fetchFn);
      }
      const next = updateWitness(w, update, pk);
      if (next !== w) changed.set(cred.id, witnessToStored(next));
    } catch (e) {
      if (e instanceof RevocationError && e.code === 'REVOKED') changed.set(cred.id, { ...cred.witness, revoked: true });
      else if (e instanceof ClientError) throw e;
      else throw new ClientError('revocation', (e as Error).message, { cause: e });
    }
  }
  if (changed.size === 0) return;
  await storage.update((current) => current.map((c): StoredCredential => (changed.has(c.id) ? { ...c, witness: changed.get(c.id) } : c)));
}
