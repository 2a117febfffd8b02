// The README's "A first session", run as written: its shell block is read from README.md itself,
// the server is started with `npm start` (a fresh data folder, a free port in place of 8088), and
// every command runs in one bash, so a README that stops working fails here.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { defaultOptions } from '../../src/server/options.js';
import { freePort } from '../support/redis.js';
import { REPO_ROOT } from '../support/reference.js';

const README_PORT = 8088;
const STEP_MARK = '@@readme-step-done@@';

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

/** The JSON body a curl command posts with -d '...'. */
function postedJson(command: string): Record<string, unknown> {
  const m = /-d '([^']*)'/.exec(command);
  if (!m) throw new Error(`no -d '...' in ${command}`);
  return JSON.parse(m[1]) as Record<string, unknown>;
}

// Where curl is missing, a stand-in for the few options the README uses (-s, -H, -d, one URL).
const CURL_STAND_IN = `#!/usr/bin/env node
const args = process.argv.slice(2); const headers = {}; let body; let url;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '-s') continue;
  if (args[i] === '-H') { const [k, ...v] = args[++i].split(':'); headers[k.trim()] = v.join(':').trim(); }
  else if (args[i] === '-d') body = args[++i];
  else url = args[i].includes('://') ? args[i] : 'http://' + args[i];
}
const res = await fetch(url, { method: body === undefined ? 'GET' : 'POST', headers, body });
process.stdout.write(await res.text());
`;

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
  if (!(await promisify(execFile)('which', ['curl']).then(() => true, () => false))) {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'curl'), CURL_STAND_IN);
    chmodSync(join(bin, 'curl'), 0o755);
    env.PATH = `${bin}:${env.PATH ?? ''}`;
  }
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

describe('README: A first session', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const commands = shellCommands(shellBlock(readme, 'A first session'));

  it('is the session the brief promises: issue demo.Example.person, complete, read; then disclose it', () => {
    expect(defaultOptions(false).port).toBe(README_PORT);
    expect(readme).toContain('npm start');
    const kinds = commands.map((c) =>
      c.includes('irma-server session') ? 'client' : c.includes('/result') ? 'result' : c.includes("-d '") ? 'start' : 'other',
    );
    expect(kinds).toEqual(['start', 'client', 'result', 'start', 'client', 'result']);
    const issuance = postedJson(commands[0]) as { credentials: { credential: string }[] };
    expect(issuance.credentials.map((c) => c.credential)).toEqual(['demo.Example.person']);
    for (const c of commands) if (c.includes('localhost')) expect(c).toContain(`localhost:${README_PORT}/`);
  });

  it('runs as written against `npm start` and discloses what it issued', async () => {
    const script = commands
      .map((c) => c.replaceAll(`localhost:${README_PORT}/`, `localhost:${port}/`))
      .map((c) => `${c}\nprintf '\\n${STEP_MARK}\\n'`)
      .join('\n');
    const { stdout } = await promisify(execFile)('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: REPO_ROOT, env }).catch(
      (e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`README commands failed: ${e.message}\nstdout:\n${e.stdout}\nstderr:\n${e.stderr}\nserver:\n${serverLog}`);
      },
    );
    const outputs = stdout.split(STEP_MARK).map((s) => s.trim());
    expect(outputs).toHaveLength(commands.length + 1);

    const issued = (postedJson(commands[0]) as { credentials: { attributes: Record<string, string> }[] }).credentials[0].attributes;
    const results: { status: string; type: string; proofStatus: string; disclosed?: { id: string; rawvalue: string }[][] }[] = [];
    commands.forEach((command, i) => {
      if (command.includes('irma-server session')) {
        expect(outputs[i]).toMatch(/^status: DONE$/m);
        expect(outputs[i]).toMatch(/^proofStatus: VALID$/m);
      } else if (command.includes('/result')) {
        results.push(JSON.parse(outputs[i]));
      }
    });
    expect(results.map((r) => [r.type, r.status, r.proofStatus])).toEqual([
      ['issuing', 'DONE', 'VALID'],
      ['disclosing', 'DONE', 'VALID'],
    ]);
    const disclosed = results[1].disclosed!.flat();
    const requested = (postedJson(commands[3]) as { disclose: string[][][] }).disclose.flat(2);
    expect(disclosed.map((a) => a.id)).toEqual(requested);
    for (const a of disclosed) expect(a.rawvalue).toBe(issued[a.id.split('.')[3]]);

    // The wallet the README names: in the server's data folder.
    expect(existsSync(join(dataDir, 'wallet', 'credentials.json'))).toBe(true);
    let listed = '';
    const code = await run(['session', '--list'], env, { cwd: dir, stdout: { write: (s: string) => (listed += s) } });
    expect(code).toBe(0);
    for (const [name, value] of Object.entries(issued)) expect(listed).toContain(`  ${name}: ${value}\n`);
  });
});
