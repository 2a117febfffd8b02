import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLoggerFactory } from '../../src/server/lazy-child-logger.js';

function logger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level }, sink), lines };
}

describe('lazy request loggers', () => {
  it('write with the request binding, at the levels the parent writes', () => {
    const { log, lines } = logger('warn');
    const child = lazyChildLoggerFactory(log, { reqId: 'r-1' }, {});
    child.info({ a: 1 }, 'not written');
    child.debug('not written either');
    child.warn({ b: 2 }, 'written');
    child.error(new Error('boom'));
    expect(lines.map((l) => [l.level, l.reqId, l.msg])).toEqual([
      [40, 'r-1', 'written'],
      [50, 'r-1', 'boom'],
    ]);
    expect(lines[0].b).toBe(2);
    expect(child.level).toBe('warn');
  });

  it("follow the parent's level until they write, as a child made then would", () => {
    const { log, lines } = logger('error');
    const child = lazyChildLoggerFactory(log, { reqId: 'r-2' }, {});
    expect(child.level).toBe('error');
    log.level = 'info';
    child.info('now written');
    expect(lines.map((l) => [l.level, l.reqId])).toEqual([[30, 'r-2']]);
    expect(child.child({ part: 'x' }).level).toBe('info');
  });
});
