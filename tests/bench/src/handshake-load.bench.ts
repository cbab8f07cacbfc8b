// Full /connect handshakes against a live gateway process, driven from this (second) process:
// XK over TLS 1.3 + HTTP/2 with the Hello checks, ZKP, Noise, directory authorization (Postgres)
// and presence registration (Redis) all on the path. Reports handshakes per second of wall time,
// per second of the gateway's own CPU (= per gateway core), and client-side p50/p99 latency.
//
// Environment (tests/bench/run.sh sets it): BENCH_GATEWAY_URL, BENCH_GATEWAY_PID, BENCH_CA,
// BENCH_DOMAIN, optional BENCH_SECONDS (10), BENCH_CONCURRENCY (32), BENCH_DEVICES (256).
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { connectClient, createDeviceIdentity, fetchServerInfo, type DeviceIdentity } from '@commucat/client';
import { benchEnv, reporter } from './support/output';

const BENCH = 'handshake';
const env = benchEnv;

const report = reporter(BENCH);

/** utime + stime of a process in seconds, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const url = env('BENCH_GATEWAY_URL');
  const pid = Number(env('BENCH_GATEWAY_PID'));
  const ca = readFileSync(env('BENCH_CA'));
  const domain = env('BENCH_DOMAIN');
  const seconds = Number(env('BENCH_SECONDS', '10'));
  const concurrency = Number(env('BENCH_CONCURRENCY', '32'));
  const deviceCount = Number(env('BENCH_DEVICES', '256'));
  const serverStatic = Buffer.from((await fetchServerInfo(url, { ca })).noise_public as string, 'hex');
  // A few TLS connections carry all the /connect streams, as a multiplexing client would.
  const sessions = Array.from({ length: 4 }, () => http2.connect(new URL(url).origin, { ca }));

  const run = (identity: DeviceIdentity, i: number) =>
    connectClient({ url, domain, serverStatic, identity, ca, session: sessions[i % sessions.length] }).then((c) => c.close());

  // Register the devices first: the timed loop measures reconnects, the steady state of a fleet.
  const devices = Array.from({ length: deviceCount }, (_, i) => createDeviceIdentity({ handle: `bench-${process.pid}-${Date.now()}-${i}` }));
  for (let i = 0; i < devices.length; i += concurrency) await Promise.all(devices.slice(i, i + concurrency).map(run));

  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const cpuStart = cpuSeconds(pid);
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(seconds) * 1_000_000_000n;
  const worker = async () => {
    while (process.hrtime.bigint() < deadline) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      try {
        await run(devices[i % devices.length]!, i);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const gatewayCpu = cpuSeconds(pid) - cpuStart;
  for (const s of sessions) s.close();

  latencies.sort((a, b) => a - b);
  report('handshakes per second (wall, whole fleet on 2 cores)', latencies.length / wall, 'hs/s');
  report('handshakes per gateway CPU-second (per core)', latencies.length / gatewayCpu, 'hs/core-s');
  report('gateway CPU utilisation', (gatewayCpu / wall) * 100, '%');
  report('latency p50', percentile(latencies, 50), 'ms');
  report('latency p99', percentile(latencies, 99), 'ms');
  report('failed handshakes', failures, 'count');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
