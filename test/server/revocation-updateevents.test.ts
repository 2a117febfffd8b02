// GET /irma/revocation/{type}/updateevents: with sse on, an authority pushes each re-signed
// accumulator as `data: <Update JSON>`; without sse it is refused as the reference does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadSchemes } from '../../src/scheme/loader.js';
import { createServer, type BuiltServer } from '../../src/server/index.js';
import { defaultOptions } from '../../src/server/options.js';
import { decodeCbor } from '../../src/revocation/cbor.js';
import { updateFromJson, verifyUpdate } from '../../src/revocation/update.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { mijnOverheidKey } from '../revocation/fixtures.js';

const ROOT = 'irma-demo.MijnOverheid.root';
let db: TestDatabase;
const built: BuiltServer[] = [];

async function authority(sse: boolean): Promise<{ s: BuiltServer; base: string }> {
  const s = await createServer(
    {
      ...defaultOptions(false),
      port: 0,
      listenAddr: '127.0.0.1',
      schemesPath: REFERENCE_SCHEMES,
      quiet: true,
      sse,
      revocationDbType: 'postgres',
      revocationDbStr: db.dsn,
      revocationSettings: { [ROOT]: { authority: true } },
    },
    { schemes: await loadSchemes({ schemesPath: REFERENCE_SCHEMES }), logger: pino({ level: 'silent' }) },
  );
  built.push(s);
  await s.main.listen({ port: 0, host: '127.0.0.1' });
  const addr = s.main.server.address() as { port: number };
  return { s, base: `http://127.0.0.1:${addr.port}` };
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const s of built) await s.close();
  await db?.drop();
});

describe('updateevents', () => {
  it('is refused without sse, with the reference CBOR error', async () => {
    const { base } = await authority(false);
    const res = await fetch(`${base}/irma/revocation/${ROOT}/updateevents`);
    expect(res.status).toBe(400);
    const body = decodeCbor(new Uint8Array(await res.arrayBuffer())) as Map<string, unknown>;
    expect(body.get('error')).toBe('INVALID_REQUEST');
    expect(body.get('message')).toBe('not supported by this server');
  });

  it('pushes re-signed accumulators that verify', async () => {
    const { s, base } = await authority(true);
    const controller = new AbortController();
    const res = await fetch(`${base}/irma/revocation/${ROOT}/updateevents`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    await s.ctx.revocation!.resign(ROOT);
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const line = text.split('\n')[0];
    expect(line.startsWith('data: ')).toBe(true);
    const update = updateFromJson(JSON.parse(line.slice(6)));
    expect(update.events).toEqual([]);
    expect(verifyUpdate(update, mijnOverheidKey).index).toBe(0);
  });
});
