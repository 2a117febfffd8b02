// The optional separate client port: the app's API there, the requestor API on the main port.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/redis.js';
import { APP_HEADERS, DISCLOSURE } from './harness.js';
import { JSON_HEADERS, startLive, type LiveServer } from './live.js';

let l: LiveServer | undefined;
afterEach(async () => l?.running.close());

describe('client port', () => {
  it('serves /irma only on the client port and points the app there', async () => {
    const [port, clientPort] = [await freePort(), await freePort()];
    l = await startLive({ port, clientPort, clientListenAddr: '127.0.0.1' });
    expect(l.running.port).toBe(clientPort);
    expect(l.running.url).toMatch(new RegExp(`:${clientPort}/irma$`));
    const main = `http://127.0.0.1:${port}`;
    const app = `http://127.0.0.1:${clientPort}`;

    const onClientPort = await fetch(`${app}/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(DISCLOSURE) });
    expect(onClientPort.status).toBe(404);
    const pkg = await (await fetch(`${main}/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(DISCLOSURE) })).json();
    expect(pkg.sessionPtr.u).toContain(`:${clientPort}/irma/session/`);
    const ct = pkg.sessionPtr.u.split('/').pop();
    expect((await fetch(`${app}/irma/session/${ct}`, { headers: APP_HEADERS })).status).toBe(200);
    expect((await fetch(`${main}/irma/session/${ct}/status`)).status).toBe(404);
  });
});

describe('the app URL', () => {
  it('appends /irma/, and uses https when the app listener has TLS', async () => {
    const { irmaBaseUrl } = await import('../../src/server/index.js');
    expect(irmaBaseUrl('https://example.com/', 8088, false)).toBe('https://example.com/irma/');
    expect(irmaBaseUrl('http://example.com:8088', 8088, true)).toBe('https://example.com:8088/irma/');
    expect(irmaBaseUrl('', 9999, false)).toMatch(/^http:\/\/[0-9.]+:9999\/irma\/$/);
    // As validateOptions leaves it, and with the reference's :port placeholder.
    expect(irmaBaseUrl('https://example.com/irma/', 8088, false)).toBe('https://example.com/irma/');
    expect(irmaBaseUrl('http://localhost:port', 1234, false)).toBe('http://localhost:1234/irma/');
  });
});

describe('TLS', () => {
  it('serves the APIs over TLS with the configured certificate', async () => {
    const { readFileSync } = await import('node:fs');
    const { request } = await import('node:https');
    const { makeCertificates } = await import('../support/redis.js');
    const files = makeCertificates();
    l = await startLive({ tlsCert: readFileSync(files.serverCert, 'utf8'), tlsPrivkey: readFileSync(files.serverKey, 'utf8') });
    expect(l.running.url).toMatch(/^https:/);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: l!.running.port, path: '/health', ca: readFileSync(files.ca) },
        (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve(t));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('OK');
  });
});

describe('HTTP limits (§9.5)', () => {
  it('gives a client 2 s to send its whole request, on every listener', async () => {
    const { makeHarness } = await import('./harness.js');
    // Built, not listening: the client port is only a number here.
    const h = await makeHarness({ clientPort: 18089 });
    try {
      expect(h.server.main.server.requestTimeout).toBe(2000);
      expect(h.server.client!.server.requestTimeout).toBe(2000);
    } finally {
      await h.close();
    }
  });
});
