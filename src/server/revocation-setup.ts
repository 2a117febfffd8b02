// Builds the server's RevocationService from the options: database (PostgreSQL, or memory
// without a connection string), revocation_settings checked against the schemes, initial
// accumulators of authority types, background timers.
import { MemoryRevocationStore } from '../revocation/memory-store.js';
import { RevocationService } from '../revocation/service.js';
import { normalizeRevocationSettings } from '../revocation/settings.js';
import type { RevocationStore } from '../revocation/store.js';
import type { SchemeRegistry } from '../scheme/types.js';
import { OptionsError, type ServerOptions } from './options.js';

export interface SetupLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export async function createRevocationService(
  o: ServerOptions,
  schemes: SchemeRegistry,
  log: SetupLogger,
  clock?: () => number,
  /** false for `check`: connect and migrate, but create no accumulators and start no timers. */
  run = true,
): Promise<RevocationService> {
  const dsn = o.revocationDbStr ?? '';
  if (dsn !== '' && o.revocationDbType !== 'postgres') {
    throw new OptionsError(
      o.revocationDbType === 'mysql' || o.revocationDbType === 'sqlserver'
        ? `revocation_db_type ${o.revocationDbType} is not supported by this server (only postgres)`
        : 'unsupported database type',
    );
  }
  const { settings, problems, warnings } = normalizeRevocationSettings(o.revocationSettings ?? {}, schemes, dsn !== '');
  if (problems.length > 0) throw new OptionsError(problems[0], problems);
  for (const w of warnings) log.warn({}, w);
  let store: RevocationStore;
  if (dsn === '') store = new MemoryRevocationStore();
  else {
    const { SqlRevocationStore } = await import('../revocation/sql-store.js');
    store = await SqlRevocationStore.open(dsn);
  }
  const service = new RevocationService({ schemes, store, settings, log, clock });
  if (!run) return service;
  try {
    await service.start();
  } catch (e) {
    await service.close();
    throw new OptionsError((e as Error).message);
  }
  service.startTimers();
  return service;
}

/** For `irma-server check`: the startup rules and, with a database, a real connection (and migration). */
export async function checkRevocation(o: ServerOptions, schemes: SchemeRegistry): Promise<string> {
  const service = await createRevocationService(o, schemes, { warn: () => undefined }, undefined, false);
  try {
    const roles = Object.entries(service.settings).map(([type, s]) => `${type} ${s.authority ? 'authority' : s.server ? 'server' : 'client'}`);
    return `revocation: ${service.store.durable ? 'PostgreSQL reachable' : 'in memory'}${roles.length > 0 ? `; ${roles.join(', ')}` : ''}`;
  } finally {
    await service.close();
  }
}
