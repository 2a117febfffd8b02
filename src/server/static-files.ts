// `static_path` / `static_prefix`: a folder served as plain files under a URL prefix on the main
// listener, as the reference's file hosting does (index.html for a folder, no listings, no dotfiles).
import type { FastifyInstance } from 'fastify';
import type { ServerOptions } from './options.js';

export function registerStaticFiles(app: FastifyInstance, options: Pick<ServerOptions, 'staticPath' | 'staticPrefix'>): void {
  if (options.staticPath === '') return;
  // Loaded only when a folder is served: ~1 MB of heap every other server would carry idle.
  app.register(import('@fastify/static'), {
    root: options.staticPath,
    prefix: options.staticPrefix,
    // The router ignores trailing slashes, under which the plugin's redirects of a folder to its
    // slashed form would loop at the prefix itself; the prefix's own index is routed below.
    redirect: false,
    list: false,
    dotfiles: 'ignore',
    // A missing file falls through to the server's own 404 handler.
    wildcard: true,
  });
  const root = options.staticPrefix.replace(/\/+$/, '');
  if (root !== '') app.register(async (scope) => scope.get(root, (_request, reply) => reply.sendFile('index.html')));
}
