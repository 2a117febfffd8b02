// Rate limits on starting sessions (POST /session and the static-session route): per client
// address, checked before anything else, and per requestor, checked once the requestor is
// authenticated (so nobody can use up another requestor's allowance). Counted by
// @fastify/rate-limit: in memory, or with the Redis store in Redis, shared by every process.
// The reference server has none, so they are off unless configured, except in production.
import { createHash } from 'node:crypto';
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProtocolError } from '../protocol/errors.js';
import type { ScriptRunner } from '../store/process-liveness.js';
import type { ServerContext } from './context.js';
import type { ServerOptions } from './options.js';

/** Production defaults: session starts per window per client address, and per requestor. */
export const PRODUCTION_SESSION_RATE_LIMIT_ADDRESS = 120;
export const PRODUCTION_SESSION_RATE_LIMIT_REQUESTOR = 6000;
/** Seconds in which those many session starts are allowed. */
export const DEFAULT_SESSION_RATE_LIMIT_WINDOW = 60;

export interface SessionRateLimitSettings {
  /** Session starts per window per client address; 0 = no limit. */
  address: number;
  /** Session starts per window per requestor (a static session counts as its own requestor); 0 = no limit. */
  requestor: number;
  windowMs: number;
}

/** The limits in force: as configured, else the production defaults in production, else none. */
export function sessionRateLimitSettings(o: ServerOptions): SessionRateLimitSettings {
  return {
    address: o.sessionRateLimitAddress ?? (o.production ? PRODUCTION_SESSION_RATE_LIMIT_ADDRESS : 0),
    requestor: o.sessionRateLimitRequestor ?? (o.production ? PRODUCTION_SESSION_RATE_LIMIT_REQUESTOR : 0),
    windowMs: (o.sessionRateLimitWindow || DEFAULT_SESSION_RATE_LIMIT_WINDOW) * 1000,
  };
}

type Check = ReturnType<FastifyInstance['createRateLimit']>;

interface Limiters {
  address?: Check;
  requestor?: Check;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Filled in once the rate-limit plugin is loaded; absent when no limit is configured. */
    irmaSessionRateLimits?: Limiters;
  }
}

/** The key a request's requestor is counted under (set just before the requestor check). */
const requestorOf = new WeakMap<FastifyRequest, string>();

async function enforce(check: Check | undefined, request: FastifyRequest, reply: FastifyReply, what: string): Promise<void> {
  if (!check) return;
  const limit = await check(request);
  if (limit.isAllowed || !limit.isExceeded) return;
  reply.header('retry-after', String(Math.max(1, limit.ttlInSeconds)));
  throw new ProtocolError('TOO_MANY_REQUESTS', `too many sessions started ${what}, try again later`);
}

/** Whether starts are counted per requestor at all; without limits a start need not wait for the check. */
export function sessionStartsLimited(request: FastifyRequest): boolean {
  return request.server.irmaSessionRateLimits?.requestor !== undefined;
}

/** Counts the session start against the requestor's allowance; 429 TOO_MANY_REQUESTS when used up. */
export async function limitSessionStartsOf(request: FastifyRequest, reply: FastifyReply, requestor: string): Promise<void> {
  const check = request.server.irmaSessionRateLimits?.requestor;
  if (!check) return;
  requestorOf.set(request, `requestor:${requestor}`);
  await enforce(check, request, reply, 'by this requestor');
}

/**
 * Registers the limits on the app's root, before its routes. The per-address check runs on every
 * session start; the per-requestor one is called by the route after authentication
 * (limitSessionStartsOf), or here for static sessions, which have no requestor but their name.
 */
export function registerSessionRateLimits(app: FastifyInstance, ctx: ServerContext): void {
  const settings = sessionRateLimitSettings(ctx.options);
  if (!settings.address && !settings.requestor) return;
  const limiters: Limiters = {};
  app.decorate('irmaSessionRateLimits', limiters);
  const scripts = ctx.scripts;
  // Loaded only when a limit is set: without one, its code would only take memory.
  app.register(import('@fastify/rate-limit'), {
    global: false,
    timeWindow: settings.windowMs,
    ...(scripts ? { store: redisCounterStore(scripts) } : {}),
  });
  app.after(() => {
    if (settings.address) {
      limiters.address = app.createRateLimit({ max: settings.address, keyGenerator: (r) => `address:${r.ip}` });
    }
    if (settings.requestor) {
      limiters.requestor = app.createRateLimit({ max: settings.requestor, keyGenerator: (r) => requestorOf.get(r) ?? 'requestor:' });
    }
  });
  const prefix = ctx.options.apiPrefix.replace(/\/+$/, '');
  const startRoute = `${prefix}/session`;
  const staticRoute = `${prefix}/irma/session/:name`;
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST') return;
    const route = request.routeOptions.url;
    if (route !== startRoute && route !== staticRoute) return;
    await enforce(limiters.address, request, reply, 'from this address');
    if (route === staticRoute && limiters.requestor) {
      requestorOf.set(request, `static:${(request.params as { name?: string }).name ?? ''}`);
      await enforce(limiters.requestor, request, reply, 'of this static session');
    }
  });
}

/**
 * Counts in Redis through the session store's connections: one counter per key and window, made
 * and given its expiry in one atomic step. The key is hashed, so client addresses and requestor
 * names are not written into Redis.
 */
const INCR = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}`;
const READ = `
local n = redis.call('GET', KEYS[1])
if not n then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {tonumber(n), ttl}`;

type Done = (err: Error | null, res?: { current: number; ttl: number }) => void;

function redisCounterStore(redis: ScriptRunner): FastifyRateLimitStoreCtor {
  const keyOf = (key: string) => `irma:ratelimit:${createHash('sha256').update(key).digest('base64url')}`;
  const run = (text: string, key: string, args: string[], done: Done) => {
    redis.runScript(text, [key], args).then(
      (r) => {
        const [current, ttl] = r as [number, number];
        done(null, { current: Number(current), ttl: Number(ttl) });
      },
      (err: Error) => done(err),
    );
  };
  // One store serves every limiter (`child`): the keys already say which limit they count.
  class RedisCounterStore {
    incr(key: string, done: Done, timeWindow: number): void {
      run(INCR, keyOf(key), [String(timeWindow)], done);
    }
    read(key: string, done: Done): void {
      run(READ, keyOf(key), [], done);
    }
    child(): RedisCounterStore {
      return this;
    }
  }
  return RedisCounterStore as unknown as FastifyRateLimitStoreCtor;
}
