// Federation throughput and latency with two whole fleets (a.test, b.test) on this machine:
// sender device on A → A's gateway → A's router → A's outbox (Postgres) → HTTPS POST to B's
// gateway /federation/events → B's federation (checks, directory friend check) → B's router
// notice queue → B's gateway → device on B. Both ends live in this process, so a message's send
// time (written into its text) and its receipt are read on the same clock.
//
// Figures (bench "federation"):
//   latency_p50_ms / latency_p99_ms      one target, open loop at BENCH_FED_LATENCY_RATE msg/s
//                                         (10) for BENCH_FED_LATENCY_SECONDS (10): the unqueued
//                                         latency (this box delivers only a few tens of events/s,
//                                         so 50 msg/s would measure the queue, not the path);
//   one_target_events_per_s              BENCH_FED_MESSAGES messages to one device on B,
//                                         pipelined, first send → last receipt at B;
//   one_target_latency_p50/p99_ms        the latency of those (includes queueing in the outbox);
//   fanout_events_per_s                  BENCH_FED_FANOUT_MESSAGES (100) messages to a channel of
//                                         BENCH_FED_FANOUT_DEVICES (16) devices on B, deliveries/s at B;
//   fanout_latency_p99_ms                their latency (queueing included);
//   *_fleet_cpu_ms_per_event             CPU time of both fleets' service processes (not Postgres,
//                                         NATS or this process) per delivered event: what the rate
//                                         is bound by when the machine's cores are busy.
//
// The sender keeps at most BENCH_FED_WINDOW frames unacknowledged by A (Acks counted by sequence)
// and never exceeds BENCH_FED_SEND_RATE frames/s: A's gateway drops a connection's frames above
// its per-connection limit (COMMUCAT_RATE_FRAME_RATE, 200/s by default), and this bench measures
// federation with the fleets' default settings. Lines are appended to $BENCH_OUT (run.sh tabulates
// them) and echoed on stderr. The only assertions: every message reaches every target exactly once.
import { appendFileSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameType, type Frame } from '@commucat/ccp1';
import type { ClientConnection } from '@commucat/client';
import { Peer, control, freshChannel, text } from '../../support/conversation';
import { startFederatedPair, type FederatedPair } from '../../support/federated-pair';
import { connectTo, newIdentity } from '../../support/fleet-client';
import type { TestFleet } from '../../support/fleet';
import { rest, type RestReply } from '../../support/rest-client';

jest.setTimeout(300_000);

const BENCH = 'federation';
const setting = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const LATENCY_RATE = setting('BENCH_FED_LATENCY_RATE', 10);
const LATENCY_SECONDS = setting('BENCH_FED_LATENCY_SECONDS', 10);
const MESSAGES = setting('BENCH_FED_MESSAGES', 1000);
const FANOUT_DEVICES = setting('BENCH_FED_FANOUT_DEVICES', 16);
const FANOUT_MESSAGES = setting('BENCH_FED_FANOUT_MESSAGES', 100);
const WINDOW = setting('BENCH_FED_WINDOW', 200);
const SEND_RATE = setting('BENCH_FED_SEND_RATE', 180);
/** A phase fails (not slow: stuck) when no delivery arrived for this long. */
const STALL_MS = 60_000;

function report(metric: string, value: number, unit: string): void {
  const line = JSON.stringify({ bench: BENCH, metric, value: Math.round(value * 100) / 100, unit });
  process.stderr.write(`${line}\n`);
  if (process.env.BENCH_OUT) appendFileSync(process.env.BENCH_OUT, `${line}\n`);
}
const progress = (what: string): void => void process.stderr.write(`  federation: ${what}\n`);

const nowNs = (): bigint => process.hrtime.bigint();
const msBetween = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

// ---- users, friendships and channels, the way tests/integration/federation.test.ts does it ----

interface Member {
  fleet: TestFleet;
  peer: Peer;
  conn: ClientConnection;
  federatedId: string;
  federatedDevice: string;
}

