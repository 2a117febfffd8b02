// The demo page's routes: the page and its assets, and a small backend that starts the demo's
// sessions itself, so the browser holds only an opaque handle, never a requestor token (as the
// Yivi documentation recommends for any website). Served only in development, without static
// files, and when requestors need no authentication anyway (so it opens nothing new).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ProtocolError } from '../protocol/errors.js';
import { parseRequestorRequest } from '../protocol/request-body.js';
import type { ServerContext } from '../server/context.js';
import { sendJson } from '../server/http-errors.js';
import { authorize } from '../server/permissions.js';
import { sessionResult } from '../server/result.js';
import { startSession } from '../server/session-factory.js';
import { clientTokenOf, load } from '../server/session-runner.js';
import { DEMO_CSS, DEMO_HTML, DEMO_JS } from './demo-page.js';
import { DEMO_SESSION_TYPES, demoAttributes, demoCredentialType, demoRequest, type DemoSessionType } from './demo-requests.js';

/** Handles the page may still ask about; older ones are forgotten first. */
const MAX_HANDLES = 1000;
const HANDLE_PATTERN = /^[A-Za-z0-9_-]{32}$/;

interface DemoSession {
  requestorToken: string;
  issued?: { credential: string; attributes: Record<string, string> };
}

/** Whether the demo page is served with these options. */
export function demoPageEnabled(o: { production: boolean; noAuth: boolean; staticPath?: string }): boolean {
  return !o.production && o.noAuth && !o.staticPath;
}

function yiviScriptPath(): string {
  // The package's `main` is its all-in-one browser bundle (dist/yivi.js).
  return createRequire(import.meta.url).resolve('@privacybydesign/yivi-frontend');
}

function contentSecurityPolicy(irmaUrl: string): string {
  // yivi-web injects its styles and draws the QR code as a data: image; the app's API may sit on
  // another origin (the public --url, or a separate client port).
  const appOrigin = new URL(irmaUrl).origin;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ${appOrigin}`,
    "frame-ancestors 'none'",
  ].join('; ');
}

export function registerDemoRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const handles = new Map<string, DemoSession>();
  let yiviScript: Promise<Buffer> | undefined;

  const text = (reply: FastifyReply, type: string, body: string | Buffer) =>
    reply.header('cache-control', 'no-cache').type(type).send(body);

  app.get('/', (_request, reply) =>
    text(reply.header('content-security-policy', contentSecurityPolicy(ctx.irmaUrl())), 'text/html; charset=utf-8', DEMO_HTML),
  );
  app.get('/demo/demo.js', (_request, reply) => text(reply, 'text/javascript; charset=utf-8', DEMO_JS));
  app.get('/demo/demo.css', (_request, reply) => text(reply, 'text/css; charset=utf-8', DEMO_CSS));
  app.get('/demo/yivi.js', async (_request, reply) => {
    yiviScript ??= readFile(yiviScriptPath());
    return text(reply, 'text/javascript; charset=utf-8', await yiviScript);
  });

  app.get('/demo/info', async (_request, reply) =>
    sendJson(reply, 200, { credential: demoCredentialType(ctx.schemes)?.id ?? null, sse: ctx.options.sse }),
  );

  app.post('/demo/session', async (request, reply) => {
    let kind: unknown;
    try {
      kind = (JSON.parse(String(request.body)) as { type?: unknown }).type;
    } catch {
      throw new ProtocolError('INVALID_REQUEST', 'body must be JSON: {"type": "disclosure" | "signature" | "issuance"}');
    }
    if (!DEMO_SESSION_TYPES.includes(kind as DemoSessionType)) {
      throw new ProtocolError('INVALID_REQUEST', 'type must be one of disclosure, signature, issuance');
    }
    const type = demoCredentialType(ctx.schemes);
    if (!type) throw new ProtocolError('UNSUPPORTED', 'no loaded credential type can be issued by this server');
    const rr = parseRequestorRequest(demoRequest(kind as DemoSessionType, type));
    authorize({ options: ctx.options, urlHost: new URL(ctx.irmaUrl()).host }, '', rr);
    const started = await startSession(ctx, rr, { requestor: '' });
    const handle = randomBytes(24).toString('base64url');
    if (handles.size >= MAX_HANDLES) handles.delete(handles.keys().next().value as string);
    handles.set(handle, {
      requestorToken: started.package.token,
      ...(kind === 'issuance' ? { issued: { credential: type.id, attributes: demoAttributes(type) } } : {}),
    });
    const { sessionPtr, frontendRequest } = started.package;
    return sendJson(reply, 200, { sessionPtr, frontendRequest, handle });
  });

  app.get('/demo/session/:handle/result', async (request, reply) => {
    const handle = (request.params as { handle: string }).handle;
    const demo = HANDLE_PATTERN.test(handle) ? handles.get(handle) : undefined;
    if (!demo) throw new ProtocolError('SESSION_UNKNOWN');
    const session = await load(ctx, await clientTokenOf(ctx, demo.requestorToken));
    return sendJson(reply, 200, { result: sessionResult(session), ...(demo.issued ? { issued: demo.issued } : {}) });
  });
}
