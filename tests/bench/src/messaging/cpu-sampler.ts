// CPU time per fleet component, read from /proc, so a missed target can be traced to the process
// that burned the cores (gateway, router, relay, Postgres, NATS, …, or this load generator).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Component {
  name: string;
  pids(): number[];
}

/** utime + stime in seconds of one process (0 once it is gone). */
function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Every process whose command name is `comm` (Postgres runs one backend per connection). */
function pidsNamed(comm: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => processName(pid) === comm);
}

function pidFromFile(path: string): number[] {
  try {
    return [Number(readFileSync(path, 'utf8').trim())];
  } catch {
    return [];
  }
}

/**
 * The components of the local fleet: the services from their pid files in `runDir`, the bench
 * gateway, this process, and the stack daemons by name.
 */
export function fleetComponents(runDir: string | undefined, benchGatewayPid: number): Component[] {
  const services = ['router', 'relay', 'directory', 'presence', 'secrets', 'gateway'];
  return [
    { name: 'bench gateway', pids: () => [benchGatewayPid] },
    ...(runDir === undefined ? [] : services.map((s) => ({ name: s === 'gateway' ? 'fleet gateway' : s, pids: () => pidFromFile(join(runDir, `${s}.pid`)) }))),
    { name: 'postgres', pids: () => pidsNamed('postgres') },
    { name: 'nats', pids: () => pidsNamed('nats-server') },
    { name: 'redis', pids: () => pidsNamed('redis-server') },
    { name: 'load generator (this process)', pids: () => [process.pid] },
  ];
}

/** CPU seconds of each component at this instant; postgres backends are matched per pid. */
export function cpuSnapshot(components: Component[]): Map<string, Map<number, number>> {
  return new Map(components.map((c) => [c.name, new Map(c.pids().map((pid) => [pid, processCpuSeconds(pid)]))]));
}

/**
 * Percent of one core each component used between two snapshots. A process that appeared in
 * between counts from zero; one that vanished is left out (its time is lost to /proc).
 */
export function cpuPercentSince(before: Map<string, Map<number, number>>, after: Map<string, Map<number, number>>, wallSeconds: number): Array<[string, number]> {
  const result: Array<[string, number]> = [];
  for (const [name, pids] of after) {
    let seconds = 0;
    for (const [pid, now] of pids) seconds += now - (before.get(name)?.get(pid) ?? 0);
    result.push([name, (seconds / wallSeconds) * 100]);
  }
  return result;
}
