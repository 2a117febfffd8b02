// What `irma-server check` reports about the configured Redis: how we reach it, what it is,
// and what in its setup puts sessions at risk. A plain object, so the CLI just prints it.

import { resolveRedisOptions, type RedisMode, type RedisStoreOptions } from './redis-options.js';
import { connectBackend, type Send } from './redis-backend.js';

export interface RedisNodeDescription {
  address: string;
  role: string;
  serverVersion: string;
  /** Replicas connected to this node (INFO replication). */
  connectedReplicas: number;
}

export interface RedisDescription {
  mode: RedisMode;
  tls: boolean;
  /** ACL user the store authenticates as. */
  user: string;
  keyPrefix: string;
  encryption: boolean;
  reachable: boolean;
  /** Version of the first node that answered. */
  serverVersion?: string;
  /** Masters (the standalone server, the Sentinel's current master, or every cluster master). */
  nodes: RedisNodeDescription[];
  /** Fewest replicas any master has; a failover of that master loses unreplicated sessions. */
  replicas?: number;
  problems: string[];
}

function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

async function optional(send: Send, args: string[]): Promise<unknown> {
  // An ACL user may not be allowed these commands; then there is nothing to say.
  return send(args).catch(() => undefined);
}

/** Throws RedisConfigError for invalid options; an unreachable server is reported, not thrown. */
export async function describeRedis(options: RedisStoreOptions): Promise<RedisDescription> {
  const o = resolveRedisOptions(options);
  const description: RedisDescription = {
    mode: o.mode,
    tls: o.tls !== false,
    user: o.username ?? 'default',
    keyPrefix: o.keyPrefix,
    encryption: (options.storeEncryptionKeys ?? []).length > 0,
    reachable: false,
    nodes: [],
    problems: [],
  };
  const problems = description.problems;
  if (!description.tls) problems.push('TLS is disabled (redis_no_tls): session state crosses the network in the clear');
  if (!description.encryption) problems.push('no store_encryption_keys: session state is stored unencrypted');
  if (o.password === undefined) problems.push('no Redis password (redis_allow_empty_password)');

  let backend;
  try {
    backend = await connectBackend(o);
  } catch (err) {
    problems.push(`cannot connect: ${(err as Error).message}`);
    return description;
  }
  try {
    await backend.eachNode(async (address, send) => {
      const server = String(await send(['INFO', 'server']));
      const replication = String((await optional(send, ['INFO', 'replication'])) ?? '');
      const node: RedisNodeDescription = {
        address,
        role: field(replication, 'role') ?? 'unknown',
        serverVersion: field(server, 'redis_version') ?? 'unknown',
        connectedReplicas: Number(field(replication, 'connected_slaves') ?? 0),
      };
      description.nodes.push(node);
      if (node.role === 'slave') problems.push(`${address} is a replica: writes will fail`);

      const policy = await optional(send, ['CONFIG', 'GET', 'maxmemory-policy']);
      const maxmemory = await optional(send, ['CONFIG', 'GET', 'maxmemory']);
      // RESP3 answers CONFIG GET with a map, RESP2 with a flat [name, value] array.
      const value = (reply: unknown) =>
        Array.isArray(reply) ? String(reply[1]) : reply !== null && typeof reply === 'object' ? Object.values(reply).map(String)[0] : undefined;
      if (value(maxmemory) !== undefined && value(maxmemory) !== '0' && value(policy) !== 'noeviction') {
        problems.push(`${address} has maxmemory-policy ${value(policy)}: live sessions can be evicted`);
      }
      if (o.mode === 'standalone') {
        const enabled = field(String((await optional(send, ['INFO', 'cluster'])) ?? ''), 'cluster_enabled');
        if (enabled === '1') problems.push(`${address} is a cluster node: use redis_cluster_addrs`);
      }
      if (o.mode === 'cluster') {
        const state = field(String((await optional(send, ['CLUSTER', 'INFO'])) ?? ''), 'cluster_state');
        if (state !== undefined && state !== 'ok') problems.push(`${address} reports cluster_state:${state}`);
      }
    });
    description.reachable = true;
    description.serverVersion = description.nodes[0]?.serverVersion;
    description.replicas = Math.min(...description.nodes.map((n) => n.connectedReplicas));
    if (o.mode !== 'standalone' && description.replicas === 0) {
      problems.push('a master has no replica: its failure loses every session on it');
    }
    if (o.waitReplicas > description.replicas) {
      problems.push(`redis_wait_replicas is ${o.waitReplicas} but only ${description.replicas} replicas are connected: durable writes will fail`);
    }
  } catch (err) {
    problems.push(`Redis answered with an error: ${(err as Error).message}`);
  } finally {
    const closed = backend.close().then(() => true, () => false);
    const late = new Promise<false>((r) => setTimeout(() => r(false), o.timeoutMs).unref());
    if (!(await Promise.race([closed, late]))) backend.destroy();
  }
  return description;
}
