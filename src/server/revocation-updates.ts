// The `updates` a session request with `revocation` gets when the app connects (digest §4.2).
import type { JsonObject } from '../session/session.js';
import type { ConnectEvent } from '../session/machine.js';
import type { ServerContext } from './context.js';

export async function revocationUpdatesFor(ctx: ServerContext, request: JsonObject): Promise<ConnectEvent['revocation']> {
  const revocation = request.revocation;
  if (typeof revocation !== 'object' || revocation === null || Array.isArray(revocation)) return undefined;
  const types = Object.keys(revocation);
  if (types.length === 0) return undefined;
  const service = ctx.revocation;
  if (!service) return { error: 'revocation is not configured on this server' };
  const updates: Record<string, JsonObject> = {};
  const tolerances: Record<string, number> = {};
  try {
    for (const type of types) {
      const params = revocation[type];
      const requested =
        typeof params === 'object' && params !== null && !Array.isArray(params) && typeof params.tolerance === 'number' ? params.tolerance : undefined;
      tolerances[type] = service.tolerance(type, requested);
      updates[type] = (await service.updatesForSession(type, requested)) as unknown as JsonObject;
    }
  } catch (e) {
    return { error: (e as Error).message };
  }
  return { updates, tolerances };
}
