// The `irma-server` program: commander wiring of the subcommands, in-process callable for tests.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { OptionsError } from '../server/options.js';
import { describeStartupError } from './startup-error.js';
import { parseBoolean, parseInteger } from './config.js';
import { envName, flagName, OPTION_SPECS, type OptionSpec } from './option-specs.js';

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  cwd: string;
  /** Where `session -` reads its pointer; process.stdin when absent. */
  stdin?: AsyncIterable<string | Buffer>;
  /** Stops a running `server` (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Called once the server listens; for tests. */
  onListening?: (url: string) => void;
}

export type Env = Record<string, string | undefined>;

const HELP_AFTER = `
Configuration: every option can also be given as environment variable IRMASERVER_<NAME>
(e.g. IRMASERVER_SCHEMES_PATH) or as key <name> (e.g. schemes_path) in a configuration file,
irmaserver.json/.yaml/.yml in ., /etc/irmaserver/ or $HOME/.irmaserver, or the one given by
--config. A flag beats the environment, which beats the file. Maps (requestors, static_sessions)
are JSON in flags and variables. Booleans take --flag, --flag=true or --flag=false.

Without --schemes-path, the development mode (default) generates its own demo scheme (issuer
demo.Example, credentials demo.Example.person and demo.Example.email) in --data-dir, by default
$IRMASERVER_DATA_DIR or ~/.irma-server-ts, and runs without requestor authentication on the
in-memory store.
`;

/** Runs the command line; resolves to the process exit code. Never calls process.exit. */
export async function run(argv: string[], env: Env, io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    cwd: io.cwd ?? process.cwd(),
    stdin: io.stdin,
    signal: io.signal,
    onListening: io.onListening,
  };
  let exitCode = 0;
  const program = new Command('irma-server')
    .description('IRMA server for verifying and issuing attributes, wire-compatible with irmago `irma server`')
    .exitOverride()
    .configureOutput({ writeOut: (s) => full.stdout.write(s), writeErr: (s) => full.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');

  const serverCmd = program
    .command('server', { isDefault: true })
    .description('run the IRMA server (default command)')
    .addHelpText('after', HELP_AFTER)
    .action(async (_opts, cmd: Command) => {
      const { serveCommand } = await import('./serve.js');
      exitCode = await serveCommand(givenFlags(cmd), env, full);
    });
  addServerOptions(serverCmd);

  const checkCmd = program
    .command('check')
    .description('check the configuration (and reach the Redis store, if configured) without starting the server')
    .addHelpText('after', HELP_AFTER)
    .addOption(new Option('--strict', 'also fail on the risks found in the Redis setup (no TLS, no encryption, no replicas, ...)').helpGroup('Check'))
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { checkCommand } = await import('./check.js');
      exitCode = await checkCommand(givenFlags(cmd), opts.strict === true, env, full);
    });
  addServerOptions(checkCmd);

  program
    .command('keygen')
    .description('generate an Idemix issuer key pair (<out>/PublicKeys/<counter>.xml and <out>/PrivateKeys/<counter>.xml)')
    .addOption(new Option('--bits <bits>', 'key length').choices(['1024', '2048', '4096']).default('2048'))
    .addOption(new Option('--attributes <n>', 'number of attributes the key supports').argParser(intArg).default(12))
    .addOption(new Option('--counter <n>', 'key counter (default: one above the highest in <out>/PublicKeys)').argParser(intArg))
    .addOption(new Option('--expiry <date>', 'expiry date, e.g. 2030-01-31 or 2030-01-31T12:00:00Z (default: one year from now)'))
    .addOption(new Option('--out <dir>', 'issuer folder to write to').default('.'))
    .addOption(new Option('-f, --force-overwrite', 'overwrite existing key files'))
    .action(async (opts: Record<string, unknown>) => {
      const { keygenCommand } = await import('./keygen.js');
      exitCode = await keygenCommand(
        {
          bits: Number(opts.bits) as 1024 | 2048 | 4096,
          attributes: opts.attributes as number,
          counter: opts.counter as number | undefined,
          expiry: opts.expiry as string | undefined,
          out: opts.out as string,
          forceOverwrite: opts.forceOverwrite === true,
        },
        full,
      );
    });

  // Revocation key tooling; the lead may merge this `scheme issuer` with the scheme commands.
  const { addRevocationKeypairCommand } = await import('./revocation-keypair.js');
  addRevocationKeypairCommand(
    program.command('scheme').description('scheme tooling').command('issuer').description('issuer key tooling'),
    full,
    (code) => (exitCode = code),
  );

  program
    .command('session')
    .description("complete a session as the holder, with the headless client and a wallet folder (or list the wallet's credentials)")
    .argument('[pointer]', 'session pointer JSON, session package JSON (the answer to POST /session), or - to read it from standard input')
    .addOption(new Option('--wallet <dir>', 'wallet folder (default: <data dir>/wallet)'))
    .addOption(new Option('--data-dir <dir>', 'the server\'s data folder (default $IRMASERVER_DATA_DIR or ~/.irma-server-ts)'))
    .addOption(new Option('-s, --schemes-path <dir>', 'irma_configuration to read (default: the server\'s, else the demo scheme in the data folder)'))
    .addOption(new Option('--refuse', 'refuse the session (the server sees it CANCELLED)'))
    .addOption(new Option('--list', "print the wallet's credentials instead of running a session"))
    .action(async (pointer: string | undefined, opts: Record<string, unknown>) => {
      const { sessionCommand } = await import('./session.js');
      exitCode = await sessionCommand(
        {
          pointer,
          wallet: opts.wallet as string | undefined,
          dataDir: opts.dataDir as string | undefined,
          schemesPath: opts.schemesPath as string | undefined,
          list: opts.list === true,
          refuse: opts.refuse === true,
        },
        env,
        full,
      );
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    // Anything else is reported as one line, never as a crash with a stack trace.
    full.stderr.write(`irma-server: ${describeStartupError(e)}\n`);
    return 1;
  }
  return exitCode;
}

