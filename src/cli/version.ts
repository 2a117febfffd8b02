// The program's version, read from the package.json shipped beside src/ and dist/ (both are one
// folder below it), so the published version and the one printed can never disagree.
import { readFileSync } from 'node:fs';
import { arch, platform } from 'node:process';

interface PackageJson {
  name: string;
  version: string;
}

function packageJson(): PackageJson {
  return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageJson;
}

export function programVersion(): string {
  return packageJson().version;
}

/** What `irma-server version` prints: the reference's layout (title, version, platform), plus Node.js. */
export function versionReport(): string {
  const { name, version } = packageJson();
  return [
    `irma-server (${name}) v${version}: IRMA server, wire-compatible with irmago's irma server`,
    '',
    `Version:  ${version}`,
    `OS/Arch:  ${platform}/${arch}`,
    `Node.js:  ${process.version}`,
    '',
  ].join('\n');
}
