// revocation_settings: per credential type, which role this server plays for it.
import type { SchemeRegistry } from '../scheme/types.js';
import { publicKeySupportsRevocation } from './accumulator.js';

export interface RevocationSetting {
  /** Serve update/events/updateevents for the type. */
  server: boolean;
  /** Owns the chain (implies server): issuance records, revocation, re-signing. */
  authority: boolean;
  /** Overrides the scheme's RevocationServer; where issuance records go. No trailing '/'. */
  revocationServerUrl: string;
  /** Seconds; 0 = the default of 600. */
  tolerance: number;
  /** Subscribe to the revocation server's updateevents (accepted; this server polls instead). */
  sse: boolean;
}

export const DEFAULT_TOLERANCE = 600;
export const DEFAULT_UPDATE_COUNT = 16;
export const MAX_UPDATE_COUNT = 512;

export type RevocationSettings = Record<string, RevocationSetting>;

export function defaultSetting(): RevocationSetting {
  return { server: false, authority: false, revocationServerUrl: '', tolerance: 0, sse: false };
}

/**
 * Startup rules of the reference (digest §7.2 1–6): ids re-cased to known credential types,
 * role combinations, database need, tolerance. Returns the normalized settings or throws the
 * list of problems.
 */
export function normalizeRevocationSettings(
  raw: Record<string, Partial<RevocationSetting>>,
  schemes: SchemeRegistry,
  hasDatabase: boolean,
): { settings: RevocationSettings; problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const byLower = new Map([...schemes.credentialTypes.keys()].map((id) => [id.toLowerCase(), id]));
  const settings: RevocationSettings = {};
  for (const [key, value] of Object.entries(raw)) {
    const id = byLower.get(key.toLowerCase());
    if (id === undefined) {
      problems.push(`unknown credential type ${key} in revocation settings`);
      continue;
    }
    const s: RevocationSetting = { ...defaultSetting(), ...value };
    s.revocationServerUrl = (s.revocationServerUrl ?? '').replace(/\/+$/, '');
    if (s.authority) s.server = true;
    if (s.authority && s.revocationServerUrl !== '') problems.push(`revocation server url for ${id} cannot be set when authority is enabled`);
    if (s.server && !s.authority && s.revocationServerUrl === '') problems.push(`revocation server mode for ${id} requires a revocation_server_url (or authority)`);
    if (s.server && !hasDatabase) problems.push(`revocation mode for ${id} requires SQL database but no connection string given`);
    if (s.tolerance !== 0 && s.tolerance < 30) problems.push(`tolerance (max_nonrev_duration) of ${id} must be at least 30 seconds`);
    if (s.authority) {
      const type = schemes.credentialType(id);
      const issuer = type?.issuerId ?? '';
      const sk = schemes.latestPrivateKey(issuer);
      if (!sk || sk.ecdsa === undefined) problems.push(`revocation server mode enabled for ${id} but no private key installed`);
    }
    settings[id] = s;
  }
  for (const type of schemes.credentialTypes.values()) {
    if (!type.revocationSupported) continue;
    const s = settings[type.id];
    if (s && (s.server || s.revocationServerUrl !== '')) continue;
    const sk = schemes.latestPrivateKey(type.issuerId);
    const pk = sk ? schemes.publicKey(type.issuerId, sk.counter) : undefined;
    if (!sk || sk.ecdsa === undefined || !pk || !publicKeySupportsRevocation(pk)) continue;
    const msg = `revocation enabled for ${type.id} but no revocation server configured: issuance sessions will always fail`;
    if (schemes.scheme(type.schemeId)?.demo) warnings.push(msg);
    else problems.push(msg);
  }
  return { settings, problems, warnings };
}
