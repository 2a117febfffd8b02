// Worker thread for native.test.ts: loads src/idemix the way the crypto workers do (through
// tsx) and reports whether the native path is active there and what it computes.
import { register } from 'tsx/esm/api';
import { parentPort, workerData } from 'node:worker_threads';

register();
const { nativeAcceleration, powProduct, registerFixedBases } = await import('../../src/idemix/modexp.ts');
const n = BigInt(workerData.n);
registerFixedBases(n, workerData.fixed.map(BigInt));
const terms = workerData.terms.map(([b, e]) => [BigInt(b), BigInt(e)]);
const results = [];
for (let i = 0; i < 20; i++) results.push(powProduct(n, terms).toString());
parentPort.postMessage({ native: nativeAcceleration(), results });
