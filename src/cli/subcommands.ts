// Commander wiring of `irma-server session` (the requestor, as the reference's `irma session`)
// and `irma-server scheme ...` (the reference's `irma scheme` tooling).
import { addRevocationKeypairCommand } from './revocation-keypair.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { addIssuerKeygen, type CliIo, type Env } from './run.js';

type SetExit = (code: number) => void;

const repeat = (v: string, prev: string[] = []) => [...prev, v];

function portArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('not a port number');
  return n;
}

export function addSessionCommand(program: Command, env: Env, io: CliIo, setExit: SetExit): void {
  program
    .command('session')
    .description('start a session as the requestor: print its QR code for the app, follow it, print the result')
    .addHelpText(
      'after',
      `
Without --server, a temporary server in this process serves the session (on --port, reached by
the app at --url). The schemes come from --schemes-path, else the server's configuration, else
the demo scheme in the data folder.

Examples:
  irma-server session --disclose demo.Example.person.firstname
  irma-server session --issue demo.Example.person=Alice,Example,,yes
  irma-server session --sign demo.Example.email.email --message 'I agree'
  irma-server session --server http://localhost:8088 --authmethod token --key mytoken --disclose demo.Example.person.over18
  irma-server session --request '{"@context":"https://irma.app/ld/request/disclosure/v2","disclose":[[["demo.Example.person.over18"]]]}'
`,
    )
    .addOption(new Option('--server <url>', 'external IRMA server to post the request to (leave blank for a temporary one)'))
    .addOption(new Option('-u, --url <url>', 'external URL at which the app reaches the temporary server, ":port" being replaced by --port'))
    .addOption(new Option('-p, --port <port>', 'port of the temporary server (0: any free one)').argParser(portArg).default(48680))
    .addOption(new Option('--noqr', 'print the session pointer JSON only, no QR code'))
    .addOption(new Option('-r, --request <json>', 'JSON session request'))
    .addOption(new Option('--from-package <json>', 'follow a session started elsewhere, from its session package'))
    .addOption(new Option('-k, --privkeys <dir>', 'path to private keys (temporary server)'))
    .addOption(new Option('-s, --schemes-path <dir>', 'path to irma_configuration'))
    .addOption(new Option('--data-dir <dir>', "the server's data folder (default $IRMASERVER_DATA_DIR or ~/.irma-server-ts)"))
    .addOption(new Option('-a, --authmethod <method>', 'authentication method to the server').choices(['none', 'token', 'hmac', 'rsa']).default('none'))
    .addOption(new Option('--key <key>', 'key (or key file) to authenticate or sign the request with'))
    .addOption(new Option('--name <name>', 'requestor name'))
    .addOption(new Option('--disclose <attrs>', 'add an attribute disjunction (comma-separated); repeatable').argParser(repeat))
    .addOption(new Option('--issue <cred=values>', 'add a credential to issue: TYPE=value1,value2,... in attribute order; repeatable').argParser(repeat))
    .addOption(new Option('--sign <attrs>', 'add an attribute disjunction to a signature session; repeatable').argParser(repeat))
    .addOption(new Option('--message <text>', 'message to sign in a signature session'))
    .addOption(new Option('--result-jwt', 'also print the result as a JWT signed by the server'))
    .action(async (opts: Record<string, unknown>) => {
      const { requestorSessionCommand } = await import('./requestor-session.js');
      setExit(
        await requestorSessionCommand(
          {
            server: opts.server as string | undefined,
            url: opts.url as string | undefined,
            port: opts.port as number,
            noqr: opts.noqr === true,
            request: opts.request as string | undefined,
            fromPackage: opts.fromPackage as string | undefined,
            privkeys: opts.privkeys as string | undefined,
            schemesPath: opts.schemesPath as string | undefined,
            dataDir: opts.dataDir as string | undefined,
            authMethod: opts.authmethod as string,
            key: opts.key as string | undefined,
            name: opts.name as string | undefined,
            disclose: (opts.disclose as string[] | undefined) ?? [],
            issue: (opts.issue as string[] | undefined) ?? [],
            sign: (opts.sign as string[] | undefined) ?? [],
            message: opts.message as string | undefined,
            resultJwt: opts.resultJwt === true,
          },
          env,
          io,
        ),
      );
    });
}

export function addSchemeCommands(program: Command, env: Env, io: CliIo, setExit: SetExit): void {
  const scheme = program.command('scheme').description('make, sign, verify, download and update schemes');
  const load = () => import('./scheme.js');

  scheme
    .command('keygen')
    .description('generate an ECDSA P-256 key pair for signing a scheme (never overwrites)')
    .addOption(new Option('-s, --privatekey <file>', 'file for the private key').default('sk.pem'))
    .addOption(new Option('-p, --publickey <file>', 'file for the public key').default('pk.pem'))
    .action(async (opts: Record<string, string>) => {
      setExit(await (await load()).schemeKeygenCommand({ privateKey: opts.privatekey, publicKey: opts.publickey }, io));
    });

  scheme
    .command('sign')
    .description('sign a scheme folder: write its timestamp, index (SHA-256 of every file), index.sig and pk.pem')
    .argument('[privatekey]', 'scheme private key (default sk.pem)')
    .argument('[path]', 'scheme folder (default the working folder)')
    .addOption(new Option('-n, --noverification', 'skip verifying the scheme after signing it'))
    .action(async (privateKey: string | undefined, path: string | undefined, opts: Record<string, unknown>) => {
      setExit(await (await load()).schemeSignCommand({ privateKey, path, noVerification: opts.noverification === true }, io));
    });

  scheme
    .command('verify')
    .description('check the signatures and contents of a scheme folder, or of every scheme in an irma_configuration')
    .argument('[path]', 'scheme or irma_configuration folder (default the working folder)')
    .action(async (path: string | undefined) => {
      setExit(await (await load()).schemeVerifyCommand({ path }, io));
    });

  scheme
    .command('download')
    .description('download schemes by URL (the scheme\'s own pk.pem is trusted on first use), or without URLs the default schemes irma-demo and pbdf (with their pinned keys)')
    .argument('[args...]', '[path] [url...] as the reference, or url... [path]; path is the irma_configuration folder (default: schemes_path, else the data folder)')
    .action(async (args: string[]) => {
      setExit(await (await load()).schemeDownloadCommand(args, env, io));
    });

  scheme
    .command('update')
    .description('update a scheme, or every scheme in an irma_configuration, from its URL if a newer signed version is there')
    .argument('[path]', 'scheme or irma_configuration folder (default: schemes_path, else the data folder)')
    .action(async (path: string | undefined) => {
      setExit(await (await load()).schemeUpdateCommand({ path }, env, io));
    });

  const issuer = scheme.command('issuer').description('issuer keys');
  addIssuerKeygen(issuer.command('keygen'), io, setExit);
  addRevocationKeypairCommand(issuer, io, setExit);
}
