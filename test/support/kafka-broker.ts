import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A broker of the test's own (scripts/kafka.sh in its own folder and ports), to stop and restart. */
export async function secondBroker() {
  const home = join(ROOT, '.local', `kafka-test-${randomUUID().slice(0, 8)}`);
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const env = {
    ...process.env,
    KAFKA_HOME_DIR: home,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
  };
  const run = async (command: 'start' | 'stop') => {
    const child = spawn('scripts/kafka.sh', [command], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`scripts/kafka.sh ${command} exited ${code}:\n${output}`);
  };
  return {
    address: `127.0.0.1:${port}`,
    run,
    async remove() {
      try {
        await run('stop');
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    },
  };
}
