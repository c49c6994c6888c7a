import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const STOP_LIMIT_MS = 12_000;
const LOG_LINES_KEPT = 300;
const WARNINGS_KEPT = 5;

export type ProcKind = 'api' | 'worker' | 'bridge' | 'baseline';

export interface Proc {
  name: string;
  kind: ProcKind;
  pid: number;
  child: ChildProcess;
  logs: string[];
  /** Lines at level warn or above (pino 40+), counted over the whole life of the process. */
  warnings: number;
  /** The first few of those lines, shown at the end of the run. */
  firstWarnings: string[];
  exited: Promise<number | string>;
  alive(): boolean;
  /** Resolves with the first line (already seen or to come) that satisfies `match`. */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs: number): Promise<string>;
  /** Figures read just before the process was stopped. */
  final?: {
    peakRssMb: number;
    /** Each process of the family (a primary, then its api processes). */
    familyPeakRssMb: number[];
    cpuSeconds: number;
    exit: number | string;
  };
}

const running = new Set<Proc>();
const finished: Proc[] = [];
/** Set when the run is being torn down: a scenario still running in the background spawns nothing. */
let closing = false;

/** Every process this run started, in start order, with its final figures once stopped. */
export function allProcs(): Proc[] {
  return [...finished, ...running];
}

/** Spawns `node [flags] [--import tsx] <script>` from the repository root with exactly `env` (plus PATH). */
export function spawnNode(
  name: string,
  kind: ProcKind,
  script: string,
  env: Record<string, string>,
  ownNodeArgs: string[] = [],
) {
  if (closing) throw new Error(`${name}: not started, the run is stopping`);
  // BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) go to every process started.
  const nodeArgs = [
    ...ownNodeArgs,
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  // Compiled JavaScript runs as it is; TypeScript (the baselines) through tsx.
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.HOME && { HOME: process.env.HOME }),
      ...(process.env.TMPDIR && { TMPDIR: process.env.TMPDIR }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${script}`);
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const waiters = new Set<(line: string) => void>();
  const proc: Proc = {
    name,
    kind,
    pid: child.pid,
    child,
    logs: [],
    warnings: 0,
    firstWarnings: [],
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    waitForLine(match, what, timeoutMs) {
      const seen = proc.logs.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${name}: no ${what} within ${timeoutMs} ms\n${tail(proc)}`));
        }, timeoutMs);
        const onLine = (line: string) => {
          if (!match(line)) return;
          finish();
          resolve(line);
        };
        const onExit = (code: number | string) => {
          finish();
          reject(new Error(`${name} exited (${code}) before ${what}\n${tail(proc)}`));
        };
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(onLine);
        };
        waiters.add(onLine);
        void exited.then(onExit);
      });
    },
  };
  const onLine = (line: string) => {
    proc.logs.push(line);
    if (proc.logs.length > LOG_LINES_KEPT) proc.logs.shift();
    if (/"level":(4|5|6)\d/.test(line)) {
      proc.warnings += 1;
      if (proc.firstWarnings.length < WARNINGS_KEPT) proc.firstWarnings.push(line);
    }
    for (const waiter of [...waiters]) waiter(line);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  running.add(proc);
  return proc;
}

export function tail(proc: Proc, lines = 15): string {
  return proc.logs
    .slice(-lines)
    .map((line) => `  [${proc.name}] ${line}`)
    .join('\n');
}

/** Throws (with the last log lines) when one of `procs` has died. */
export function assertAlive(procs: Proc[]): void {
  for (const proc of procs) {
    if (!proc.alive()) throw new Error(`${proc.name} died during the scenario\n${tail(proc)}`);
  }
}

/** The direct children of a process (e.g. the api processes an API_PROCESSES primary forks). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Peak resident set (VmHWM) and current RSS of a live process, in MB. */
export function memoryMb(pid: number): { peakRssMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/**
 * Stops a process with SIGTERM (SIGKILL after 12 s), recording its peak RSS and CPU time first.
 * Safe to call twice.
 */
export async function stop(proc: Proc): Promise<void> {
  if (!running.has(proc)) return;
  running.delete(proc);
  finished.push(proc);
  let peakRssMb = Number.NaN;
  let familyPeakRssMb: number[] = [];
  let cpuSeconds = Number.NaN;
  if (proc.alive()) {
    try {
      // A primary with api processes: the largest of them, and the CPU of all.
      const family = [proc.pid, ...childPids(proc.pid)];
      familyPeakRssMb = family.map((pid) => Math.round(memoryMb(pid).peakRssMb));
      peakRssMb = Math.max(...familyPeakRssMb);
      cpuSeconds = family.reduce((sum, pid) => sum + cpuTicks(pid), 0) / CLOCK_TICKS;
    } catch {
      // It exited between the check and the read.
    }
    proc.child.kill('SIGTERM');
  }
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    proc.exited,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_LIMIT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (exit === 'timeout') {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  proc.final = {
    peakRssMb,
    familyPeakRssMb,
    cpuSeconds,
    exit: exit === 'timeout' ? 'SIGKILL' : exit,
  };
}

export async function stopAll(procs: Proc[] = [...running]): Promise<void> {
  await Promise.all(procs.map((proc) => stop(proc)));
}

/** Refuses any further spawn, then stops every process still running. */
export async function shutdownAll(): Promise<void> {
  closing = true;
  await stopAll();
}

/** A TCP port free on loopback right now (for a process that cannot report the one it got). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc, to say which process limits a scenario.

export const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux x86_64

/** utime + stime of a process, in clock ticks. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