async function member(fleet: TestFleet, prefix: string): Promise<Member> {
  const identity = newIdentity(prefix);
  const conn = await connectTo(fleet, identity);
  return { fleet, conn, peer: new Peer(conn, identity), federatedId: `${identity.handle!}@${fleet.domain}`, federatedDevice: `${identity.deviceId}@${fleet.domain}` };
}

const api = (m: Member, method: string, path: string): Promise<RestReply> => rest(m.fleet, method, path, { token: m.conn.session });

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function befriend(asker: Member, answerer: Member): Promise<void> {
  const asked = await api(asker, 'POST', `/api/friends/requests/${encodeURIComponent(answerer.federatedId)}`);
  expect(asked.status).toBe(202);
  await eventually('the request at b', async () => {
    const list = await api(answerer, 'GET', '/api/friends/requests');
    return list.json.incoming.find((r: { from_user_id: string }) => r.from_user_id === asker.federatedId);
  });
  expect((await api(answerer, 'POST', `/api/friends/requests/${encodeURIComponent(asker.federatedId)}/accept`)).status).toBe(200);
  await eventually('the answer at a', async () => {
    const list = await api(asker, 'GET', '/api/friends/requests');
    const mine = list.json.outgoing.find((r: { to_user_id: string }) => r.to_user_id === answerer.federatedId);
    return mine?.status === 'accepted' ? mine : undefined;
  });
}

async function join(me: Member, members: string[]): Promise<number> {
  const channel = freshChannel();
  await joinAs(me, channel, members);
  return channel;
}

async function joinAs(me: Member, channel: number, members: string[]): Promise<void> {
  const { answer } = await me.peer.request(FrameType.Join, channel, { members: [me.peer.deviceId, ...members], relay: true });
  expect(answer.type).toBe(FrameType.Ack);
}

async function inBatches<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
}

// ---- measuring ----

/** utime + stime of a process in ms (Linux /proc; the kernel counts in 10 ms ticks). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time used by every service process of both fleets, by `a.router`-style name. */
function fleetCpu(pair: FederatedPair): Map<string, number> {
  const used = new Map<string, number>();
  for (const fleet of [pair.a, pair.b]) {
    for (const name of fleet.processNames()) used.set(`${fleet.domain[0]}.${name}`, cpuMsOf(fleet.pidOf(name)!));
  }
  return used;
}

/** Total fleet CPU ms per event between two snapshots, and the biggest users for the progress line. */
function cpuPerEvent(before: Map<string, number>, after: Map<string, number>, events: number): { total: number; top: string } {
  const per = [...after].map(([name, ms]) => [name, (ms - (before.get(name) ?? ms)) / events] as const).sort((x, y) => y[1] - x[1]);
  return { total: per.reduce((sum, [, ms]) => sum + ms, 0), top: per.slice(0, 8).map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(', ') };
}

/** One measured run: which deliveries are expected, which arrived (how often), and when. */
class Phase {
  readonly firstSend = nowNs();
  lastReceipt = this.firstSend;
  lastProgress = Date.now();
  readonly latenciesMs: number[] = [];
  /** `${device}|${index}` → times received. */
  readonly seen = new Map<string, number>();
  duplicates = 0;
  /** Fleet CPU per delivered event over the run (set when it completes). */
  cpu: { total: number; top: string } | undefined;

  constructor(readonly name: string, readonly targets: string[], readonly messages: number) {}

  get expected(): number {
    return this.targets.length * this.messages;
  }

