// `npm start` as a process manager runs it: SIGTERM to npm's own pid stops the server (no orphan
// left listening), and the tree is npm plus the server itself, with no wrapper in between.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/redis.js';
import { REFERENCE_SCHEMES, REPO_ROOT } from '../support/reference.js';

const home = mkdtempSync(join(tmpdir(), 'irma-npm-start-'));
const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(home, { recursive: true, force: true });
});

/** The pids and command lines of the direct children of `pid`. */
async function children(pid: number): Promise<{ pid: number; args: string }[]> {
  const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=,args=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^\s*(\d+)\s+(.*)$/.exec(l)!;
      return { pid: Number(m[1]), args: m[2] };
    });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('runs the compiled server directly under npm, and SIGTERM to npm stops it', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start', '--', '-s', REFERENCE_SCHEMES, '--port', String(port), '--listen-addr', '127.0.0.1'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(npm.pid!);
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        log += chunk.toString();
        if (log.includes('server listening')) resolve();
      };
      npm.stdout!.on('data', onData);
      npm.stderr!.on('data', onData);
      npm.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${log}`)));
    });

    // npm's only child is the server itself: node running dist/, not a shell or a tsx wrapper.
    const kids = await children(npm.pid!);
    expect(kids).toHaveLength(1);
    const server = kids[0];
    started.push(server.pid);
    expect(server.args).toMatch(/^node dist\/cli\/main\.js server /);
    expect(await children(server.pid)).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);

    const npmExited = new Promise<number | null>((resolve) => npm.once('exit', resolve));
    process.kill(npm.pid!, 'SIGTERM');
    await npmExited;
    for (let i = 0; i < 100 && alive(server.pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(server.pid)).toBe(false);
    expect(log).toContain('stopping');
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
  });
});