function intArg(value: string): number {
  try {
    return parseInteger(value, 'argument');
  } catch {
    throw new InvalidArgumentError('not an integer');
  }
}

function boolArg(value: string): boolean {
  try {
    return parseBoolean(value, 'argument');
  } catch {
    throw new InvalidArgumentError('not a boolean (use true or false)');
  }
}

function optionFor(spec: OptionSpec): Option {
  const long = `--${flagName(spec.key)}`;
  const names = spec.short ? `-${spec.short}, ${long}` : long;
  const help = `${spec.help} [env ${envName(spec.key)}]`;
  let option: Option;
  switch (spec.kind) {
    case 'bool':
      // pflag style: --flag, --flag=true, --flag=false. The reference's --no-auth/--no-tls are options
      // of their own, not negations, so commander's --no-* handling is switched off for them.
      option = new Option(`${names} [bool]`, help).argParser(boolArg);
      option.negate = false;
      break;
    case 'count':
      option = new Option(names, help).argParser((_v: string, prev: number | undefined) => (prev ?? 0) + 1);
      break;
    case 'int':
      option = new Option(`${names} <n>`, help).argParser(intArg);
      break;
    case 'list':
      option = new Option(`${names} <list>`, `${help} (comma-separated, repeatable)`).argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      );
      break;
    case 'map':
      option = new Option(`${names} <json>`, help);
      break;
    default:
      option = new Option(`${names} <value>`, help);
  }
  option.helpGroup(spec.group);
  if (spec.ignored) option.hideHelp();
  return option;
}

const ATTRIBUTES = new Map<string, string>();

/** The configuration flags among `argv` (options of the `server` command), by configuration key. */
export function parseServerFlags(argv: string[]): Record<string, unknown> {
  const cmd = new Command('server').exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  addServerOptions(cmd);
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new OptionsError(e.message.replace(/^error: /, ''));
    throw e;
  }
  return givenFlags(cmd);
}

function addServerOptions(cmd: Command): void {
  for (const spec of OPTION_SPECS) {
    const option = optionFor(spec);
    ATTRIBUTES.set(option.attributeName(), spec.key);
    cmd.addOption(option);
  }
}

/** The options given on the command line, by configuration key (defaults are applied later). */
function givenFlags(cmd: Command): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const [attribute, value] of Object.entries(cmd.opts())) {
    const key = ATTRIBUTES.get(attribute);
    if (key && cmd.getOptionValueSource(attribute) === 'cli') flags[key] = value;
  }
  return flags;
}
