// Whether a requestor may ask for what it asks (spec §4.3).
import { attributeRequests } from '../protocol/condiscon.js';
import { ProtocolError } from '../protocol/errors.js';
import { LD_CONTEXT, type RequestorRequest } from '../protocol/requests.js';
import type { ServerOptions } from './options.js';

function permits(perms: readonly string[], id: string): boolean {
  if (perms.includes('*') || perms.includes(id)) return true;
  const parts = id.split('.');
  for (let n = 1; n < parts.length; n++) {
    if (perms.includes(`${parts.slice(0, n).join('.')}.*`)) return true;
  }
  return false;
}

/** `*.example.com` style globs; `*` stays within one DNS label. */
function hostMatches(glob: string, host: string): boolean {
  const pattern = glob
    .toLowerCase()
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^.]*');
  return new RegExp(`^${pattern}$`).test(host.toLowerCase());
}

export interface PermissionContext {
  options: ServerOptions;
  /** Host (with port, if any) of the configured server URL. */
  urlHost: string;
}

/** Throws 403 UNAUTHORIZED with the reason as message. */
export function authorize(ctx: PermissionContext, requestorName: string, rr: RequestorRequest): void {
  const o = ctx.options;
  const own = requestorName !== '' && Object.hasOwn(o.requestors, requestorName) ? o.requestors[requestorName] : undefined;
  const union = (global: string[], mine: string[] | undefined) => [...global, ...(mine ?? [])];
  const request = rr.request;
  const discloseKey = request['@context'] === LD_CONTEXT.signing ? 'sign' : 'disclose';
  const attributePerms =
    discloseKey === 'sign' ? union(o.signPerms, own?.signPerms) : union(o.disclosePerms, own?.disclosePerms);

  if (request['@context'] === LD_CONTEXT.issuing) {
    const issuePerms = union(o.issuePerms, own?.issuePerms);
    for (const c of request.credentials) {
      if (issuePerms.length === 0) throw new ProtocolError('UNAUTHORIZED', 'No issuer permissions configured');
      if (!permits(issuePerms, c.credential)) {
        throw new ProtocolError('UNAUTHORIZED', `No issuer permissions configured for credential '${c.credential}'`);
      }
    }
  }
  for (const a of attributeRequests(request.disclose)) {
    if (!permits(attributePerms, a.type)) throw new ProtocolError('UNAUTHORIZED', a.type);
  }

  const host = request.host;
  const hostPerms = own?.hostPerms;
  if (hostPerms && hostPerms.length > 0) {
    const wanted = host ?? ctx.urlHost;
    if (!hostPerms.some((g) => hostMatches(g, wanted))) {
      throw new ProtocolError('UNAUTHORIZED', 'requestor not allowed to use the requested host');
    }
  } else if (host !== undefined && host.toLowerCase() !== ctx.urlHost.toLowerCase()) {
    throw new ProtocolError('UNAUTHORIZED', 'requestor not allowed to use the requested host');
  }
}
