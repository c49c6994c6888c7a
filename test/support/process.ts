import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  /** Set once the api role logged the port it listens on. */
  baseUrl?: string;
  logs: string[];
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs the real program (`src/main.ts`) as its own OS process, as a deployment would, and waits until
 * it says it has started.
 */
export async function startService(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const service: ServiceProcess = {
    child,
    logs: [],
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  const started = new Promise<void>((resolve, reject) => {
    const onLine = (line: string) => {
      service.logs.push(line);
      if (service.logs.length > 2000) service.logs.shift();
      if (line.includes('"api listening"')) {
        service.baseUrl = `http://127.0.0.1:${JSON.parse(line).port}`;
      }
      if (line.includes('"msg":"started"')) resolve();
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then((code) =>
      reject(
        new Error(
          `service exited (${code}) before starting:\n${service.logs.slice(-20).join('\n')}`,
        ),
      ),
    );
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`service did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([started, timeout]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return service;
}

/** Runs the program to its end (for start-up failures) and returns its exit code and output. */
export async function runToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const [code] = await once(child, 'exit');
  return { code, output };
}

export function serviceEnv(urls: {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
}) {
  return {
    DATABASE_URL: urls.databaseUrl,
    REDIS_URL: urls.redisUrl,
    KAFKA_BROKERS: urls.kafkaBrokers.join(','),
  };
}

/**
 * Worker processes of a test file, as a deployment runs them: `start()` runs one more with the
 * stack's environment (a short job lock, so a killed worker's jobs are taken over quickly);
 * `stopAll()` (after each test) stops every one still running.
 */
export function workerProcesses(envVars: () => Record<string, string>) {
  const running: ServiceProcess[] = [];
  return {
    async start() {
      const service = await startService({
        ...envVars(),
        ROLES: 'worker',
        JOB_LOCK_MS: '2000',
        LOG_LEVEL: 'info',
      });
      running.push(service);
      return service;
    },
    stopAll: () => Promise.all(running.splice(0).map((worker) => worker.stop('SIGTERM'))),
  };
}