  record(device: string, index: number, sentNs: bigint, at: bigint): void {
    const key = `${device}|${index}`;
    const times = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, times);
    if (times > 1) {
      this.duplicates += 1;
      return;
    }
    this.latenciesMs.push(msBetween(sentNs, at));
    this.lastReceipt = at;
    this.lastProgress = Date.now();
  }

  /** Resolves once every expected delivery arrived; rejects if deliveries stop coming. */
  async complete(): Promise<void> {
    while (this.seen.size < this.expected) {
      if (Date.now() - this.lastProgress > STALL_MS) throw new Error(`${this.name}: ${this.seen.size}/${this.expected} delivered, none for ${STALL_MS} ms`);
      await sleep(20);
    }
  }

  /** Every (target, message) pair exactly once. */
  expectExactlyOnce(): void {
    const missing: string[] = [];
    for (const device of this.targets) for (let i = 0; i < this.messages; i++) if (this.seen.get(`${device}|${i}`) !== 1) missing.push(`${device}|${i}=${this.seen.get(`${device}|${i}`) ?? 0}`);
    expect({ phase: this.name, notExactlyOnce: missing.slice(0, 10), duplicates: this.duplicates }).toEqual({ phase: this.name, notExactlyOnce: [], duplicates: 0 });
  }

  eventsPerSecond(): number {
    return this.seen.size / (msBetween(this.firstSend, this.lastReceipt) / 1000);
  }
}

const phases = new Map<string, Phase>();
const strays: string[] = [];

/** Message text: phase, index and send time, so the receiver needs no shared table. */
const messageText = (phase: string, index: number): string => `fedbench|${phase}|${index}|${nowNs()}`;

/** Reads a B device's frames for the whole run, recording every bench message. */
async function receiveAll(device: Member): Promise<void> {
  for await (const frame of device.conn.frames()) {
    const at = nowNs();
    if (frame.type !== FrameType.Msg) continue;
    const [tag, phaseName, index, sent] = text(frame).split('|');
    const phase = tag === 'fedbench' ? phases.get(phaseName!) : undefined;
    if (!phase) {
      strays.push(text(frame).slice(0, 80));
      continue;
    }
    phase.record(device.peer.deviceId, Number(index), BigInt(sent!), at);
  }
}

/**
 * The sending device: at most WINDOW frames unacknowledged (matched by sequence) and at most
 * SEND_RATE frames/s, without waiting for each Ack.
 */
class Sender {
  private readonly unacked = new Set<number>();
  private readonly errors: string[] = [];
  private nextSlotNs = nowNs();
  private readonly intervalNs = BigInt(Math.round(1e9 / SEND_RATE));

  constructor(private readonly m: Member) {
    void this.readAnswers();
  }

  private async readAnswers(): Promise<void> {
    for await (const frame of this.m.conn.frames()) this.onAnswer(frame);
  }

  private onAnswer(frame: Frame): void {
    if (frame.type === FrameType.Ack) this.unacked.delete(Number(control(frame).ack));
    else if (frame.type === FrameType.Error) this.errors.push(JSON.stringify(control(frame)));
  }

  async send(channel: number, phase: string, index: number): Promise<void> {
    while (this.unacked.size >= WINDOW) await sleep(1);
    const waitNs = this.nextSlotNs - nowNs();
    if (waitNs > 0n) await sleep(Number(waitNs / 1_000_000n));
    this.nextSlotNs = (this.nextSlotNs > nowNs() ? this.nextSlotNs : nowNs()) + this.intervalNs;
    const sequence = this.m.conn.sendOpaque(FrameType.Msg, channel, Buffer.from(messageText(phase, index)));
    this.unacked.add(sequence);
  }

  /** Every frame sent was acknowledged by A and none refused. */
  async settled(): Promise<void> {
    await eventually('the sender Acks', async () => (this.unacked.size === 0 || this.errors.length > 0 ? true : undefined), STALL_MS);
    expect(this.errors).toEqual([]);
  }
}

