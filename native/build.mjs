// `npm install` runs this (package.json "install"): builds the optional native accelerator with
// the node-gyp that npm bundles, against the headers of the running Node (which include
// OpenSSL's), so no download and no libssl-dev are needed. A failed build is not an error:
// src/idemix then uses its node:crypto path, which gives the same results, only slower.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function skip(why) {
  console.warn(`idemix native accelerator not built (${why}); using the node:crypto path`);
  process.exit(0);
}

if (process.env.IRMA_NATIVE === '0') skip('IRMA_NATIVE=0');

// Headers beside the node binary (Debian/NodeSource: /usr/include/node; official tarballs:
// <prefix>/include/node) spare node-gyp a download this machine may not be allowed to make.
function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}

const gyp = nodeGyp();
if (gyp === undefined) skip('node-gyp not found');
const dir = nodedir();
const args = [gyp, 'rebuild', ...(dir ? [`--nodedir=${dir}`] : [])];
const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', timeout: 300_000 });
if (run.status !== 0) skip(run.error ? run.error.message : `node-gyp exited with ${run.status ?? run.signal}`);
console.log('idemix native accelerator built: build/Release/idemix_native.node');
