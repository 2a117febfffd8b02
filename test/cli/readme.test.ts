// The README's "A first session", run as written: its shell block is read from README.md itself,
// the server is started with `npm start` (a fresh data folder, a free port in place of 8088), each
// requestor command runs in bash, and its holder command gets the session pointer the requestor
// printed, so a README that stops working fails here.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { defaultOptions } from '../../src/server/options.js';
import { freePort } from '../support/redis.js';
import { REPO_ROOT } from '../support/reference.js';

const README_PORT = 8088;

/** The first ```sh block of the README section `title`. */
function shellBlock(readme: string, title: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${title}\n`));
  if (!section) throw new Error(`README has no section "${title}"`);
  const block = /^```sh\n([\s\S]*?)^```/m.exec(section);
  if (!block) throw new Error(`README section "${title}" has no sh block`);
  return block[1];
}

/** Whether `text` leaves no quote, $( ) or line continuation open. */
function isComplete(text: string): boolean {
  let quote: "'" | '"' | undefined;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
  }
  return quote === undefined && depth === 0 && !text.endsWith('\\');
}

/** The block's commands (comments and blank lines between them dropped), each possibly multi-line. */
function shellCommands(block: string): string[] {
  const commands: string[] = [];
  let current: string[] = [];
  for (const line of block.split('\n')) {
    if (current.length === 0 && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    current.push(line);
    if (isComplete(current.join('\n'))) {
      commands.push(current.join('\n'));
      current = [];
    }
  }
  if (current.length > 0) throw new Error(`unterminated command in README: ${current.join('\n')}`);
  return commands;
}

let dir: string;
let dataDir: string;
let port: number;
let server: ChildProcess;
let serverLog = '';
let env: Record<string, string | undefined>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'irma-readme-'));
  dataDir = join(dir, 'data');
  port = await freePort();
  env = { ...process.env, IRMASERVER_DATA_DIR: dataDir };
  // Its own process group, so that stopping it also stops what npm started.
  server = spawn('npm', ['start', '--', '--data-dir', dataDir, '--port', String(port)], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      serverLog += chunk.toString();
      if (serverLog.includes('server listening')) resolve();
    };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
    server.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${serverLog}`)));
  });
});

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    process.kill(-server.pid, 'SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `command` in bash; resolves with its exit code and output. `onOutput` sees the output as it grows. */
function bash(command: string, onOutput: (stdout: string) => void = () => undefined): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onOutput(stdout);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const PLACEHOLDER = "'<the session pointer>'";

describe('README: A first session', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const commands = shellCommands(shellBlock(readme, 'A first session'));

  it('is the session the brief promises: issue demo.Example.person, then disclose it, in the terminal', () => {
    expect(defaultOptions(false).port).toBe(README_PORT);
    expect(readme).toContain('npm start');
    const kinds = commands.map((c) => (c.includes('irma-server session') ? 'requestor' : c.includes('irma-server wallet') ? 'holder' : 'other'));
    expect(kinds).toEqual(['requestor', 'holder', 'requestor', 'holder']);
    expect(commands[0]).toContain('--issue demo.Example.person=');
    expect(commands[2]).toContain('--disclose demo.Example.person.');
    for (const c of commands.filter((c) => c.includes('irma-server wallet'))) expect(c).toContain(PLACEHOLDER);
    for (const c of commands) if (c.includes('localhost')) expect(c).toContain(`localhost:${README_PORT}`);
  });

  it('runs as written against `npm start`: the holder completes each session from the pointer the requestor printed', async () => {
    const outcomes: { requestor: string; holder: string }[] = [];
    for (let i = 0; i < commands.length; i += 2) {
      let holder: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
      const requestor = await bash(commands[i].replaceAll(`localhost:${README_PORT}`, `localhost:${port}`), (stdout) => {
        const m = /^session pointer: (.*)$/m.exec(stdout);
        if (m && !holder) holder = bash(commands[i + 1].replace(PLACEHOLDER, `'${m[1]}'`));
      });
      const held = await holder;
      const report = `requestor:\n${requestor.stdout}\n${requestor.stderr}\nholder:\n${held?.stdout}\n${held?.stderr}\nserver:\n${serverLog}`;
      expect(held?.code, report).toBe(0);
      expect(requestor.code, report).toBe(0);
      expect(requestor.stdout).toMatch(/[▀▄█]{5}/);
      expect(held!.stdout).toMatch(/^status: DONE$/m);
      expect(held!.stdout).toMatch(/^proofStatus: VALID$/m);
      outcomes.push({ requestor: requestor.stdout, holder: held!.stdout });
    }
    const results = outcomes.map((o) => JSON.parse(/^Session result:\n([\s\S]*?\n\})$/m.exec(o.requestor)![1]) as {
      type: string;
      status: string;
      proofStatus: string;
      disclosed?: { id: string; rawvalue: string }[][];
    });
    expect(results.map((r) => [r.type, r.status, r.proofStatus])).toEqual([
      ['issuing', 'DONE', 'VALID'],
      ['disclosing', 'DONE', 'VALID'],
    ]);
    const values = /--issue demo\.Example\.person=(\S+)/.exec(commands[0])![1].split(',');
    const issued: Record<string, string> = { firstname: values[0], familyname: values[1], prefix: values[2], over18: values[3] };
    const disclosed = results[1].disclosed!.flat();
    expect(disclosed.map((a) => a.id)).toEqual([...commands[2].matchAll(/--disclose (\S+)/g)].map((m) => m[1]));
    for (const a of disclosed) expect(a.rawvalue).toBe(issued[a.id.split('.')[3]]);

    // The wallet the README names: in the server's data folder.
    expect(existsSync(join(dataDir, 'wallet', 'credentials.json'))).toBe(true);
    let listed = '';
    const code = await run(['wallet', '--list'], env, { cwd: dir, stdout: { write: (s: string) => (listed += s) } });
    expect(code).toBe(0);
    for (const name of ['firstname', 'familyname', 'over18']) expect(listed).toContain(`  ${name}: ${issued[name]}\n`);
  });
});