describe('federation benchmark (a.test → b.test on this machine)', () => {
  let pair: FederatedPair;
  let alice: Member;
  let bob: Member;
  let fans: Member[] = [];
  let sender: Sender;
  let oneTargetChannel: number;
  let fanoutChannel: number;

  beforeAll(async () => {
    const started = Date.now();
    pair = await startFederatedPair();
    alice = await member(pair.a, 'fb-alice');
    bob = await member(pair.b, 'fb-bob');
    fans = await Promise.all(Array.from({ length: FANOUT_DEVICES }, (_, i) => member(pair.b, `fb-fan${i}`)));
    await inBatches([bob, ...fans], 4, (b) => befriend(alice, b));
    oneTargetChannel = await join(alice, [bob.federatedDevice]);
    await joinAs(bob, oneTargetChannel, [alice.federatedDevice]);
    fanoutChannel = await join(alice, fans.map((f) => f.federatedDevice));
    for (const f of fans) await joinAs(f, fanoutChannel, [alice.federatedDevice]);
    // From here on each connection has exactly one reader.
    for (const b of [bob, ...fans]) void receiveAll(b);
    sender = new Sender(alice);
    progress(`two fleets, ${1 + fans.length} friendships and channels ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    await Promise.allSettled([alice, bob, ...fans].filter(Boolean).map((m) => m.conn.close()));
    await pair?.stop();
  });

  async function run(name: string, channel: number, targets: Member[], messages: number, pace: (index: number) => Promise<void>): Promise<Phase> {
    const phase = new Phase(name, targets.map((t) => t.peer.deviceId), messages);
    phases.set(name, phase);
    const cpuBefore = fleetCpu(pair);
    for (let i = 0; i < messages; i++) {
      await pace(i);
      await sender.send(channel, name, i);
    }
    await phase.complete();
    phase.cpu = cpuPerEvent(cpuBefore, fleetCpu(pair), phase.expected);
    await sender.settled();
    phase.expectExactlyOnce();
    return phase;
  }

  const elapsed = (phase: Phase): string => `${(msBetween(phase.firstSend, phase.lastReceipt) / 1000).toFixed(1)} s`;
  const cpuLine = (phase: Phase): string => `fleet CPU ${phase.cpu!.total.toFixed(1)} ms/event (${phase.cpu!.top})`;

  test('latency at a modest offered rate, one target', async () => {
    const messages = Math.round(LATENCY_RATE * LATENCY_SECONDS);
    const start = Date.now();
    // Open loop: message i is due at start + i / rate, whenever the previous ones arrive.
    const phase = await run('latency', oneTargetChannel, [bob], messages, async (i) => {
      const due = start + (i * 1000) / LATENCY_RATE;
      if (due > Date.now()) await sleep(due - Date.now());
    });
    progress(`latency: ${messages} messages at ${LATENCY_RATE}/s; ${cpuLine(phase)}`);
    report('latency_offered_rate', LATENCY_RATE, 'msg/s');
    report('latency_p50_ms', percentile(phase.latenciesMs, 50), 'ms');
    report('latency_p99_ms', percentile(phase.latenciesMs, 99), 'ms');
  });

  test('throughput to one target, pipelined', async () => {
    const phase = await run('one', oneTargetChannel, [bob], MESSAGES, async () => {});
    progress(`one target: ${MESSAGES} messages in ${elapsed(phase)}; ${cpuLine(phase)}`);
    report('one_target_events_per_s', phase.eventsPerSecond(), 'events/s');
    report('one_target_latency_p50_ms', percentile(phase.latenciesMs, 50), 'ms');
    report('one_target_latency_p99_ms', percentile(phase.latenciesMs, 99), 'ms');
    report('one_target_fleet_cpu_ms_per_event', phase.cpu!.total, 'ms');
  });

  test(`fan-out to ${FANOUT_DEVICES} devices on B`, async () => {
    const phase = await run('fanout', fanoutChannel, fans, FANOUT_MESSAGES, async () => {});
    progress(`fan-out: ${phase.expected} deliveries in ${elapsed(phase)}; ${cpuLine(phase)}`);
    report('fanout_events_per_s', phase.eventsPerSecond(), 'events/s');
    report('fanout_latency_p99_ms', percentile(phase.latenciesMs, 99), 'ms');
    report('fanout_fleet_cpu_ms_per_event', phase.cpu!.total, 'ms');
  });

  test('nothing arrived twice or unasked after the runs', async () => {
    // One more message per target: delivery is ordered per target, so a late duplicate of an
    // earlier message would arrive before it.
    await run('marker-one', oneTargetChannel, [bob], 1, async () => {});
    await run('marker-fanout', fanoutChannel, fans, 1, async () => {});
    for (const phase of phases.values()) phase.expectExactlyOnce();
    expect(strays).toEqual([]);
  });
});
