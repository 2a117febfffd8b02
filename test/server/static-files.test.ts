// static_path / static_prefix: files served under the prefix on the main listener, nothing else.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateOptions } from '../../src/server/options.js';
import { makeHarness, type Harness } from './harness.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'irma-static-'));
  writeFileSync(join(dir, 'index.html'), '<h1>home</h1>');
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'index.html'), '<h1>docs</h1>');
  writeFileSync(join(dir, 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, '.secret'), 'nope');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function harness(prefix: string): Promise<Harness> {
  const o = validateOptions({ ...(await import('../../src/server/options.js')).defaultOptions(false), schemesPath: '/x', staticPath: dir, staticPrefix: prefix });
  return makeHarness({ staticPath: o.staticPath, staticPrefix: o.staticPrefix });
}

describe('static files', () => {
  it('serves the folder under static_prefix, index.html for folders, 404 for dotfiles and missing files', async () => {
    const h = await harness('/assets');
    try {
      const js = await h.inject({ method: 'GET', url: '/assets/app.js' });
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toMatch(/javascript/);
      expect(js.body).toBe('console.log(1)');
      expect((await h.inject({ method: 'GET', url: '/assets/' })).body).toBe('<h1>home</h1>');
      expect((await h.inject({ method: 'GET', url: '/assets/docs/' })).body).toBe('<h1>docs</h1>');
      expect((await h.inject({ method: 'GET', url: '/assets/.secret' })).statusCode).toBe(404);
      expect((await h.inject({ method: 'GET', url: '/assets/missing.txt' })).statusCode).toBe(404);
      expect((await h.inject({ method: 'GET', url: '/assets/../package.json' })).statusCode).toBe(404);
      expect((await h.inject({ method: 'GET', url: '/app.js' })).statusCode).toBe(404);
      // The API still answers beside it.
      expect((await h.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('with the default prefix "/" the API routes keep precedence', async () => {
    const h = await harness('/');
    try {
      expect((await h.inject({ method: 'GET', url: '/app.js' })).body).toBe('console.log(1)');
      expect((await h.inject({ method: 'GET', url: '/' })).body).toBe('<h1>home</h1>');
      const unknown = await h.inject({ method: 'GET', url: '/session/abcdefghijklmnopqrst/status' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error).toBe('SESSION_UNKNOWN');
    } finally {
      await h.close();
    }
  });

  it('serves nothing without static_path', async () => {
    const h = await makeHarness();
    try {
      expect((await h.inject({ method: 'GET', url: '/index.html' })).statusCode).toBe(404);
    } finally {
      await h.close();
    }
  });
});
