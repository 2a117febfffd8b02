// The demo page in a real browser: Debian's chromium, headless, driven by playwright-core. Each
// button starts a session through the page's own backend; the test reads the session pointer from
// the page (what the QR code encodes), completes the session with the headless holder (typing the
// pairing code into the page when the frontend asks for one, as a person would), and checks that
// the page shows the outcome.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions } from '../../src/server/options.js';
import { demoPageEnabled, registerDemoRoutes } from '../../src/web/demo-routes.js';
import { REFERENCE_SCHEMES, REPO_ROOT } from '../support/reference.js';

// The reference issuer keys expire in 2030: server and holder keep time from 2026-11-22 on.
const offset = 1795335240_000 - Date.now();
const clock = () => Date.now() + offset;

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

let schemes: SchemeRegistry;
let server: RunningServer;
let base: string;
let browser: Browser;
let page: Page;
let holder: IrmaClient;
let walletDir: string;
const browserErrors: string[] = [];

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  const options = {
    ...defaultOptions(false),
    port: 0,
    listenAddr: '127.0.0.1',
    url: 'http://127.0.0.1:port',
    schemesPath: REFERENCE_SCHEMES,
    quiet: true,
  };
  expect(demoPageEnabled(options)).toBe(true);
  server = await startServer(options, { schemes, clock, routes: registerDemoRoutes });
  base = `http://127.0.0.1:${server.port}`;
  walletDir = await mkdtemp(join(tmpdir(), 'irma-demo-page-'));
  holder = new IrmaClient({ storageDir: walletDir, schemes, pairingPollIntervalMs: 50, now: () => Math.floor(clock() / 1000) });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  page = await browser.newPage();
  page.on('pageerror', (e) => browserErrors.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 400) browserErrors.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') browserErrors.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

/** Clicks a button, completes the session it starts from the pointer shown on the page. */
async function runFromPage(button: string): Promise<void> {
  await page.locator('#pointer').evaluate((el) => (el.textContent = ''));
  await page.click(`#${button}`);
  await page.waitForFunction(() => (document.getElementById('pointer')?.textContent ?? '') !== '');
  const pointer = JSON.parse((await page.textContent('#pointer')) ?? '') as { u: string; irmaqr: string };
  expect(pointer.u.startsWith(`${base}/irma/session/`)).toBe(true);
  const outcome = await holder.runSession(pointer, {
    pairing: async (code) => {
      const field = page.locator('.yivi-web-pairing-code input').first();
      await field.waitFor();
      await field.click();
      await page.keyboard.type(code);
    },
  });
  expect(outcome.status).toBe('DONE');
}

async function outcomeTitle(): Promise<string> {
  await page.waitForSelector('#outcome:not([hidden])');
  return (await page.textContent('#outcome-title')) ?? '';
}

describe('the demo page', () => {
  it('issues, discloses and signs with the real yivi-frontend', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#issuance:not([disabled])');
    expect(await page.textContent('#about')).toContain('irma-demo.MijnOverheid.fullName');

    await runFromPage('issuance');
    expect(await outcomeTitle()).toBe('Issued irma-demo.MijnOverheid.fullName');
    expect(await page.textContent('#outcome-list')).toContain('Alice');
    expect((await holder.credentials()).some((c) => c.credentialType === 'irma-demo.MijnOverheid.fullName')).toBe(true);

    await runFromPage('disclosure');
    expect(await outcomeTitle()).toBe('Disclosed');
    const disclosed = (await page.textContent('#outcome-list')) ?? '';
    expect(disclosed).toContain('irma-demo.MijnOverheid.fullName.firstname');
    expect(disclosed).toContain('Alice');

    await runFromPage('signature');
    expect(await outcomeTitle()).toBe('Signed: "I agree to the terms of this demo."');
    expect(await page.textContent('#outcome-raw')).toContain('"@context"');

    const shots = join(REPO_ROOT, 'test-results');
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'demo-page.png'), fullPage: true });
    expect(browserErrors).toEqual([]);
  });

  it('keeps requestor tokens out of the browser and refuses unknown handles and types', async () => {
    const started = await fetch(`${base}/demo/session`, { method: 'POST', body: JSON.stringify({ type: 'disclosure' }) });
    expect(started.status).toBe(200);
    const body = (await started.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['frontendRequest', 'handle', 'sessionPtr']);
    const bad = await fetch(`${base}/demo/session`, { method: 'POST', body: JSON.stringify({ type: 'revoke' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('INVALID_REQUEST');
    const unknown = await fetch(`${base}/demo/session/${'A'.repeat(32)}/result`);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toBe('SESSION_UNKNOWN');
  });

  it('is not served in production, with authentication, or with static files', () => {
    expect(demoPageEnabled({ production: true, noAuth: true })).toBe(false);
    expect(demoPageEnabled({ production: false, noAuth: false })).toBe(false);
    expect(demoPageEnabled({ production: false, noAuth: true, staticPath: '/srv/www' })).toBe(false);
  });
});
