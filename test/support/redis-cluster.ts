import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Certificates, makeCertificates, tlsServerArgs } from './tls-redis.js';

const run = promisify(execFile);

/** A tool the cluster tests cannot run without: its absence fails them with one clear line. */
function requireTool(name: string): string {
  try {
    return execFileSync(name, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch {
    throw new Error(
      `${name} is needed for the Redis Cluster tests (Debian's redis-server package)`,
    );
  }
}

/** Free loopback ports, all held until every one is picked so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      servers.push(server);
    }
    return servers.map((server) => {
      const address = server.address();
      if (!address || typeof address === 'string') throw new Error('no free port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export interface RedisCluster {
  /** `127.0.0.1:<port>` of each master. */
  nodes: string[];
  /** The CA and server certificate when the cluster speaks TLS only. */
  certificates?: Certificates;
  /** Runs redis-cli against one node (`host:port`). */
  cli(node: string, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A three-master Redis Cluster of Debian's `redis-server` on free loopback ports (client and bus
 * ports both picked), in a temp dir of its own, without persistence; `redis-cli --cluster create`
 * assigns the slots. Resolves once every node reports `cluster_state:ok`. With `tls`, clients and
 * the cluster bus speak TLS only, with certificates made for it by openssl.
 */
export async function startRedisCluster(
  options: { masters?: number; tls?: boolean } = {},
): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const version = requireTool('redis-server');
  requireTool('redis-cli');
  if (Number(/v=(\d+)/.exec(version)?.[1] ?? 0) < 7) {
    throw new Error(`redis-server 7 or later is needed (cluster-port), found: ${version.trim()}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'coupon-redis-cluster-'));
  const ports = await freePorts(masters * 2);
  const certificates = options.tls ? makeCertificates(dir) : undefined;
  const tlsArgs = certificates ? [...tlsServerArgs(certificates), '--tls-cluster', 'yes'] : [];
  const cliTls = certificates ? ['--tls', '--cacert', certificates.caFile] : [];
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  const nodes: string[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const port = ports[i] as number;
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const child = spawn(
        'redis-server',
        [
          ...(certificates
            ? ['--port', '0', '--tls-port', String(port), ...tlsArgs]
            : ['--port', String(port)]),
          '--cluster-port',
          String(ports[masters + i]),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(nodeDir, 'nodes.conf'),
          '--cluster-node-timeout',
          '5000',
          '--save',
          '',
          // As the service requires of a Redis it accepts work on (REDIS_DURABILITY).
          '--appendonly',
          'yes',
          '--maxmemory-policy',
          'noeviction',
          '--dir',
          nodeDir,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout?.on('data', (chunk) => output.push(`${port}: ${chunk}`));
      child.stderr?.on('data', (chunk) => output.push(`${port}: ${chunk}`));
      children.push(child);
      nodes.push(`127.0.0.1:${port}`);
    }
    const cli = async (node: string, ...args: string[]) => {
      const [host, port] = node.split(':') as [string, string];
      const { stdout } = await run('redis-cli', [...cliTls, '-h', host, '-p', port, ...args]);
      return stdout;
    };
    await until('every node answers PING', async () => {
      const answers = await Promise.all(nodes.map((node) => cli(node, 'ping').catch(() => '')));
      return answers.every((answer) => answer.trim() === 'PONG');
    });
    await run('redis-cli', [
      ...cliTls,
      '--cluster',
      'create',
      ...nodes,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await until('cluster_state:ok on every node', async () => {
      const infos = await Promise.all(nodes.map((node) => cli(node, 'cluster', 'info')));
      return infos.every((info) => info.includes('cluster_state:ok'));
    });
    return { nodes, ...(certificates && { certificates }), cli, stop };
  } catch (error) {
    await stop();
    throw new Error(
      `the Redis Cluster did not start: ${(error as Error).message}\n${output.join('').slice(-2000)}`,
    );
  }
}

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
