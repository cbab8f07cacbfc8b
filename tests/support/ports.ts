import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// Ports the OS hands out for bind(0) come from the ephemeral range, which outgoing connections
// also draw from: one picked now may be taken by a client socket before the test process binds
// it. So test ports come from below that range, and each is handed out once per test run.
const handedOut = new Set<number>();

function ephemeralFloor(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && low > 12_000) return low;
  } catch {
    // not Linux: fall back to the IANA dynamic range's start
  }
  return 32_768;
}

const FLOOR = 10_000;
// Ports WHATWG fetch refuses ("bad port"); the only one in our range. A fleet's /readyz on it
// could never be polled.
const FETCH_BLOCKED = new Set([10_080]);
const CEILING = ephemeralFloor() - 1;

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port that is free now and outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FLOOR + Math.floor(Math.random() * (CEILING - FLOOR));
    if (handedOut.has(port) || FETCH_BLOCKED.has(port)) continue;
    handedOut.add(port);
    if (await canBind(port)) return port;
  }
  throw new Error('no free loopback port found below the ephemeral range');
}
