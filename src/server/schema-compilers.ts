// Fastify requires ajv and fast-json-stringify (≈0.5 MB of source, 1.2 MB of heap and 3 MB of
// RSS once compiled) in every instance, to compile route schemas. This server declares none (it
// checks bodies with zod), so they are required on first use only, from Fastify's own
// dependencies, and then behave as Fastify's defaults.
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Factory = (...args: unknown[]) => unknown;

const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));

/** A compiler factory that requires the module making the real one at its first call. */
function onFirstUse(id: string): Factory {
  let factory: Factory | undefined;
  return (...args) => (factory ??= (fromFastify(id) as () => Factory)())(...args);
}

export const lazySchemaCompilers = {
  compilersFactory: {
    buildValidator: onFirstUse('@fastify/ajv-compiler'),
    buildSerializer: onFirstUse('@fastify/fast-json-stringify-compiler'),
  },
} as unknown as NonNullable<FastifyServerOptions['schemaController']>;
