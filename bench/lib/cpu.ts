import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { CLOCK_TICKS, childPids, cpuTicks, type Proc } from './proc.js';

/** A named set of processes whose CPU time is summed (e.g. every PostgreSQL backend). */
export interface CpuProbe {
  name: string;
  pids(): number[];
}

const MAX_PIDS_SCANNED = 100_000;

function numericDirs(path: string): number[] {
  try {
    return readdirSync(path)
      .filter((entry) => /^\d+$/.test(entry))
      .slice(0, MAX_PIDS_SCANNED)
      .map(Number);
  } catch {
    return [];
  }
}

/** Pids whose command name (`/proc/<pid>/comm`) is `comm`. */
export function pidsByComm(comm: string): number[] {
  return numericDirs('/proc').filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
    } catch {
      return false;
    }
  });
}

/** The pid listening on a loopback/any TCP port (e.g. the Kafka broker on 9092), if visible. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is cols[1] ("0100007F:2384"), state cols[3] (0A = LISTEN), inode cols[9]
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of numericDirs('/proc')) {
    for (const fd of numericDirs(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return pid;
      } catch {
        // gone or not ours to read
      }
    }
  }
  return undefined;
}

function ticksOf(pids: number[]): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    try {
      ticks.set(pid, cpuTicks(pid));
    } catch {
      // exited
    }
  }
  return ticks;
}

/** Busy ticks of the whole machine (all CPUs), from the first line of /proc/stat. */
function machineBusyTicks(): number {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice: guest time is inside user.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return user + nice + system + irq + softirq + steal;
}

/** A started process with its children. */
export function procProbe(proc: Proc): CpuProbe {
  return { name: proc.name, pids: () => (proc.alive() ? [proc.pid, ...childPids(proc.pid)] : []) };
}

/**
 * Measures the CPU each probe used between `startCpu()` and `end()`, as a percentage of one core
 * (200 % = both cores of this machine). Processes that start and exit inside the window are missed.
 */
export function startCpu(probes: CpuProbe[]): { end(): Record<string, number> } {
  const started = performance.now();
  const before = probes.map((probe) => ticksOf(probe.pids()));
  const selfBefore = process.cpuUsage();
  const machineBefore = machineBusyTicks();
  return {
    end() {
      const seconds = (performance.now() - started) / 1000;
      const result: Record<string, number> = {};
      probes.forEach((probe, i) => {
        const after = ticksOf(probe.pids());
        let used = 0;
        for (const [pid, ticks] of after) used += ticks - (before[i]!.get(pid) ?? 0);
        result[probe.name] = round((used / CLOCK_TICKS / seconds) * 100, 0);
      });
      const self = process.cpuUsage(selfBefore);
      result['bench (load generator)'] = round(
        ((self.user + self.system) / 1e6 / seconds) * 100,
        0,
      );
      const listed = Object.values(result).reduce((sum, value) => sum + value, 0);
      const machine = round(
        ((machineBusyTicks() - machineBefore) / CLOCK_TICKS / seconds) * 100,
        0,
      );
      // What else ran on the machine meanwhile (another test run, the kernel): the noise figure.
      result['not listed (other processes)'] = Math.max(0, machine - listed);
      result['machine busy (of 200)'] = machine;
      return result;
    },
  };
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
