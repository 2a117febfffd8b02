// A `fetch` for the bench's holders over node:http with keep-alive sockets. Node's fetch (undici)
// spends ~0.3 ms of CPU per request of its own; a holder makes three requests per session, so
// with it a holder used about as much CPU on HTTP as on proving, and the load reached the server
// at a fraction of the pace of the Go client the reference's figures were taken with (a server
// loaded more slowly spends more CPU per session: fewer requests per wake-up). Only what the
// holders use: method, headers, a string body, an abort signal; the answer is a real Response.
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export const leanFetch: typeof fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.protocol !== 'http:') return reject(new TypeError(`leanFetch speaks http only, not ${url.protocol}`));
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const body = typeof init.body === 'string' ? init.body : undefined;
    if (init.body != null && body === undefined) return reject(new TypeError('leanFetch sends string bodies only'));
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = request(url, { method: init.method ?? 'GET', headers, agent, signal: init.signal ?? undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 500;
        // Status codes without a body may not carry one in a Response.
        const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(payload, { status, headers: h }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
