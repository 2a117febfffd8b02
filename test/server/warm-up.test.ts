// The start-up warm-up: made-up disclosure sessions on a private instance, within its time bound.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSchemes } from '../../src/scheme/loader.js';
import { warmUp } from '../../src/server/warm-up.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { makeHarness, startSession } from './harness.js';

describe('start-up warm-up', () => {
  it('runs whole sessions whose made-up proofs reach verification, and stops at its time bound', async () => {
    const schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
    const report = await warmUp(schemes, undefined, 400);
    expect(report).toBeDefined();
    expect(report!.sessions).toBeGreaterThan(3);
    // Every proof was verified and found wanting: the verification path ran to its end.
    expect(report!.checked).toBe(report!.sessions);
    // One session past the bound at most, and a first session takes well under a second.
    expect(report!.ms).toBeLessThan(400 + 1500);
  });

  it('leaves nothing behind in a server started afterwards', async () => {
    const schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
    await warmUp(schemes, undefined, 100);
    const h = await makeHarness();
    try {
      const s = await startSession(h);
      const metrics = await h.inject({ method: 'GET', url: '/session/' + s.token + '/status' });
      expect(metrics.json()).toBe('INITIALIZED');
      // The server's own metrics count only its own session.
      const text = await h.server.ctx.metrics!.registry.metrics();
      expect(text).toMatch(/irma_sessions_started_total\{[^}]*\} 1\b/);
    } finally {
      await h.close();
    }
  });

  it('also with an issuer whose private keys support revocation and no revocation settings', async () => {
    // Outside demo schemes such an issuer needs revocation settings to start; the warm-up has none.
    const dir = mkdtempSync(join(tmpdir(), 'irma-warm-up-'));
    try {
      cpSync(REFERENCE_SCHEMES, dir, { recursive: true });
      const description = join(dir, 'irma-demo', 'description.xml');
      writeFileSync(description, readFileSync(description, 'utf8').replace('<Demo>true</Demo>', '<Demo>false</Demo>'));
      // The edit breaks the scheme's signed index.
      const schemes = await loadSchemes({ schemesPath: dir, requireSignatures: false });
      expect(schemes.scheme('irma-demo')?.demo).toBe(false);
      const errors: unknown[] = [];
      const report = await warmUp(schemes, undefined, 200, (err) => errors.push(err));
      expect(errors).toEqual([]);
      expect(report!.sessions).toBeGreaterThan(0);
      expect(report!.checked).toBe(report!.sessions);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does nothing without a credential type to disclose, or without time', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'irma-warm-up-'));
    try {
      expect(await warmUp(await loadSchemes({ schemesPath: empty }), undefined)).toBeUndefined();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    expect(await warmUp(await loadSchemes({ schemesPath: REFERENCE_SCHEMES }), undefined, 0)).toBeUndefined();
  });
});
